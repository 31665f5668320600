/**
 * The manager's side of the machine dialog: turns the host's output lines into events.
 * Written from docs/machine-dialog.md and tolerant of the original otopi's habits (its first
 * `**%EventEnd` without a start, notes after `***CONFIRM`), so it drives both.
 *
 * Strict where it matters: a line that is none of the documented forms is a protocol error
 * (`DialogProtocolError`), never silently skipped, because a stray line means the host
 * side is broken or is not an otopi run at all.
 */

export const DEFAULT_BOUNDARY = '--=451b80dc-996f-432e-9e4f-2b29ef6d1141=--';
export const DEFAULT_ABORT_BOUNDARY = '--=451b80dc-996f-ABORT-9e4f-2b29ef6d1141=--';

export type LogLevel = 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL' | 'FATAL';

/** What a `**%QStart` … `**%QEnd` frame said about the question it frames. */
export interface QueryInfo {
  readonly default?: string;
  readonly validValues?: readonly string[];
  readonly hidden?: boolean;
  readonly notes: readonly string[];
}

export type DialogEvent =
  | { readonly kind: 'note'; readonly text: string }
  | { readonly kind: 'log'; readonly level: LogLevel; readonly text: string }
  | { readonly kind: 'query-string'; readonly name: string; readonly info: QueryInfo }
  | {
      readonly kind: 'query-multi-string';
      readonly name: string;
      readonly boundary: string;
      readonly abortBoundary: string;
      readonly info: QueryInfo;
    }
  | { readonly kind: 'query-value'; readonly name: string; readonly info: QueryInfo }
  | { readonly kind: 'confirm'; readonly name: string; readonly description: string }
  | { readonly kind: 'display-value'; readonly name: string; readonly type: string; readonly value: string }
  | { readonly kind: 'display-multi-string'; readonly name: string; readonly lines: readonly string[] }
  | { readonly kind: 'events-list'; readonly entries: readonly HandlerRef[] }
  | { readonly kind: 'event-start'; readonly handler: HandlerRef }
  | { readonly kind: 'event-end'; readonly handler: HandlerRef }
  | { readonly kind: 'terminate' };

export interface HandlerRef {
  /** Wire stage id (`customization`, `transaction-prepare`, …). */
  readonly stage: string;
  readonly name: string;
}

export class DialogProtocolError extends Error {
  override readonly name = 'DialogProtocolError';
  constructor(
    message: string,
    readonly line: string,
  ) {
    super(message);
  }
}

const NAME = String.raw`[A-Za-z0-9_][A-Za-z0-9_./-]*`;
// `s`: TEXT is anything but the line break, and a line (already split at \n) may hold U+2028
// or U+2029, which `.` would not match otherwise.
const LOG_RE = /^\*\*\*L:(INFO|WARNING|ERROR|CRITICAL|FATAL)(?: (.*))?$/s;
const Q_STRING_RE = new RegExp(`^\\*\\*\\*Q:STRING (${NAME})$`);
const Q_MULTI_RE = new RegExp(`^\\*\\*\\*Q:MULTI-STRING (${NAME}) (\\S+) (\\S+)$`);
const Q_VALUE_RE = new RegExp(`^\\*\\*\\*Q:VALUE (${NAME})$`);
const CONFIRM_RE = new RegExp(`^\\*\\*\\*CONFIRM (${NAME})(?: (.*))?$`, 's');
const D_VALUE_RE = new RegExp(`^\\*\\*\\*D:VALUE (${NAME})=([a-z-]+):(.*)$`, 's');
const D_MULTI_RE = new RegExp(`^\\*\\*\\*D:MULTI-STRING (${NAME}) (\\S+)$`);
const EVENT_RE = /^\*\*%(EventsListEntry|EventStart|EventEnd) STAGE (\S+) METHOD (\S+)(?: \((.*)\))?$/s;

/** Feed lines in order; each call returns the events that line completed (often none). */
export class DialogParser {
  private block: { name: string; boundary: string; lines: string[] } | undefined;
  private frame:
    { name: string; default?: string; validValues?: string[]; hidden?: boolean; notes: string[] } | undefined;
  private eventsList: HandlerRef[] | undefined;

