/**
 * A running remote command seen as a line dialog: write a line, read lines with an async
 * iterator, and learn the exit code and everything written to standard error. Inactivity
 * and hard time limits end the command (the engine's soft and hard SSH timeouts).
 */
import { StringDecoder } from 'node:string_decoder';
import type { ClientChannel } from 'ssh2';
import { EngineError } from '../errors.js';

/** How long an aborted session waits for the host to confirm the end before it ends anyway (ms). */
const ABORT_GRACE_MS = 2_000;

export interface SessionResult {
  /** Exit code, or null when the command ended by a signal or the channel closed without one. */
  readonly code: number | null;
  readonly signal: string | null;
  /** Everything the command wrote to standard error: on a host, any of it means failure. */
  readonly stderr: string;
}

export interface SessionLimits {
  /** End the command when nothing was read or written for this long (ms). Off by default. */
  readonly inactivityTimeoutMs?: number | undefined;
  /** End the command this long (ms) after it started, whatever happens. Off by default. */
  readonly hardTimeoutMs?: number | undefined;
  /** Ends the command when aborted. */
  readonly signal?: AbortSignal | undefined;
}

export interface ByteCounts {
  /** Bytes of the exec command string. */
  command: number;
  /** Artifact bytes written to standard input. */
  payload: number;
  /** Dialog bytes written to standard input. */
  dialog: number;
}

/**
 * The command's standard input and output as lines. It has the shape of the dialog
 * driver's `DialogChannel` (`lines`, `send`, `end`), so a deploy session can be driven as is.
 */
export interface LineSession {
  /** Standard output, line by line without line breaks; ends when the channel closes. Iterate it once. */
  readonly lines: AsyncIterable<string>;
  /** Sends one line (a line break is added); the line must not contain one. */
  send(line: string): void;
  /** Closes the command's standard input. */
  end(): void;
  /** Ends the command now; `done` rejects with `reason`. */
  abort(reason: EngineError): void;
  /** Settles when the channel has closed: the exit code and standard error, or the reason it was ended. */
  readonly done: Promise<SessionResult>;
  /** Standard error so far. */
  readonly stderr: string;
  /** `performance.now()` of the last byte read or written. */
  readonly lastActivity: number;
  readonly bytes: Readonly<ByteCounts>;
}

/** Options for `openLineSession`; `where` names the host in errors. */
export interface LineSessionOptions extends SessionLimits {
  readonly where: string;
  readonly commandBytes: number;
  /** Sees every line of standard output, including those the caller consumes itself. */
  readonly onLine?: ((line: string) => void) | undefined;
  /** Sees standard error as it arrives. */
  readonly onStderr?: ((text: string) => void) | undefined;
}

export interface LineSessionControl {
  session: LineSession;
  /** Writes artifact bytes, with back-pressure; counted as payload. */
  writePayload(chunk: Buffer): Promise<void>;
  /** Writes a secret (a sudo password): counted nowhere, shown nowhere. */
  writeSecret(text: string): void;
  /** Lines are offered here first; returning true keeps a line out of the iterator. */
  intercept: ((line: string) => boolean) | undefined;
}

