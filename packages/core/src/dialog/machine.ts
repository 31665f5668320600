/**
 * The machine dialect: otopi's line protocol, byte for byte, for a manager (the engine)
 * that drives the run over standard input and output. docs/machine-dialog.md is the
 * protocol's reference; this file follows it.
 *
 * Framing is kept whatever the content: every line this dialect writes is one of the
 * documented kinds. Log messages and one-line fields have their line breaks turned into
 * spaces, notes become one `###` line per line, a displayed `str` holding line breaks is
 * sent as a multi-string block, and a block line containing the boundary has it replaced
 * by `**BOUNDARY**`.
 */
import { AbortError, OtopiError } from '../errors.js';
import { parseTypedValue, type EnvValue } from '../env/codec.js';
import type { ConsoleRecord } from '../log/logger.js';
import type { RunEvent } from '../runtime/events.js';
import { STAGE_INFO } from '../sequence/stages.js';
import {
  DialogBase,
  LINE_BREAKS,
  flatten,
  yesNo,
  type DialogBaseOptions,
  type PreparedConfirm,
  type PreparedQuery,
  type PreparedString,
} from './base.js';
import { ABORT_BOUNDARY, BOUNDARY_PLACEHOLDER } from './keys.js';
import type { PlannedEvent } from './types.js';

export interface MachineDialectOptions extends DialogBaseOptions {
  /** Writes protocol text (whole lines) to the manager. */
  readonly write: (text: string) => void;
}

export class MachineDialect extends DialogBase {
  protected readonly reasksInvalid = false;
  private readonly write: (text: string) => void;

  constructor(options: MachineDialectOptions) {
    super(options);
    this.write = options.write;
  }

  note(text: string): void {
    for (const line of noteLines(this.redact(text))) this.send(line === '' ? '###' : `### ${line}`);
  }

  log(record: ConsoleRecord): void {
    // Records are redacted by the log; they are not echoed into the transcript (they are in the log already).
    this.send(`***L:${record.level} ${flatten(record.message)}`, false);
  }

  protected writeValue(name: string, typed: string): void {
    this.send(`***D:VALUE ${name}=${this.redact(typed)}`);
  }

  displayMultiString(name: string, lines: readonly string[], note?: string): void {
    if (note !== undefined) this.note(note);
    this.send(`***D:MULTI-STRING ${name} ${this.boundary}`);
    // The body is not copied to the transcript: `log` would otherwise grow the log by itself.
    this.transcript('SEND', `(${lines.length} lines)`);
    for (const item of lines) {
      for (const line of item.split(LINE_BREAKS))
        this.send(this.redact(line).replaceAll(this.boundary, BOUNDARY_PLACEHOLDER), false);
    }
    this.send(this.boundary);
  }

  // Plan and event lines stay out of the transcript: the log has the plan and every handler already.
  announcePlan(events: readonly PlannedEvent[]): void {
    this.send('**%EventsListStart', false);
    for (const e of events) this.send(`**%EventsListEntry ${eventText(e.stage, e.name)}`, false);
    this.send('**%EventsListEnd', false);
  }

  runEvent(event: RunEvent): void {
    if (event.type === 'handler-start') this.send(`**%EventStart ${eventText(event.stage, event.handler)}`, false);
    else if (event.type === 'handler-end') this.send(`**%EventEnd ${eventText(event.stage, event.handler)}`, false);
  }

  terminate(): void {
    if (this.closed) return;
    this.send('***TERMINATE');
    this.closed = true;
    this.lines.close();
  }

  protected showAnswered(note: string, shown: string): void {
    this.note(note);
    this.note(`Answer found in the environment: ${shown}`);
  }

  protected async readString(query: PreparedString): Promise<string> {
    this.send(`**%QStart: ${query.name}`);
    this.note(query.note);
    if (query.default !== undefined && query.default !== '') this.send(`**%QDefault: ${this.redact(query.default)}`);
    if (query.validValues !== undefined) {
      this.send(
        `**%QValidValues: ${query.validValues.map((v) => v.replaceAll('\\', '\\\\').replaceAll('|', '\\|')).join('|')}`,
      );
    }
    this.send(`**%QHidden: ${query.hidden ? 'TRUE' : 'FALSE'}`);
    this.send(`***Q:STRING ${query.name}`);
    this.send(`**%QEnd: ${query.name}`);
    return this.receive(query, query.hidden);
  }

