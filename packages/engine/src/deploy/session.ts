/**
 * A running remote command seen as a line dialog: write a line, read lines with an async
 * iterator, and learn the exit code and everything written to standard error. Inactivity
 * and hard time limits end the command (the engine's soft and hard SSH timeouts; `limits.ts`).
 *
 * The parts: `LineQueue` turns standard output into lines for one reader; the session's
 * states are `open` (lines flow), `aborting` (ended by a limit, a signal or an error: the
 * command is killed and the session settles when the channel closes, or after a grace) and
 * `closed` (the channel closed: `done` settled).
 */
import { StringDecoder } from 'node:string_decoder';
import type { ClientChannel } from 'ssh2';
import { EngineError } from '../errors.js';
import { watchLimits, type LimitWatch, type SessionLimits } from './limits.js';

export type { SessionLimits } from './limits.js';

/** How long an aborted session waits for the host to confirm the end before it ends anyway (ms). */
const ABORT_GRACE_MS = 2_000;

export interface SessionResult {
  /** Exit code, or null when the command ended by a signal or the channel closed without one. */
  readonly code: number | null;
  readonly signal: string | null;
  /** Everything the command wrote to standard error: on a host, any of it means failure. */
  readonly stderr: string;
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

/** Standard output as lines, for one reader; a line a hook takes is kept out of it. */
class LineQueue {
  private readonly queue: string[] = [];
  private waiting: ((value: IteratorResult<string>) => void) | undefined;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  private ended = false;

  /** `taken` sees each line first; true keeps it out of the queue. */
  constructor(private readonly taken: (line: string) => boolean) {}

  write(data: Buffer): void {
    const text = this.partial + this.decoder.write(data);
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.push(line.replace(/\r$/, ''));
  }

  /** The output ended: a last unterminated line is a line, and the reader is told. */
  end(): void {
    if (this.ended) return;
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest !== '') this.push(rest.replace(/\r$/, ''));
    this.ended = true;
    this.wake({ value: undefined, done: true });
  }

