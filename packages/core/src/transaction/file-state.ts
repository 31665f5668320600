/**
 * What a file element needs to know about the file on disk and its owners: a snapshot of
 * the live file, the permissions the new one gets, and keeping the previous content.
 */
import { execFile } from 'node:child_process';
import { constants, copyFile, link, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { unifiedDiff } from './diff.js';
import { errnoCode, fsyncDir, type Ownership } from './fs-util.js';

/** The live file as prepare saw it; `null` stands for "did not exist". */
export interface Snapshot extends Ownership {
  readonly bytes: Buffer;
}

/** Reads the live file. `O_NONBLOCK` so a FIFO put there meanwhile cannot hang us. */
export async function readSnapshot(path: string): Promise<Snapshot | null> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error('not a regular file');
    const bytes = await handle.readFile();
    return { bytes, mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid };
  } finally {
    await handle.close();
  }
}

export function samePermissions(a: Ownership, b: Ownership): boolean {
  return a.mode === b.mode && (b.uid === -1 || a.uid === b.uid) && (b.gid === -1 || a.gid === b.gid);
}

const idCache = new Map<string, number>();

/** A user or group id from a number, a numeric string or a name (through NSS, so LDAP users work). */
export async function resolveId(database: 'passwd' | 'group', value: number | string): Promise<number> {
  if (typeof value === 'number') return value;
  if (/^\d+$/.test(value)) return Number(value);
  const key = `${database}:${value}`;
  const cached = idCache.get(key);
  if (cached !== undefined) return cached;
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('getent', [database, value], { encoding: 'utf8' }));
  } catch (error) {
    throw new Error(`unknown ${database === 'passwd' ? 'user' : 'group'} '${value}'`, { cause: error });
  }
  const id = Number(stdout.split(':')[2]);
  if (!Number.isInteger(id)) throw new Error(`cannot resolve ${database === 'passwd' ? 'user' : 'group'} '${value}'`);
  idCache.set(key, id);
  return id;
}

/** Errors meaning "this file system cannot hard-link here"; a copy will do instead. */
const NO_LINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'EXDEV', 'ENOSYS']);

/**
 * Makes `previous` hold the live content of `target`, durably, before anything replaces it.
 * A hard link is preferred: it is atomic, costs no space, and keeps the very inode (mode,
 * owner, labels). Otherwise a copy is made under `<previous>.partial` and renamed, so
 * `previous` exists only when complete. Returns how it was made.
 */
export async function keepPrevious(target: string, previous: string, perms: Ownership): Promise<'link' | 'copy'> {
  let how: 'link' | 'copy' = 'link';
  try {
    await link(target, previous);
  } catch (error) {
    if (!NO_LINK.has(errnoCode(error) ?? '')) throw error;
    how = 'copy';
    const partial = `${previous}.partial`;
    try {
      await copyFile(target, partial, constants.COPYFILE_EXCL);
      const handle = await open(partial, constants.O_RDWR);
      try {
        await handle.chown(perms.uid, perms.gid);
        await handle.chmod(perms.mode);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(partial, previous);
    } catch (copyError) {
      await rm(partial, { force: true });
      throw copyError;
    }
  }
  if (how === 'link') {
    // These are the live file's own blocks, which whoever wrote it may never have flushed.
    const handle = await open(previous, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await fsyncDir(dirname(previous));
  return how;
}

/** Whether a diff of these bytes would be noise: NUL bytes or invalid UTF-8. */
export function isBinary(bytes: Buffer): boolean {
  if (bytes.includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return false;
  } catch {
    return true;
  }
}

/**
 * The dry-run text for replacing `before` (`null`: no file) with `content` and `perms`: git-style
 * mode/owner lines, then a unified diff against `a/<path>` (or `/dev/null`) and `b/<path>`.
 */
export function describeChange(path: string, before: Snapshot | null, perms: Ownership, content: Buffer): string {
  const label = path.replace(/^\/+/, '');
  const oldLabel = before === null ? '/dev/null' : `a/${label}`;
  const header: string[] = [];
  if (before === null) {
    const explicit = perms.uid !== -1 || perms.gid !== -1;
    const uid = perms.uid === -1 ? (process.geteuid?.() ?? 0) : perms.uid;
    const gid = perms.gid === -1 ? (process.getegid?.() ?? 0) : perms.gid;
    header.push(`new file mode ${octal(perms.mode)}${explicit ? `, owner ${uid}:${gid}` : ''}`);
  } else {
    if (before.mode !== perms.mode) header.push(`old mode ${octal(before.mode)}`, `new mode ${octal(perms.mode)}`);
    if (!samePermissions({ ...before, mode: perms.mode }, perms)) {
      header.push(`old owner ${before.uid}:${before.gid}`, `new owner ${perms.uid}:${perms.gid}`);
    }
  }
  const head = header.map((line) => `${line}\n`).join('');
  const previous = before?.bytes ?? Buffer.alloc(0);
  if (previous.equals(content)) return `${head}--- ${oldLabel}\n+++ b/${label}\n`;
  if (isBinary(previous) || isBinary(content)) return `${head}Binary files ${oldLabel} and b/${label} differ\n`;
  return head + unifiedDiff(previous.toString('utf8'), content.toString('utf8'), { oldLabel, newLabel: `b/${label}` });
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