  protected async readMultiString(query: PreparedQuery): Promise<string[]> {
    this.send(`**%QStart: ${query.name}`);
    if (query.note !== undefined) this.note(query.note);
    this.note(`Send the lines, then a line holding only the boundary; the abort boundary aborts the run.`);
    this.send(`***Q:MULTI-STRING ${query.name} ${this.boundary} ${ABORT_BOUNDARY}`);
    this.send(`**%QEnd: ${query.name}`);
    const lines: string[] = [];
    // The boundaries are never secrets, whatever `secretsIn` says of other lines.
    const secretsIn = query.secretsIn;
    const content =
      secretsIn === undefined
        ? query
        : { ...query, secretsIn: (l: string) => (l === this.boundary || l === ABORT_BOUNDARY ? [] : secretsIn(l)) };
    for (;;) {
      const line = await this.receive(content, false, 'multi-str');
      if (line === this.boundary) return lines;
      if (line === ABORT_BOUNDARY) throw new AbortError(`Aborted by the manager at '${query.name}'`);
      lines.push(line);
    }
  }

  protected async readValue(query: PreparedQuery): Promise<EnvValue> {
    this.send(`**%QStart: ${query.name}`);
    if (query.note !== undefined) this.note(query.note);
    this.note(`Reply with VALUE ${query.name}=type:value, or ABORT ${query.name}`);
    this.send(`***Q:VALUE ${query.name}`);
    this.send(`**%QEnd: ${query.name}`);
    return parseValueReply(await this.receive(query, false, 'type'), query.name);
  }

  protected async readConfirm(query: PreparedConfirm): Promise<boolean> {
    this.send(`***CONFIRM ${query.name} ${this.redact(query.description)}`);
    if (query.note !== undefined) this.note(query.note);
    this.note(`Reply with CONFIRM ${query.name}=yes or CONFIRM ${query.name}=no, or ABORT ${query.name}`);
    return parseConfirmReply(await this.receive(query), query.name);
  }

  private async receive(
    query: Pick<PreparedQuery, 'name' | 'slot' | 'secretsIn'>,
    hidden = false,
    type = 'str',
  ): Promise<string> {
    const line = await this.lines.read();
    if (line === undefined) {
      const hint = this.answerHint({ slot: query.slot, hidden }, type);
      throw new OtopiError('DIALOG_EOF', `end of input while waiting for the reply to '${query.name}'`, {
        ...(hint === '' ? {} : { hint }),
      });
    }
    this.received(query, line, hidden);
    return line;
  }

  private send(line: string, logged = true): void {
    if (this.closed) return;
    if (logged) this.transcript('SEND', line);
    this.write(`${line}\n`);
  }
}

/** `STAGE <wire id> METHOD <name> (<name>)`, as otopi prints around and before each handler. */
function eventText(stage: PlannedEvent['stage'], name: string): string {
  return `STAGE ${STAGE_INFO[stage].wireId} METHOD ${name} (${name})`;
}

/** A note's lines; a final line break adds no empty line. */
function noteLines(text: string): string[] {
  const lines = text.split(LINE_BREAKS).map((l) => l.trimEnd());
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function badReply(line: string, expected: string): OtopiError {
  const shown = line.length > 200 ? `${line.slice(0, 200)}…` : line;
  return new OtopiError('DIALOG_BAD_REPLY', `unexpected reply '${shown}': expected ${expected}`, {
    hint: 'The manager and this run disagree about the dialog; see docs/machine-dialog.md.',
  });
}

/**
 * Parses the reply to `***Q:VALUE <name>`: `VALUE <name>=<type>:<value>` or `ABORT <name>`.
 *
 * @throws AbortError for `ABORT <name>`; OtopiError `DIALOG_BAD_REPLY` for anything else,
 * including the right opcode with another name or a value that does not parse.
 */
export function parseValueReply(line: string, name: string): EnvValue {
  const expected = `VALUE ${name}=type:value or ABORT ${name}`;
  if (line === `ABORT ${name}`) throw new AbortError(`Aborted by the manager at '${name}'`);
  if (!line.startsWith('VALUE ') || !line.startsWith(`VALUE ${name}=`)) throw badReply(line, expected);
  try {
    return parseTypedValue(line.slice(`VALUE ${name}=`.length), { key: name }).value;
  } catch (error) {
    const problem = error instanceof Error ? error.message : String(error);
    throw new OtopiError('DIALOG_BAD_REPLY', `bad value in reply to '${name}': ${problem}`, {
      cause: error,
      hint: 'Types are none, bool, int, str and multi-str, e.g. VALUE KEY=int:7.',
    });
  }
}

/**
 * Parses the reply to `***CONFIRM <name> …`: `CONFIRM <name>=yes|no` (also `y`/`n`, any
 * case) or `ABORT <name>`.
 *
 * @throws AbortError for `ABORT <name>`; OtopiError `DIALOG_BAD_REPLY` otherwise.
 */
export function parseConfirmReply(line: string, name: string): boolean {
  if (line === `ABORT ${name}`) throw new AbortError(`Aborted by the manager at '${name}'`);
  const prefix = `CONFIRM ${name}=`;
  const value = line.startsWith(prefix) ? yesNo(line.slice(prefix.length)) : undefined;
  if (value === undefined) throw badReply(line, `CONFIRM ${name}=yes, CONFIRM ${name}=no or ABORT ${name}`);
  return value;
}
