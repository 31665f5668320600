// A dry run by hand (`otopi --dry-run`) shows the unified diff of each file it would change;
// on a terminal in colour (added lines green, removed red, headers bold), through a real
// pseudo-terminal (`script`); through a pipe as plain text. Text from the file is escaped
// before it is coloured, so a file cannot drive the terminal. Nothing is written.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, demoArgs, runCli, tempDir } from './helpers.js';

function setUp(): { dir: string; file: string; args: string[] } {
  const dir = tempDir('otopi-dry-run-');
  const file = join(dir, 'greetings.txt');
  // A line with an escape sequence that would clear the screen if it reached the terminal raw.
  writeFileSync(file, 'hello world #1\nold line \u001b[2J\n');
  return { dir, file, args: [...demoArgs(`DEMO/outputFile=str:${file}`, 'DEMO/count=int:2'), '--dry-run'] };
}

describe('otopi --dry-run shows the diffs', () => {
  it('in colour on a terminal, escaped, with nothing written', () => {
    const { dir, file, args } = setUp();
    const quoted = [process.execPath, CLI, ...args].map((w) => `'${w}'`).join(' ');
    const r = spawnSync('script', ['-qec', quoted, '/dev/null'], {
      encoding: 'utf8',
      input: '',
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        TERM: 'xterm',
        OTOPI_CONFIG: join(dir, 'no-system.conf'),
        OTOPI_LOGDIR: dir,
        OTOPI_STATEDIR: join(dir, 'state'),
      },
      timeout: 60_000,
    });
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toContain('Dry run: these changes would be made:');
    expect(r.stdout).toContain('\u001b[32m+hello world #2\u001b[0m');
    expect(r.stdout).toContain('\u001b[31m-old line \\x1b[2J\u001b[0m');
    expect(r.stdout).toContain(`\u001b[1m+++ b${file}\u001b[0m`);
    expect(r.stdout).not.toContain('\u001b[2J');
    expect(readFileSync(file, 'utf8')).toBe('hello world #1\nold line \u001b[2J\n');
  }, 60_000);

  it('as plain text through a pipe', () => {
    const { dir, file, args } = setUp();
    const r = runCli(args, { dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Dry run: these changes would be made:');
    expect(r.stdout).toContain('          +hello world #2\n');
    expect(r.stdout).not.toContain('\u001b[32m');
    expect(readFileSync(file, 'utf8')).toBe('hello world #1\nold line \u001b[2J\n');
  }, 60_000);
});
