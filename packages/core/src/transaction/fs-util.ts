/**
 * Small durable-file helpers shared by the file element and the commit journal. Everything
 * goes through `node:fs/promises` so a test can interpose on each file-system step.
 */
import { randomBytes } from 'node:crypto';
import { constants, lstat, mkdir, open, rename, rm, rmdir, chmod } from 'node:fs/promises';
import { dirname } from 'node:path';

export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

export function randomToken(): string {
  return randomBytes(6).toString('hex');
}

/** Flushes a directory so entries created, renamed or removed in it survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems cannot fsync a directory; their rename is as durable as it gets.
    if (errnoCode(error) !== 'EINVAL' && errnoCode(error) !== 'ENOTSUP') throw error;
  } finally {
    await handle.close();
  }
}

/** Removes a file; says whether it was there. */
export async function removeFile(path: string): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Whether anything (even a dangling link) has this name. */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Directories between `dir` and its closest existing ancestor that do not exist, outermost first. */
export async function missingDirs(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let current = dir; !(await exists(current)); current = dirname(current)) {
    missing.unshift(current);
    if (dirname(current) === current) break;
  }
  return missing;
}

/**
 * Creates `dirs` (outermost first) with `mode` regardless of the umask and returns those
 * this call created; one that appeared meanwhile is not ours and is not returned. On
 * failure the ones it created are removed again.
 */
export async function createDirs(dirs: readonly string[], mode: number): Promise<string[]> {
  const created: string[] = [];
  try {
    for (const dir of dirs) {
      try {
        await mkdir(dir, { mode });
      } catch (error) {
        if (errnoCode(error) === 'EEXIST') continue;
        throw error;
      }
      created.push(dir);
      await chmod(dir, mode);
      await fsyncDir(dirname(dir));
    }
  } catch (error) {
    await removeEmptyDirs(created).catch(() => undefined);
    throw error;
  }
  return created;
}

/** Removes the directories (deepest first) that are empty; others are left alone. */
export async function removeEmptyDirs(dirs: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  const deepestFirst = [...new Set(dirs)].sort((a, b) => b.length - a.length);
  for (const dir of deepestFirst) {
    try {
      await rmdir(dir);
      removed.push(dir);
    } catch (error) {
      const code = errnoCode(error);
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
  }
  return removed;
}

export interface Ownership {
  /** Permission bits (`0o7777` mask). */
  readonly mode: number;
  /** Owner and group; `-1` leaves what a new file gets. */
  readonly uid: number;
  readonly gid: number;
}

/**
 * Writes a new file that nobody else can see half-written: created exclusively with mode
 * 0600, filled, given its owner and then its mode (chown may clear set-id bits, so chmod
 * comes last), and flushed. On failure the file is removed.
 */
export async function writeNewFile(path: string, bytes: Uint8Array, perms: Ownership): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await handle.writeFile(bytes);
    if (perms.uid !== -1 || perms.gid !== -1) await handle.chown(perms.uid, perms.gid);
    await handle.chmod(perms.mode);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
  await handle.close();
}

/**
 * Overwrites the file at `path` in place: for a file that is a mount point (a bind-mounted file:
 * a persisted file of an oVirt Node, a container's /etc/hosts), which rename(2) cannot replace
 * (EBUSY). Not atomic: a reader may see it half-written; the caller keeps the previous content.
 */
export async function overwriteInPlace(path: string, bytes: Uint8Array, perms: Ownership): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_TRUNC);
  try {
    await handle.writeFile(bytes);
    if (perms.uid !== -1 || perms.gid !== -1) await handle.chown(perms.uid, perms.gid);
    await handle.chmod(perms.mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` atomically with `bytes`: a temp file beside it, then rename. */
export async function replaceFile(path: string, bytes: Uint8Array, perms: Ownership): Promise<void> {
  const temp = tempNameFor(path, 'tmp');
  await writeNewFile(temp, bytes, perms);
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    if (errnoCode(error) !== 'EBUSY') throw error;
    await overwriteInPlace(path, bytes, perms);
  }
  await fsyncDir(dirname(path));
}

/** `.<base>.<random>.<suffix>` beside `path`: hidden, and unique enough for `O_EXCL`. */
export function tempNameFor(path: string, suffix: string): string {
  const dir = dirname(path);
  const base = path.slice(dir.length + (dir.endsWith('/') ? 0 : 1));
  return `${dir === '/' ? '' : dir}/.${base}.${randomToken()}.${suffix}`;
}

/** Local time as `YYYYmmddHHMMSS`, otopi's backup suffix. */
export function backupStamp(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`
  );
}
