/** User and group ids by name, from the NSS databases' files (vdsm and kvm are local system accounts). */
import { readFileSync } from 'node:fs';

export interface Ids {
  readonly uid: number;
  readonly gid: number;
}

function lookup(file: string, name: string): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 3) {
      const id = Number(f[2]);
      return Number.isInteger(id) ? id : null;
    }
  }
  return null;
}

/** `user:group` as numbers, or null with what is missing. */
export function resolveOwner(user: string, group: string, root = ''): Ids | string {
  const uid = lookup(`${root}/etc/passwd`, user);
  const gid = lookup(`${root}/etc/group`, group);
  if (uid === null) return `user '${user}' does not exist`;
  if (gid === null) return `group '${group}' does not exist`;
  return { uid, gid };
}