export function openLineSession(channel: ClientChannel, options: LineSessionOptions): LineSessionControl {
  const queue: string[] = [];
  let waiting: ((value: IteratorResult<string>) => void) | undefined;
  let ended = false;
  let stderr = '';
  let lastActivity = performance.now();
  let exit: { code: number | null; signal: string | null } = { code: null, signal: null };
  let failure: EngineError | undefined;
  const bytes: ByteCounts = { command: options.commandBytes, payload: 0, dialog: 0 };
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const timers: NodeJS.Timeout[] = [];

  const control: LineSessionControl = {
    session: undefined as unknown as LineSession,
    intercept: undefined,
    writeSecret(text) {
      if (!ended) channel.write(text);
    },
    async writePayload(chunk) {
      touch();
      bytes.payload += chunk.length;
      if (ended)
        throw new EngineError('SSH_CLOSED', `the session with ${options.where} ended during the transfer`, {
          host: options.where,
        });
      if (!channel.write(chunk)) {
        // Wait for room, or for the end: a closed channel never drains.
        await new Promise<void>((resolve) => {
          const done = (): void => {
            channel.off('drain', done);
            channel.off('close', done);
            resolve();
          };
          channel.on('drain', done);
          channel.on('close', done);
        });
      }
    },
  };

  const touch = (): void => {
    lastActivity = performance.now();
  };
  const push = (line: string): void => {
    options.onLine?.(line);
    if (control.intercept?.(line) === true) return;
    if (waiting !== undefined) {
      const w = waiting;
      waiting = undefined;
      w({ value: line, done: false });
    } else {
      queue.push(line);
    }
  };
  const finishLines = (): void => {
    if (ended) return;
    const rest = partial + decoder.end();
    partial = '';
    if (rest !== '') push(rest.replace(/\r$/, ''));
    ended = true;
    if (waiting !== undefined) {
      const w = waiting;
      waiting = undefined;
      w({ value: undefined, done: true });
    }
  };

  channel.on('data', (data: Buffer) => {
    touch();
    const text = partial + decoder.write(data);
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) push(line.replace(/\r$/, ''));
  });
  // Read standard error too: ssh2 emits 'close' only once both streams are consumed.
  channel.stderr.on('data', (data: Buffer) => {
    touch();
    const text = data.toString('utf8');
    stderr += text;
    options.onStderr?.(text);
  });

  let settleFailure: ((reason: EngineError) => void) | undefined;
  const abort = (reason: EngineError): void => {
    if (failure !== undefined || ended) return;
    failure = reason;
    try {
      channel.signal('KILL');
    } catch {
      // Not every server takes signals; closing the channel ends the command anyway.
    }
    channel.close();
    // A host that stopped answering never confirms the close: its channel would close only when
    // the connection dies (the SSH keepalive, about a minute later). The limit the user set is
    // the one that holds, so the session ends here after a short grace.
    timers.push(setTimeout(() => settleFailure?.(reason), ABORT_GRACE_MS).unref());
  };

  const done = new Promise<SessionResult>((resolve, reject) => {
    const finish = (): void => {
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener('abort', onAbort);
      finishLines();
    };
    settleFailure = (reason) => {
      finish();
      reject(reason);
    };
    // The exit status comes with 'close': an 'exit' event can fire before anyone could listen.
    channel.on('close', (code?: number | null, signal?: string) => {
      exit = { code: code ?? null, signal: signal ?? null };
      finish();
      if (failure !== undefined) reject(failure);
      else resolve({ ...exit, stderr });
    });
  });
  // The caller may look only at the lines; a rejection is still reported through `done`.
  done.catch(() => {});

  const onAbort = (): void =>
    abort(
      new EngineError('SSH_CLOSED', `the session with ${options.where} was aborted`, {
        host: options.where,
        cause: options.signal?.reason,
      }),
    );
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted === true) onAbort();

  if (options.hardTimeoutMs !== undefined) {
    const ms = options.hardTimeoutMs;
    timers.push(
      setTimeout(
        () =>
          abort(
            new EngineError('SSH_HARD_TIMEOUT', `SSH session hard timeout with ${options.where} (${ms} ms)`, {
              host: options.where,
            }),
          ),
        ms,
      ),
    );
  }
  if (options.inactivityTimeoutMs !== undefined) {
    const ms = options.inactivityTimeoutMs;
    const check = (): void => {
      const idle = performance.now() - lastActivity;
      if (idle >= ms) {
        abort(
          new EngineError('SSH_INACTIVITY_TIMEOUT', `SSH session with ${options.where} inactive for ${ms} ms`, {
            host: options.where,
          }),
        );
      } else {
        timers.push(setTimeout(check, ms - idle));
      }
    };
    timers.push(setTimeout(check, ms));
  }

  // A write on a closed channel would otherwise be an unhandled 'error' event.
  channel.on('error', (error: Error) =>
    abort(
      new EngineError('SSH_CLOSED', `the session with ${options.where} failed: ${error.message}`, {
        host: options.where,
        cause: error,
      }),
    ),
  );

  control.session = {
    send(line) {
      if (line.includes('\n')) throw new EngineError('USAGE', 'a dialog line cannot contain a line break');
      if (ended)
        throw new EngineError('SSH_CLOSED', `the session with ${options.where} has ended`, { host: options.where });
      touch();
      const data = `${line}\n`;
      bytes.dialog += Buffer.byteLength(data);
      channel.write(data);
    },
    end() {
      channel.end();
    },
    abort,
    done,
    get stderr() {
      return stderr;
    },
    get lastActivity() {
      return lastActivity;
    },
    bytes,
    lines: {
      [Symbol.asyncIterator](): AsyncIterator<string> {
        return {
          next() {
            const line = queue.shift();
            if (line !== undefined) return Promise.resolve({ value: line, done: false });
            if (ended) return Promise.resolve({ value: undefined, done: true });
            return new Promise((resolve) => {
              waiting = resolve;
            });
          },
        };
      },
    },
  };
  return control;
}
