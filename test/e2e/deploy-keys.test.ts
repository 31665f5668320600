/**
 * `otopi deploy` checks the keys of the command line and the inventory against the groups it
 * deploys before it connects to any host. The "host" is a TCP listener that counts the
 * connections it gets: a refused key must leave it at zero.
 */
import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, tempDir } from './helpers.js';

let server: Server;
let port = 0;
let connections = 0;

beforeAll(async () => {
  server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function inventory(dir: string, ...hostLines: string[]): string {
  const file = join(dir, 'hosts.ini');
  writeFileSync(
    file,
    [
      '[defaults]',
      'user = root',
      'password = not-used',
      'fingerprint = SHA256:nyy4aw4uErD4+bTG3Q9CfVsy8skLJpffLdWMgett6j8',
      'engine_fqdn = engine.example.org',
      '',
      '[host h1]',
      'address = 127.0.0.1',
      `port = ${port}`,
      ...hostLines,
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o600);
  return file;
}

/** Runs `otopi deploy` without blocking this process, so the listener can accept meanwhile. */
function deploy(dir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'deploy', '--log-dir', join(dir, 'logs'), '--connect-timeout', '5', '--progress', 'plain', ...args],
      { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('otopi deploy: keys are checked before any host is contacted', () => {
  it('refuses a likely typo in the inventory with "did you mean", exit 2, without connecting', async () => {
    const dir = tempDir();
    const before = connections;
    const r = await deploy(
      dir,
      '-i',
      inventory(dir, 'VDSM/engineHots = str:engine.example.org'),
      '--group',
      'host-deploy',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('otopi deploy: SETTING_UNKNOWN_KEY: unknown environment key in the inventory');
    expect(r.stderr).toContain('hosts.ini:10: VDSM/engineHots: did you mean VDSM/engineHost?');
    expect(connections).toBe(before);
  });

  it('refuses a likely typo and a value of the wrong type on the command line, exit 64, without connecting', async () => {
    const dir = tempDir();
    const before = connections;
    const r = await deploy(
      dir,
      '-i',
      inventory(dir),
      '--group',
      'host-deploy',
      'VDSM/engineHots=str:engine.example.org',
      'VDSM/enginePort=str:https',
    );
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('argument[0]: VDSM/engineHots: did you mean VDSM/engineHost?');
    expect(r.stderr).toContain('argument[1]: VDSM/enginePort: a str value does not fit int');
    expect(connections).toBe(before);
  });

  it('with --strict-keys, refuses any key of a deployed namespace that no group declares, without connecting', async () => {
    const dir = tempDir();
    const before = connections;
    const r = await deploy(
      dir,
      '-i',
      inventory(dir),
      '--group',
      'host-deploy',
      '--strict-keys',
      'VDSM/zzzNewerKey=str:x',
    );
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('argument[0]: VDSM/zzzNewerKey: no deployed group declares it; the closest is VDSM/');
    expect(connections).toBe(before);
  });

  it('passes a key of a namespace no deployed group owns on to the host (and so connects)', async () => {
    const dir = tempDir();
    const before = connections;
    // Without host-deploy, VDSM/ is nobody's namespace; OVESETUP_* never is.
    const r = await deploy(dir, '-i', inventory(dir, 'OVESETUP_CORE/engineStop = none:None'), 'VDSM/engineHots=str:x');
    expect(r.stderr).not.toContain('SETTING_');
    expect(r.code).toBe(1); // the listener is no SSH server
    expect(r.stdout).toContain('h1: FAILED at SSH connection');
    expect(connections).toBe(before + 1);
  });
});
