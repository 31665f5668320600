/**
 * Asks on the terminal, once per key file, for the passphrase of each encrypted private key
 * the inventory names without one. Nothing is echoed, and the passphrase is checked against
 * the key before the run starts (three tries). Without a terminal nothing is asked: a host whose
 * only key is locked then fails at login, saying how to give the passphrase.
 */
import { lockedKeys, opensKey, Secret, withPassphrases, type InventoryHost } from '@otopi/engine';

/** A terminal: its input in raw mode, and where the prompt goes. */
export interface Terminal {
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly output: NodeJS.WritableStream;
}

export class PassphraseCancelled extends Error {}

/** Reads one line without echo; Ctrl-C or Ctrl-D cancels. */
export function readHidden(terminal: Terminal, prompt: string): Promise<string> {
  const { input, output } = terminal;
  // Echo off before the prompt shows: what is typed at once must not be echoed either.
  input.setRawMode?.(true);
  output.write(prompt);
  input.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: Error): void => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      if (error === undefined) resolve(value);
      else reject(error);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new PassphraseCancelled('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}

/** The hosts with the passphrases of their locked keys asked for on `terminal` (when it is one). */
export async function askPassphrases(hosts: readonly InventoryHost[], terminal: Terminal): Promise<InventoryHost[]> {
  const locked = lockedKeys(hosts);
  if (locked.length === 0 || terminal.input.isTTY !== true) return [...hosts];
  const given = new Map<string, Secret>();
  for (const file of locked) {
    for (let attempt = 1; ; attempt++) {
      const passphrase = await readHidden(terminal, `Enter passphrase for key '${file}': `);
      if (opensKey(file, passphrase)) {
        given.set(file, new Secret(passphrase));
        break;
      }
      if (attempt === 3) throw new PassphraseCancelled(`the passphrase for ${file} was wrong three times`);
      terminal.output.write('Wrong passphrase, try again.\n');
    }
  }
  return withPassphrases(hosts, given);
}
