/**
 * The human dialect: log records as `[ INFO  ] text`, indented notes, and prompts on a
 * terminal. The default is shown and taken with Enter; an invalid answer is refused and
 * asked again with the valid values listed; a hidden answer is read without echo.
 *
 * Input is standard input, terminal or not. When it is not a terminal, the answers are
 * read from it line by line (piped input works), and when it has ended the question
 * fails at once, naming the key that would answer it unattended: a run without a
 * terminal never hangs waiting for one.
 */
import { AbortError, OtopiError } from '../errors.js';
import { parseTypedValue, type EnvValue } from '../env/codec.js';
import type { ConsoleRecord } from '../log/logger.js';
import { colourDiffLine, escapeTerminal } from '../log/terminal.js';
import {
  DialogBase,
  LINE_BREAKS,
  yesNo,
  type DialogBaseOptions,
  type PreparedConfirm,
  type PreparedQuery,
  type PreparedString,
} from './base.js';
import { formatNote, formatRecord, type ConsoleWriter } from './console.js';
import { ABORT_BOUNDARY } from './keys.js';

export interface HumanDialectOptions extends DialogBaseOptions {
  readonly output: ConsoleWriter;
}

const INDENT = '          ';
/** Ends multi-line input typed by a person; the boundary works too, for scripts. */
const END_OF_LINES = '.';

export class HumanDialect extends DialogBase {
  protected readonly reasksInvalid = true;
  private readonly output: ConsoleWriter;

  constructor(options: HumanDialectOptions) {
    super(options);
    this.output = options.output;
  }

  private get colour(): boolean {
    return this.output.isTTY === true;
  }

  note(text: string): void {
    this.print(formatNote(this.redact(text)));
  }

  log(record: ConsoleRecord): void {
    this.print(formatRecord(record, this.colour));
  }

  showChanges(title: string, lines: string): void {
    const text = `${title}\n${lines}`;
    if (!this.colour) return this.note(text);
    // What files hold is escaped before it is coloured, so only our colours reach the terminal.
    const shown = escapeTerminal(this.redact(text)).split('\n');
    this.print(formatNote([shown[0] ?? '', ...shown.slice(1).map(colourDiffLine)].join('\n')));
  }

  protected writeValue(name: string, typed: string): void {
    this.print(`D:VALUE ${name}=${this.redact(typed)}\n`);
  }

  displayMultiString(name: string, lines: readonly string[], note?: string): void {
    if (note !== undefined) this.note(note);
    const body = lines.map((l) => `${this.redact(l)}\n`).join('');
    this.print(`D:MULTI-STRING ${name} ${this.boundary}\n${body}${this.boundary}\n`);
  }

  terminate(): void {
    this.closed = true;
    this.lines.close();
  }

  protected showAnswered(note: string, shown: string): void {
    this.prompt(/\s$/.test(note) ? note : `${note}: `);
    this.print(`${this.redact(shown)}\n`);
  }

  protected async readString(query: PreparedString, problem: string | undefined): Promise<string> {
    if (problem !== undefined) this.error(`Invalid answer: ${problem}`);
    this.prompt(query.note);
    const line = await this.readLine(query, query.hidden);
    return query.hidden ? line : line.trim();
  }

  protected async readMultiString(query: PreparedQuery): Promise<string[]> {
    if (query.note !== undefined) this.note(query.note);
    this.note(`Type the lines for '${query.name}', then a line holding only '${END_OF_LINES}'.`);
    const lines: string[] = [];
    // The end markers are never secrets, whatever `secretsIn` says of other lines.
    const secretsIn = query.secretsIn;
    const ends = [END_OF_LINES, this.boundary, ABORT_BOUNDARY];
    const content =
      secretsIn === undefined ? query : { ...query, secretsIn: (l: string) => (ends.includes(l) ? [] : secretsIn(l)) };
    for (;;) {
      const line = await this.readLine(content, false, 'multi-str', false);
      if (line === END_OF_LINES || line === this.boundary) return lines;
      if (line === ABORT_BOUNDARY) throw new AbortError(`Aborted at '${query.name}'`);
      lines.push(line);
    }
  }

  protected async readValue(query: PreparedQuery): Promise<EnvValue> {
    for (;;) {
      this.prompt(
        `${query.note ?? `Value for '${query.name}'`}\nType it as type:value (str:text, int:7, bool:yes, none:): `,
      );
      const line = (await this.readLine(query, false, 'type')).trim();
      try {
        return parseTypedValue(line, { key: query.name }).value;
      } catch (error) {
        this.error(`Invalid answer: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  protected async readConfirm(query: PreparedConfirm): Promise<boolean> {
    if (query.note !== undefined) this.note(query.note);
    for (;;) {
      this.prompt(`Please confirm ${query.description} [yes/no]: `);
      const answer = yesNo((await this.readLine(query, false)).trim());
      if (answer !== undefined) return answer;
      this.error("Invalid answer: please answer 'yes' or 'no'");
    }
  }

  /** Reads one line for `query`; at end of input fails with a message naming the answer key. */
  private async readLine(query: PreparedQuery, hidden: boolean, type = 'str', afterPrompt = true): Promise<string> {
    const line = hidden ? await this.lines.readHidden() : await this.lines.read();
    // What the user typed was not echoed (a pipe, or a hidden answer): end the prompt line ourselves.
    if (afterPrompt && (!this.lines.isTerminal || hidden)) this.print('\n');
    if (line === undefined) throw this.noInput(query, hidden, type);
    this.received(query, line, hidden);
    return line;
  }

  private noInput(query: PreparedQuery, hidden: boolean, type: string): OtopiError {
    const hint = this.answerHint({ slot: query.slot, hidden }, type);
    const options =
      hint === ''
        ? {}
        : { hint, ...(query.slot === undefined ? {} : { key: hidden ? query.slot.hiddenKey : query.slot.key }) };
    if (this.lines.isTerminal) {
      return new OtopiError('DIALOG_EOF', `input closed while asking '${query.name}'`, options);
    }
    return new OtopiError(
      'DIALOG_NO_TERMINAL',
      `question '${query.name}' needs an answer, but standard input has ended and no terminal is attached`,
      options,
    );
  }

  /** Prints the text's lines as a note, the last one as the prompt (no line break). */
  private prompt(text: string): void {
    const lines = this.redact(text).split(LINE_BREAKS);
    const last = lines.pop() ?? '';
    if (lines.length > 0) this.print(formatNote(lines.join('\n')));
    if (last !== '') this.print(`${INDENT}${last}`);
    this.transcript('SEND', text.replace(/\s+$/, ''));
  }

  private error(message: string): void {
    this.print(formatRecord({ level: 'ERROR', message: this.redact(message) }, this.colour));
    this.transcript('SEND', `ERROR ${message}`);
  }

  private print(text: string): void {
    if (!this.closed) this.output.write(text);
  }
}
