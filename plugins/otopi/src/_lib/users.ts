/** Looking up a user account: name → uid, gid, home (through NSS via getent when present). */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { OtopiError } from '@otopi/core';
import type { SystemAccess } from './runner.js';

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export function parsePasswdLine(line: string): Account | null {
  const f = line.split(':');
  if (f.length < 7) return null;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return null;
  return { name: f[0]!, uid, gid, home: f[5]! };
}

/** The account `name`, or the one running this process when `name` is empty. */
export async function lookupAccount(name: string, sys: SystemAccess): Promise<Account> {
  if (name === '') {
    const me = userInfo();
    return { name: me.username, uid: me.uid, gid: me.gid, home: me.homedir };
  }
  const getent = sys.which('getent');
  let line: string | undefined;
  if (getent !== null) {
    const r = await sys.run([getent, 'passwd', name], { log: sys.log, allowFailure: true });
    line = r.code === 0 ? r.stdout.split('\n')[0] : undefined;
  } else {
    line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
  }
  const account = line === undefined ? null : parsePasswdLine(line);
  if (account === null)
    throw new OtopiError('ENV_BAD_VALUE', `User '${name}' does not exist`, { key: 'NETWORK/sshUser' });
  return account;
}