  push(raw: string): DialogEvent[] {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.block !== undefined) {
      if (line === this.block.boundary) {
        const { name, lines } = this.block;
        this.block = undefined;
        return [{ kind: 'display-multi-string', name, lines }];
      }
      this.block.lines.push(line);
      return [];
    }
    if (line.startsWith('#')) {
      const text = line.replace(/^#+ ?/, '');
      this.frame?.notes.push(text);
      return [{ kind: 'note', text }];
    }
    if (line.startsWith('**%')) return this.extra(line);
    if (line.startsWith('***')) return this.request(line);
    throw new DialogProtocolError(`unexpected line from the host: ${JSON.stringify(line.slice(0, 200))}`, line);
  }

  /** Whether the stream stopped in the middle of a block (an incomplete transcript). */
  get pending(): boolean {
    return this.block !== undefined;
  }

  private info(name: string): QueryInfo {
    const frame = this.frame?.name === name ? this.frame : undefined;
    return {
      notes: frame?.notes ?? [],
      ...(frame?.default === undefined ? {} : { default: frame.default }),
      ...(frame?.validValues === undefined ? {} : { validValues: frame.validValues }),
      ...(frame?.hidden === undefined ? {} : { hidden: frame.hidden }),
    };
  }

  private request(line: string): DialogEvent[] {
    let m: RegExpExecArray | null;
    if ((m = LOG_RE.exec(line))) return [{ kind: 'log', level: m[1] as LogLevel, text: m[2] ?? '' }];
    if ((m = Q_STRING_RE.exec(line))) return [{ kind: 'query-string', name: m[1]!, info: this.info(m[1]!) }];
    if ((m = Q_MULTI_RE.exec(line))) {
      return [
        { kind: 'query-multi-string', name: m[1]!, boundary: m[2]!, abortBoundary: m[3]!, info: this.info(m[1]!) },
      ];
    }
    if ((m = Q_VALUE_RE.exec(line))) return [{ kind: 'query-value', name: m[1]!, info: this.info(m[1]!) }];
    if ((m = CONFIRM_RE.exec(line))) return [{ kind: 'confirm', name: m[1]!, description: m[2] ?? '' }];
    if ((m = D_VALUE_RE.exec(line))) return [{ kind: 'display-value', name: m[1]!, type: m[2]!, value: m[3]! }];
    if ((m = D_MULTI_RE.exec(line))) {
      this.block = { name: m[1]!, boundary: m[2]!, lines: [] };
      return []; // the event comes when the block closes
    }
    if (line === '***TERMINATE') return [{ kind: 'terminate' }];
    throw new DialogProtocolError(`unknown request from the host: ${JSON.stringify(line.slice(0, 200))}`, line);
  }

  private extra(line: string): DialogEvent[] {
    const field = (prefix: string): string | undefined =>
      line.startsWith(prefix) ? line.slice(prefix.length) : undefined;
    let value: string | undefined;
    if ((value = field('**%QStart: ')) !== undefined) {
      this.frame = { name: value, notes: [] };
      return [];
    }
    if ((value = field('**%QDefault: ')) !== undefined) {
      if (this.frame) this.frame.default = value;
      return [];
    }
    if ((value = field('**%QValidValues: ')) !== undefined) {
      if (this.frame) this.frame.validValues = splitValidValues(value);
      return [];
    }
    if ((value = field('**%QHidden: ')) !== undefined) {
      if (this.frame) this.frame.hidden = value === 'TRUE';
      return [];
    }
    if (field('**%QEnd: ') !== undefined) {
      this.frame = undefined;
      return [];
    }
    if (line === '**%EventsListStart') {
      this.eventsList = [];
      return [];
    }
    if (line === '**%EventsListEnd') {
      const entries = this.eventsList ?? [];
      this.eventsList = undefined;
      return [{ kind: 'events-list', entries }];
    }
    const m = EVENT_RE.exec(line);
    if (m) {
      const handler: HandlerRef = { stage: m[2]!, name: m[3]! };
      if (m[1] === 'EventsListEntry') {
        this.eventsList?.push(handler);
        return [];
      }
      return [{ kind: m[1] === 'EventStart' ? 'event-start' : 'event-end', handler }];
    }
    // Other `**%` lines are extra information a manager may ignore (the protocol says so).
    return [];
  }
}

/** `a|b\|c|d\\e` → `a`, `b|c`, `d\e`. */
export function splitValidValues(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      current += text[++i];
    } else if (c === '|') {
      out.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  out.push(current);
  return out;
}
