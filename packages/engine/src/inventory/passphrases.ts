/**
 * Encrypted private keys named without a passphrase: which they are, whether a passphrase opens
 * one, and hosts given the passphrases asked for (on a terminal, by the command line tool).
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader does not see `utils` as a named export.
const { utils } = ssh2;
import { isEncryptedKey } from '../orchestrate/open.js';
import type { HostAuth } from './credentials.js';
import type { InventoryHost } from './inventory.js';
import type { Secret } from './secret.js';

const readable = (file: string): Buffer | undefined => {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
};

/** The key files of these hosts (and their jump hosts) that are encrypted and have no passphrase, each once. */
export function lockedKeys(hosts: readonly InventoryHost[]): string[] {
  const files = new Set<string>();
  for (const host of hosts) {
    for (const auth of [host.auth, ...host.jumps.map((j) => j.auth)]) {
      for (const identity of auth.identities) {
        if (identity.passphrase !== undefined || files.has(identity.file)) continue;
        const data = readable(identity.file);
        if (data !== undefined && isEncryptedKey(data)) files.add(identity.file);
      }
    }
  }
  return [...files];
}

/** Whether `passphrase` opens the key in `file`. */
export function opensKey(file: string, passphrase: string): boolean {
  const data = readable(file);
  return data !== undefined && !(utils.parseKey(data, passphrase) instanceof Error);
}

/** The hosts with the passphrases given (by key file) filled in where none was set. */
export function withPassphrases(
  hosts: readonly InventoryHost[],
  passphrases: ReadonlyMap<string, Secret>,
): InventoryHost[] {
  const fill = (auth: HostAuth): HostAuth => ({
    ...auth,
    identities: auth.identities.map((i) => {
      const given = passphrases.get(i.file);
      return i.passphrase !== undefined || given === undefined ? i : { ...i, passphrase: given };
    }),
  });
  return hosts.map((h) => ({ ...h, auth: fill(h.auth), jumps: h.jumps.map((j) => ({ ...j, auth: fill(j.auth) })) }));
}
