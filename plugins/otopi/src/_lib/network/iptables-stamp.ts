/**
 * What loading a set of iptables rules made of the live tables, kept on the host, so a later run
 * with the same rules can tell that the live tables still are exactly that and skip the reload
 * (which would reset every counter and briefly replace the tables). iptables-save prints rules in
 * its own canonical form (`-m tcp` added and the like), so the rules as written cannot be compared
 * with the live ones directly; the tables as they were right after the last load can.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

interface Stamp {
  readonly rules: string;
  readonly tables: Readonly<Record<string, string>>;
}

/** Where a run on this host keeps the stamp: beside the transaction journal. */
export const stampPath = (): string => join(process.env['OTOPI_STATEDIR'] ?? '/var/lib/otopi', 'iptables-loaded.json');

const digest = (rules: string): string => createHash('sha256').update(rules).digest('hex');

/** Whether the live `tables` are what loading `rules` produced the last time. */
export async function liveIsLoaded(
  rules: string,
  tables: readonly string[],
  live: ReadonlyMap<string, string>,
  path: string,
): Promise<boolean> {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(path, 'utf8')) as Stamp;
  } catch {
    return false;
  }
  if (stamp.rules !== digest(rules) || typeof stamp.tables !== 'object' || stamp.tables === null) return false;
  return tables.every((t) => Object.hasOwn(stamp.tables, t) && stamp.tables[t] === live.get(t));
}

/** Records what loading `rules` made of `tables` (atomically: a temp file, then rename). */
export async function recordLoaded(
  rules: string,
  tables: readonly string[],
  live: ReadonlyMap<string, string>,
  path: string,
): Promise<void> {
  const stamp: Stamp = {
    rules: digest(rules),
    tables: Object.fromEntries(tables.filter((t) => live.has(t)).map((t) => [t, live.get(t)!])),
  };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(stamp)}\n`, { mode: 0o600 });
  await rename(temp, path);
}
