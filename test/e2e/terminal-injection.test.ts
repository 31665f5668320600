// Text from files and hosts never drives the terminal: control characters in an inventory file
// (a window title and a screen clear) reach the console visibly escaped, not raw.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

const TITLE = '\u001b]0;pwned\u0007';
const CLEAR = '\u001b[2J\u001b[H';

describe('terminal injection', () => {
  it('escapes an OSC title and a screen clear from an inventory file in otopi deploy errors', () => {
    const dir = tempDir();
    const inventory = join(dir, 'inventory.ini');
    writeFileSync(inventory, `[host h1${TITLE}]\naddress = 127.0.0.1${CLEAR}\nbogus_field = x${CLEAR}\n`, {
      mode: 0o600,
    });
    const r = runCli(['deploy', '-i', inventory, '--group', 'host-deploy'], { dir });
    expect(r.code).not.toBe(0);
    const out = r.stdout + r.stderr;
    // eslint-disable-next-line no-control-regex -- looking for raw control characters
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(out).toContain('\\x1b');
  });

  it('escapes control characters of an unknown option in the installer error', () => {
    const r = runCli([`--no-such-option${CLEAR}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toContain('\u001b');
    expect(r.stderr).toContain('\\x1b[2J');
  });
});
