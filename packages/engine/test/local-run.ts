/** The built CLI run locally in the machine dialect, as a dialog channel for the driver's tests. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { DialogChannel } from '../src/dialog/driver.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(ROOT, 'packages/cli/dist/otopi.js');

/** Runs the built CLI in the machine dialect with the `dialogs` fixture group. */
export function localRun(extra: string[]): {
  channel: DialogChannel;
  exit: Promise<number | null>;
  stderr: () => string;
  dir: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'otopi-driver-'));
  const child = spawn(
    process.execPath,
    [
      CLI,
      'DIALOG/dialect=str:machine',
      'DIALOG/customization=bool:True',
      `BASE/pluginPath=str:${join(ROOT, 'plugins')}:${join(ROOT, 'test/e2e/fixtures/plugins')}`,
      'APPEND:BASE/pluginGroups=str:dialogs',
      ...extra,
    ],
    {
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        OTOPI_CONFIG: join(dir, 'none.conf'),
        OTOPI_LOGDIR: dir,
        OTOPI_STATEDIR: join(dir, 'st'),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const channel: DialogChannel = {
    lines: createInterface({ input: child.stdout }),
    send: (line) => child.stdin.write(`${line}\n`),
    end: () => child.stdin.end(),
  };
  return { channel, exit: new Promise((r) => child.on('exit', r)), stderr: () => stderr, dir };
}
