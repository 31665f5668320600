/**
 * A mutex between processes of one machine, named by a file path, that the kernel releases when
 * its holder dies, however it dies.
 *
 * The mutual exclusion is a listening Unix socket in Linux's abstract namespace, named by a hash
 * of the lock file's real path: `bind(2)` of a name that is taken fails with EADDRINUSE, and the
 * name is freed when the last descriptor of the socket closes, SIGKILL included. There is no
 * stale state to detect and take over, and so no window in which two processes both decide that
 * a lock is stale (the race of a create-then-write lock file: a rival that reads the file while it
 * is still empty takes a live lock for a dead one).
 *
 * The file itself only says who holds the lock (pid, process start time, command, since when),
 * written atomically after the socket is bound, so a refused run can name the holder. A holder
 * file whose writer is gone is left-over text, never a reason to refuse or to take anything over.
 *
 * Scope: one network namespace (abstract socket names live there). Every run of an installer on a
 * host shares the host's namespace; processes in other namespaces are other hosts.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { basename, dirname, join } from 'node:path';

export interface LockHolder {
  readonly pid: number;
  /** Process start time in clock ticks since boot (field 22 of /proc/<pid>/stat), '' if unknown. */
  readonly start: string;
  readonly command: string;
  readonly since: string;
}

export interface AcquireOptions {
  /** How long to wait for a held lock, in ms. Default 0: refuse at once. */
  readonly waitMs?: number;
  /** What the holder file says this process is running (default: its command line). */
  readonly command?: string;
}

/** The abstract socket name for a lock file (the folder must exist). */
export function mutexName(path: string): string {
  const real = join(realpathSync(dirname(path)), basename(path));
  return `\0otopi-lock-${createHash('sha256').update(real).digest('hex').slice(0, 40)}`;
}

export class ProcessMutex {
  #server: Server | undefined;
  #me: LockHolder | undefined;

  /** `path`: the holder file; its folder is created (0700) when missing. */
  constructor(readonly path: string) {}

  get held(): boolean {
    return this.#server !== undefined;
  }

  /**
   * Takes the mutex. Returns `undefined` when taken, or the holder (as its file says; `undefined`
   * fields when it has not written it yet) when another process keeps it past `waitMs`.
   * Errors other than "taken" (an unwritable folder) are thrown.
   */
  async acquire(options: AcquireOptions = {}): Promise<{ holder: LockHolder | undefined } | undefined> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const name = mutexName(this.path);
    const deadline = Date.now() + (options.waitMs ?? 0);
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      const server = await bind(name);
      if (server !== undefined) {
        this.#server = server;
        this.#me = {
          pid: process.pid,
          start: processStartTime(process.pid) ?? '',
          command: options.command ?? process.argv.slice(1).join(' '),
          since: new Date().toISOString(),
        };
        writeHolder(this.path, this.#me);
        return undefined;
      }
      if (Date.now() >= deadline) return { holder: readHolder(this.path) };
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(1, deadline - Date.now()))));
    }
  }

  /** Frees the mutex and removes the holder file if it still names this process. */
  release(): void {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    const holder = readHolder(this.path);
    if (holder?.pid === this.#me?.pid && holder?.since === this.#me?.since) rmSync(this.path, { force: true });
    server.close();
  }
}

function bind(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    });
    server.listen({ path: name, exclusive: true }, () => {
      // Holding the lock must not keep the process alive.
      server.unref();
      resolve(server);
    });
  });
}

export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; fields after the last ')' are fixed.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function writeHolder(path: string, holder: LockHolder): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(holder)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/** The holder file's content, or undefined when missing, torn or not ours. */
export function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number') return undefined;
    return {
      pid: parsed.pid,
      start: typeof parsed.start === 'string' ? parsed.start : '',
      command: typeof parsed.command === 'string' ? parsed.command : '?',
      since: typeof parsed.since === 'string' ? parsed.since : '?',
    };
  } catch {
    return undefined;
  }
}

/** Whether the process a holder file names still runs (same pid and start time). */
export function holderAlive(holder: LockHolder): boolean {
  const start = processStartTime(holder.pid);
  if (start === undefined) return false;
  return holder.start === '' || holder.start === start;
}
