/**
 * The engine-side log of one host's deploy: a header, the dialog transcript (seconds since the
 * start, `<` from the host, `>` to it, hidden answers already replaced), and at the end the host's own log as
 * fetched with `log`. One file per host, mode 0600 in a 0700 folder; every line passes the
 * run's redactor and is written at once, so a crashed engine keeps what it logged.
 */
import { closeSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redactor } from '@otopi/core';
import { EngineError } from '../errors.js';

/** Default folder of per-host logs: this when root may write it, else a private temporary one. */
export const DEFAULT_LOG_DIR = '/var/log/otopi-deploy';

/** Creates (0700) or checks the log folder; falls back to `$TMPDIR/otopi-deploy-<uid>` for the default one when it cannot be made. */
export function prepareLogDir(dir: string | undefined): string {
  const chosen = dir ?? DEFAULT_LOG_DIR;
  try {
    mkdirSync(chosen, { recursive: true, mode: 0o700 });
    if (!statSync(chosen).isDirectory()) throw new Error('not a folder');
    return chosen;
  } catch (error) {
    if (dir !== undefined) {
      throw new EngineError('USAGE', `cannot use ${dir} for the deploy logs: ${(error as Error).message}`, {
        cause: error,
        hint: 'give a folder you may write with --log-dir',
      });
    }
    const fallback = join(tmpdir(), `otopi-deploy-${process.getuid?.() ?? 'user'}`);
    mkdirSync(fallback, { recursive: true, mode: 0o700 });
    return fallback;
  }
}

/** `YYYYMMDDHHMMSS` in UTC, as oVirt named host-deploy logs. */
export function logStamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * A host log's name without `.log`, as the oVirt engine named them:
 * `<entry>-<YYYYMMDDHHMMSS>-<host>-<correlation id>` (reference §6.5); the entry is
 * `ovirt-host-deploy` for the host-deploy group, else `otopi-deploy`. Characters a file name
 * should not hold are replaced by `_`.
 */
export function logBaseName(entry: string, started: Date, host: string, correlationId: string): string {
  return `${entry}-${logStamp(started)}-${host}-${correlationId.replace(/[^\w.-]/g, '_')}`;
}

export class HostLog {
  readonly path: string;
  readonly #fd: number;
  readonly #redactor: Redactor;
  readonly #started = performance.now();
  #closed = false;
  /** While the host's LOG block streams in, its lines are kept for the host-log section instead. */
  #inLogBlock: string | undefined;

  /** `name`: the file name without `.log` ({@link logBaseName}); `.2`, `.3`… is added when it exists. */
  constructor(dir: string, name: string, redactor: Redactor) {
    this.#redactor = redactor;
    const base = join(dir, name);
    let path = `${base}.log`;
    let fd: number | undefined;
    for (let n = 2; fd === undefined; n++) {
      try {
        fd = openSync(path, 'wx', 0o600);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n > 100) throw error;
        path = `${base}.${n}.log`;
      }
    }
    this.path = path;
    this.#fd = fd;
  }

  /** A line of the engine's own (what it decided, what failed). */
  note(text: string): void {
    this.#write(`${new Date().toISOString()} ${text}`);
  }

  /** A line of the dialog; the `log` command's block is left out here and written by {@link hostLog}. */
  transcript(direction: 'in' | 'out', line: string): void {
    if (direction === 'in') {
      if (this.#inLogBlock !== undefined) {
        if (line === this.#inLogBlock) this.#inLogBlock = undefined;
        return;
      }
      const block = /^\*\*\*D:MULTI-STRING LOG (\S+)$/.exec(line);
      if (block !== null) {
        this.#inLogBlock = block[1];
        this.#write(`< ${line}   (the host log follows at the end of this file)`, true);
        return;
      }
    }
    this.#write(`${direction === 'in' ? '<' : '>'} ${line}`, true);
  }

  /** The host's own log, fetched at termination. */
  hostLog(lines: readonly string[]): void {
    this.#write(`---- host log (${lines.length} lines) ----`);
    for (const line of lines) this.#write(line);
    this.#write('---- end of host log ----');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }

  /** Transcript lines carry the seconds since the deploy started, to show where time went. */
  #write(text: string, timed = false): void {
    if (this.#closed) return;
    const prefix = timed ? `${((performance.now() - this.#started) / 1000).toFixed(3).padStart(8)} ` : '';
    writeSync(this.#fd, `${prefix}${this.#redactor.redact(text)}\n`);
  }
}
