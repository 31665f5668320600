/**
 * The run's log: pino, writing one redacted text line per record to the log file, and
 * handing records at INFO and above to the console sink (the dialog).
 *
 * The file is written synchronously so a killed run still leaves every line it logged.
 * A log file that cannot be opened or written (a full disk) is a coded error at open; a
 * write that fails later stops the file, not the run: the log goes on in memory, and the
 * console is told once.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import { OtopiError, errorMessage } from '../errors.js';
import type { Redactor } from './redact.js';

export type { Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARNING',
  50: 'ERROR',
  60: 'FATAL',
};

/** A record as the console sees it: level name and message, already redacted. */
export interface ConsoleRecord {
  readonly level: 'INFO' | 'WARNING' | 'ERROR' | 'FATAL';
  readonly message: string;
}

export interface RunLogOptions {
  readonly redactor: Redactor;
  /** Lowest level written to the file. Default `debug`. */
  readonly level?: LogLevel;
  /** Receives records at INFO and above (the dialog prints them). */
  readonly console?: (record: ConsoleRecord) => void;
  /**
   * Fields added to every record, also those of child loggers made earlier; called at each
   * log call (the runtime's `CORE/logContextKeys`, e.g. a correlation id set mid-run).
   */
  readonly context?: () => Record<string, string>;
}

/**
 * Owns the log file. Until `open()` is called, records are kept in memory and written
 * when the file opens, so nothing logged during boot is lost.
 */
export class RunLog {
  readonly logger: Logger;
  private fd: number | undefined;
  private pending: string[] = [];
  private closed = false;
  private path_: string | undefined;
  private consoleSink: ((record: ConsoleRecord) => void) | undefined;
  /** Every formatted line kept in memory too, for the `log` dialog command when there is no file. */
  private readonly memory: string[] = [];

  constructor(private readonly options: RunLogOptions) {
    this.consoleSink = options.console;
    const destination = { write: (line: string) => this.writeRecord(line) };
    this.logger = pino(
      {
        level: options.level ?? 'debug',
        base: null,
        timestamp: pino.stdTimeFunctions.epochTime,
        messageKey: 'msg',
        errorKey: 'err',
        ...(options.context === undefined ? {} : { mixin: options.context }),
      },
      destination,
    );
  }

  get path(): string | undefined {
    return this.path_;
  }

  setConsole(sink: ((record: ConsoleRecord) => void) | undefined): void {
    this.consoleSink = sink;
  }

  /**
   * Opens (appends to) the log file with mode 0600 and flushes what was logged so far.
   *
   * @throws OtopiError `FILE_WRITE` naming the file when it cannot be created or written.
   */
  open(path: string): void {
    let fd: number | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      fd = openSync(path, 'a', 0o600);
      for (const line of this.pending) writeSync(fd, line);
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      throw new OtopiError('FILE_WRITE', `Cannot write the log file ${path}: ${errorMessage(error)}`, {
        file: path,
        cause: error,
        hint: 'Free some space there, or choose another folder with CORE/logDir.',
      });
    }
    this.fd = fd;
    this.path_ = path;
    this.pending = [];
  }

  /** The whole log text written so far (redacted). */
  text(): string {
    return this.memory.join('');
  }

  close(): void {
    if (this.fd !== undefined) {
      try {
        fsyncSync(this.fd);
      } catch {
        // a log on a pipe or special file cannot be synced; nothing to do
      }
      closeSync(this.fd);
      this.fd = undefined;
    }
    this.closed = true;
  }

  /** Writes a line to the file; on failure gives the file up (the run goes on), saying so once. */
  private writeFile(line: string): void {
    const fd = this.fd;
    if (fd === undefined) return;
    try {
      writeSync(fd, line);
    } catch (error) {
      this.fd = undefined;
      this.closed = true;
      try {
        closeSync(fd);
      } catch {
        // already unusable
      }
      this.consoleSink?.({
        level: 'WARNING',
        message: `The log file ${this.path_ ?? ''} can no longer be written (${errorMessage(error)}); the rest of the log is kept in memory only`,
      });
    }
  }

  private writeRecord(json: string): void {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(json) as Record<string, unknown>;
    } catch {
      record = { level: 30, msg: json };
    }
    const level = typeof record['level'] === 'number' ? record['level'] : 30;
    const text = this.options.redactor.redact(formatText(record));
    const line = `${formatTime(typeof record['time'] === 'number' ? record['time'] : Date.now())} ${
      LEVEL_NAMES[level] ?? 'INFO'
    } ${text.replace(/\n/g, '\n    ')}\n`;
    this.memory.push(line);
    if (this.fd !== undefined) this.writeFile(line);
    else if (!this.closed) this.pending.push(line);
    if (level >= 30 && this.consoleSink !== undefined && record['console'] !== false) {
      const msg = this.options.redactor.redact(String(record['msg'] ?? ''));
      this.consoleSink({ level: (LEVEL_NAMES[level] ?? 'INFO') as ConsoleRecord['level'], message: msg });
    }
  }
}

/** `plugin handler (stage): message key=value…` with an error's stack on the lines after. */
function formatText(record: Record<string, unknown>): string {
  const { level: _level, time: _time, msg, plugin, handler, err, console: _console, ...rest } = record;
  let where = [plugin, handler].filter((v) => typeof v === 'string' && v.length > 0).join(' ');
  // A handler's logger is bound to its stage: shown beside its name, not as a field.
  if (where.length > 0 && typeof rest['stage'] === 'string') {
    where += ` (${rest['stage']})`;
    delete rest['stage'];
  }
  let text = where.length > 0 ? `${where}: ${String(msg ?? '')}` : String(msg ?? '');
  for (const [k, v] of Object.entries(rest)) text += ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
  if (err !== undefined && err !== null && typeof err === 'object') {
    const e = err as { stack?: unknown; message?: unknown };
    text += `\n${String(e.stack ?? e.message ?? '')}`;
  }
  return text;
}

function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
  );
}

let handlerLog: Logger | undefined;

/**
 * The logger of the handler running now, if one is. A provider made by one handler and used
 * by others (the service manager, the packager) logs through it, so a command it runs is
 * logged under the handler that asked for it, not the one that created the provider.
 */
export function currentHandlerLog(): Logger | undefined {
  return handlerLog;
}

/** Set by the runtime around each handler (handlers run one at a time). */
export function setCurrentHandlerLog(log: Logger | undefined): void {
  handlerLog = log;
}
