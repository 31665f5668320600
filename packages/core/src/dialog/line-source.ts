/**
 * Lines from an input stream, read with `node:readline`'s async iterator, which buffers
 * every line that arrives (piped input sent ahead of its question is kept; the promise
 * `question()` API drops it). Opened lazily, so a run that asks nothing never reads its
 * input and never waits on it.
 *
 * On a terminal, `readHidden` switches to raw mode so the answer is not echoed; it then
 * does the line editing the terminal no longer does (backspace, Ctrl-U) and treats
 * Ctrl-C and Ctrl-D itself.
 */
import { createInterface, type Interface } from 'node:readline';
import { AbortError } from '../errors.js';

/** The input side of a terminal or pipe; `process.stdin` fits. */
export interface DialogInput extends NodeJS.ReadableStream {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export class LineSource {
  private rl: Interface | undefined;
  private iterator: AsyncIterator<string> | undefined;
  private ended = false;
  private closed = false;
  private cancel: ((error: Error) => void) | undefined;
  private pending: Promise<IteratorResult<string>> | undefined;

  constructor(private readonly input: DialogInput) {}

  /** Whether the input is a terminal (prompts may be edited, echo can be turned off). */
  get isTerminal(): boolean {
    return this.input.isTTY === true && typeof this.input.setRawMode === 'function';
  }

  /** Whether the input has ended (or was closed); every later read returns `undefined`. */
  get atEnd(): boolean {
    return this.ended || this.closed;
  }

  /** The next line without its line break, or `undefined` at end of input. */
  async read(): Promise<string | undefined> {
    if (this.atEnd) return undefined;
    const iterator = this.open();
    // A read cut short by an interrupt leaves its request pending; the next read takes it
    // over, so the line it brings is not lost.
    const pending = (this.pending ??= iterator.next());
    const next = await new Promise<IteratorResult<string>>((resolve, reject) => {
      this.cancel = reject;
      pending.then(resolve, reject);
    }).finally(() => {
      this.cancel = undefined;
    });
    this.pending = undefined;
    if (next.done === true) {
      this.ended = true;
      return undefined;
    }
    return next.value;
  }

  /** Like {@link read}, without echo on a terminal. */
  async readHidden(): Promise<string | undefined> {
    if (!this.isTerminal || this.atEnd) return this.read();
    const input = this.input;
    const watch = (chunk: Buffer | string): void => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      // Raw mode turns off the terminal's signals; Ctrl-C must still stop the run.
      if (text.includes('\u0003')) this.interrupt(new AbortError('Interrupted while reading a hidden answer'));
    };
    input.setRawMode?.(true);
    input.on('data', watch);
    try {
      const line = await this.read();
      if (line === undefined) return undefined;
      // Ctrl-D on an empty line ends the input, as it would in cooked mode.
      if (line === '\u0004') {
        this.ended = true;
        return undefined;
      }
      return editLine(line);
    } finally {
      input.off('data', watch);
      input.setRawMode?.(false);
    }
  }

  /** Makes a pending read reject with `error`. */
  interrupt(error: Error): void {
    this.cancel?.(error);
  }

  /** Stops reading; the stream is paused so it no longer keeps the process alive. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.interrupt(new AbortError('The dialog was closed while waiting for input'));
    this.rl?.close();
    if (this.isTerminal) this.input.setRawMode?.(false);
    this.input.pause();
  }

  private open(): AsyncIterator<string> {
    if (this.iterator === undefined) {
      this.rl = createInterface({ input: this.input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
      // Ask for the iterator at once: lines read before it exists would be lost.
      this.iterator = this.rl[Symbol.asyncIterator]();
    }
    return this.iterator;
  }
}

/** Applies the editing keys a raw-mode terminal leaves in the text. */
export function editLine(raw: string): string {
  const out: string[] = [];
  for (const ch of raw) {
    if (ch === '\u007f' || ch === '\b') out.pop();
    else if (ch === '\u0015') out.length = 0;
    else if (ch >= ' ' || ch === '\t') out.push(ch);
  }
  return out.join('');
}
