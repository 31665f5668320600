// The passphrase prompt's line editing on a stand-in terminal (the lab test types on a real
// pseudo-terminal, through script(1)): echo off before the prompt, backspace, Ctrl-C, and keys
// asked for only when they are encrypted and have no passphrase.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { InventoryHost } from '@otopi/engine';
import { askPassphrases, PassphraseCancelled, readHidden } from '../src/deploy-passphrase.js';

function terminal(): {
  input: PassThrough & { isTTY: boolean; setRawMode: (raw: boolean) => void };
  output: PassThrough;
  log: string[];
} {
  const log: string[] = [];
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    setRawMode: (raw: boolean) => log.push(`raw:${raw}`),
  });
  const output = new PassThrough();
  output.on('data', (d: Buffer) => log.push(d.toString()));
  return { input, output, log };
}

describe('the passphrase prompt', () => {
  it('turns echo off before the prompt shows, edits the line, and echoes nothing typed', async () => {
    const t = terminal();
    const read = readHidden(t, 'Passphrase: ');
    t.input.write('secrex\u007ft\r');
    expect(await read).toBe('secret');
    expect(t.log).toEqual(['raw:true', 'Passphrase: ', 'raw:false', '\n']);
  });

  it('is cancelled by Ctrl-C', async () => {
    const t = terminal();
    const read = readHidden(t, 'Passphrase: ');
    t.input.write('ab\u0003');
    await expect(read).rejects.toBeInstanceOf(PassphraseCancelled);
  });

  it('asks only for encrypted keys without a passphrase, once per file, and checks what is typed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otopi-passphrase-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'right', '-f', join(dir, 'locked')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'open')]);
    const host = (name: string): InventoryHost => ({
      name,
      address: name,
      port: 22,
      user: 'root',
      auth: { identities: [{ file: join(dir, 'locked') }, { file: join(dir, 'open') }] },
      hostKey: { kind: 'fingerprint', fingerprint: `SHA256:${'A'.repeat(43)}` },
      jumps: [],
      environment: [],
      answers: {},
      timeouts: {},
      source: { file: 'x', line: 1 },
    });
    const t = terminal();
    const asked = askPassphrases([host('a'), host('b')], t);
    // A wrong one first, then the right one.
    setTimeout(() => t.input.write('wrong\r'), 10);
    setTimeout(() => t.input.write('right\r'), 50);
    const hosts = await asked;
    expect(t.log.filter((l) => l.startsWith('Enter passphrase'))).toHaveLength(2);
    expect(t.log).toContain('Wrong passphrase, try again.\n');
    for (const h of hosts) expect(h.auth.identities.map((i) => i.passphrase?.reveal())).toEqual(['right', undefined]);
    // Not a terminal: nothing is asked.
    const plain = { input: new PassThrough(), output: new PassThrough() };
    expect((await askPassphrases([host('a')], plain))[0]!.auth.identities[0]!.passphrase).toBeUndefined();
  });
});