  readonly lines: AsyncIterable<string> = {
    [Symbol.asyncIterator]: (): AsyncIterator<string> => ({
      next: () => {
        const line = this.queue.shift();
        if (line !== undefined) return Promise.resolve({ value: line, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
    }),
  };

  private push(line: string): void {
    if (this.taken(line)) return;
    if (this.waiting !== undefined) this.wake({ value: line, done: false });
    else this.queue.push(line);
  }

  private wake(result: IteratorResult<string>): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.(result);
  }
}

/**
 * Where a session is: `open` (the command runs), `aborting` (it was ended: killed, waiting for
 * the channel to close or the grace to pass) or `closed` (`done` has settled).
 */
type SessionState = 'open' | 'aborting' | 'closed';

export function openLineSession(channel: ClientChannel, options: LineSessionOptions): LineSessionControl {
  return new ChannelSession(channel, options).control;
}

/** One command's channel as a line session: its state, and a method per thing that can happen to it. */
class ChannelSession {
  private state: SessionState = 'open';
  private failure: EngineError | undefined;
  private stderr = '';
  private lastActivity = performance.now();
  private readonly bytes: ByteCounts;
  private readonly output: LineQueue;
  private readonly limits: LimitWatch;
  private grace: NodeJS.Timeout | undefined;
  private settle: { resolve: (result: SessionResult) => void; reject: (reason: EngineError) => void } | undefined;
  private readonly done: Promise<SessionResult>;
  readonly control: LineSessionControl;

  constructor(
    private readonly channel: ClientChannel,
    private readonly options: LineSessionOptions,
  ) {
    this.bytes = { command: options.commandBytes, payload: 0, dialog: 0 };
    this.output = new LineQueue((line) => {
      options.onLine?.(line);
      return this.control.intercept?.(line) === true;
    });
    this.done = new Promise<SessionResult>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // The caller may look only at the lines; a rejection is still reported through `done`.
    this.done.catch(() => {});
    this.control = this.makeControl();

    channel.on('data', (data: Buffer) => this.read(data));
    // Read standard error too: ssh2 emits 'close' only once both streams are consumed.
    channel.stderr.on('data', (data: Buffer) => this.readStderr(data));
    // The exit status comes with 'close': an 'exit' event can fire before anyone could listen.
    channel.on('close', (code?: number | null, signal?: string) => this.closed(code ?? null, signal ?? null));
    // A write on a closed channel would otherwise be an unhandled 'error' event.
    channel.on('error', (error: Error) =>
      this.abort(
        new EngineError('SSH_CLOSED', `the session with ${this.where} failed: ${error.message}`, {
          host: this.where,
          cause: error,
        }),
      ),
    );
    this.limits = watchLimits(options, this.where, () => performance.now() - this.lastActivity, this.abort);
    options.signal?.addEventListener('abort', this.onSignal, { once: true });
    if (options.signal?.aborted === true) this.onSignal();
  }

  private get where(): string {
    return this.options.where;
  }

  private touch(): void {
    this.lastActivity = performance.now();
  }

  private read(data: Buffer): void {
    this.touch();
    this.output.write(data);
  }

  private readStderr(data: Buffer): void {
    this.touch();
    const text = data.toString('utf8');
    this.stderr += text;
    this.options.onStderr?.(text);
  }

  /** Ends the command now; `done` rejects with `reason` once the channel closes, or after a grace. */
  readonly abort = (reason: EngineError): void => {
    if (this.state !== 'open') return;
    this.state = 'aborting';
    this.failure = reason;
    try {
      this.channel.signal('KILL');
    } catch {
      // Not every server takes signals; closing the channel ends the command anyway.
    }
    this.channel.close();
    // A host that stopped answering never confirms the close: its channel would close only when
    // the connection dies (the SSH keepalive, about a minute later). The limit the user set is
    // the one that holds, so the session ends here after a short grace.
    this.grace = setTimeout(() => this.end(() => this.settle?.reject(reason)), ABORT_GRACE_MS).unref();
  };

  private readonly onSignal = (): void =>
    this.abort(
      new EngineError('SSH_CLOSED', `the session with ${this.where} was aborted`, {
        host: this.where,
        cause: this.options.signal?.reason,
      }),
    );

  /** The channel closed: the exit status, or the reason the session was ended. */
  private closed(code: number | null, signal: string | null): void {
    const failure = this.failure;
    this.end(() =>
      failure !== undefined
        ? this.settle?.reject(failure)
        : this.settle?.resolve({ code, signal, stderr: this.stderr }),
    );
  }

  /** Stops the clock and the lines, then settles `done`. */
  private end(settle: () => void): void {
    this.state = 'closed';
    this.limits.stop();
    clearTimeout(this.grace);
    this.options.signal?.removeEventListener('abort', this.onSignal);
    this.output.end();
    settle();
  }

  private send(line: string): void {
    if (line.includes('\n')) throw new EngineError('USAGE', 'a dialog line cannot contain a line break');
    if (this.state === 'closed')
      throw new EngineError('SSH_CLOSED', `the session with ${this.where} has ended`, { host: this.where });
    this.touch();
    const data = `${line}\n`;
    this.bytes.dialog += Buffer.byteLength(data);
    this.channel.write(data);
  }

  private async writePayload(chunk: Buffer): Promise<void> {
    this.touch();
    this.bytes.payload += chunk.length;
    if (this.state === 'closed')
      throw new EngineError('SSH_CLOSED', `the session with ${this.where} ended during the transfer`, {
        host: this.where,
      });
    if (!this.channel.write(chunk)) await drained(this.channel);
  }

  private makeControl(): LineSessionControl {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getters below read the live session
    const self = this;
    const session: LineSession = {
      send: (line) => this.send(line),
      end: () => void this.channel.end(),
      abort: this.abort,
      done: this.done,
      get stderr() {
        return self.stderr;
      },
      get lastActivity() {
        return self.lastActivity;
      },
      bytes: this.bytes,
      lines: this.output.lines,
    };
    return {
      session,
      intercept: undefined,
      writeSecret: (text) => {
        if (this.state !== 'closed') this.channel.write(text);
      },
      writePayload: (chunk) => this.writePayload(chunk),
    };
  }
}

/** Waits for room on the channel, or for its end: a closed channel never drains. */
function drained(channel: ClientChannel): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      channel.off('drain', done);
      channel.off('close', done);
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
}
