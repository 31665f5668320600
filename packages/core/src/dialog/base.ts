/**
 * What every dialect shares: answers looked up in and stored to `QUESTION/<n>/<name>`,
 * auto-accepted defaults, validation of string answers, secrets for hidden answers and
 * the transcript in the log. A dialect only does input and output.
 *
 * Where an answer comes from, in order:
 * 1. for a hidden question, `QUESTION_HIDDEN/<n>/<name>` (a sensitive family, so the value
 *    is redacted from the moment it is set), then `QUESTION/<n>/<name>`; otherwise only the latter;
 * 2. the default, when `DIALOG/autoAcceptDefault` is on;
 * 3. the dialect (a terminal prompt or a machine reply).
 * The answer is stored in `QUESTION/<n>/<name>`; a hidden one is first registered as a secret.
 */
import { OtopiError } from '../errors.js';
import { formatTypedValue, splitLines, typeTagOf, type EnvValue } from '../env/codec.js';
import { keysOf } from '../env/declare.js';
import type { Environment } from '../env/environment.js';
import type { ConsoleRecord, Logger } from '../log/logger.js';
import type { Redactor } from '../log/redact.js';
import { DialogEnv, HiddenQuestionAnswers, QuestionAnswers } from './keys.js';
import { LineSource, type DialogInput } from './line-source.js';
import type { ConfirmQuery, Dialog, MultiStringQuery, StringQuery, ValueQuery } from './types.js';

/** Any line break a value may hold. */
export const LINE_BREAKS = /\r\n|\r|\n/;

export interface DialogBaseOptions {
  readonly env: Environment;
  /** Where replies and answers are read from, a line at a time. */
  readonly input: DialogInput;
  /** Applied to everything shown; log records arrive already redacted. */
  readonly redactor: Redactor;
  /** Receives the transcript (`DIALOG:SEND`/`DIALOG:RECEIVE`) at debug level. */
  readonly log?: Logger;
}

/** Where a question's answer lives; `undefined` for queries that do not remember. */
export interface AnswerSlot {
  /** Question name as asked (`DIALOG_CONFIRM/<name>` for confirmations). */
  readonly question: string;
  readonly n: number;
  /** `QUESTION/<n>/<question>`. */
  readonly key: string;
  /** `QUESTION_HIDDEN/<n>/<question>`. */
  readonly hiddenKey: string;
}

/** A string query with its defaults filled in and its note substituted. */
export interface PreparedString {
  readonly name: string;
  readonly note: string;
  readonly validValues: readonly string[] | undefined;
  readonly caseSensitive: boolean;
  readonly hidden: boolean;
  readonly default: string | undefined;
  readonly slot: AnswerSlot | undefined;
  readonly secretsIn: ((reply: string) => readonly string[]) | undefined;
  readonly validate: ((answer: string) => string | undefined) | undefined;
}

export interface PreparedQuery {
  readonly name: string;
  /** The plugin's note, or `undefined` when it gave none. */
  readonly note: string | undefined;
  readonly slot: AnswerSlot | undefined;
  readonly secretsIn: ((reply: string) => readonly string[]) | undefined;
}

export interface PreparedConfirm extends PreparedQuery {
  readonly description: string;
}

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
const YES = ['yes', 'y'];
const NO = ['no', 'n'];

export abstract class DialogBase implements Dialog {
  protected readonly env: Environment;
  protected readonly redactor: Redactor;
  protected readonly lines: LineSource;
  /** Ends a multi-line block (`DIALOG/boundary`). */
  protected readonly boundary: string;
  protected closed = false;
  private readonly transcriptLog: Logger | undefined;
  private readonly asked = new Map<string, number>();
  /** Whether a reply since the last {@link takeReplySecret} held a secret (see `secretsIn`). */
  private replyHeldSecret = false;

  /** Whether an invalid answer is asked again (a person) or ends the run (a program). */
  protected abstract readonly reasksInvalid: boolean;

  constructor(options: DialogBaseOptions) {
    this.env = options.env;
    this.redactor = options.redactor;
    this.transcriptLog = options.log;
    // Idempotent: the runtime's dialog plugin declares the same objects.
    this.env.declare(keysOf(DialogEnv));
    this.env.declareFamily(QuestionAnswers);
    this.env.declareFamily(HiddenQuestionAnswers);
    this.lines = new LineSource(options.input);
    this.boundary = this.env.get(DialogEnv.boundary);
  }

  /** Makes a pending read fail with `error` (a signal, the manager gone). */
  interrupt(error: Error): void {
    this.lines.interrupt(error);
  }

  abstract note(text: string): void;
  abstract log(record: ConsoleRecord): void;
  /** Writes one `type:value` display line; values with line breaks never reach it. */
  protected abstract writeValue(name: string, typed: string): void;

  /** Shows a value; a list or a text with line breaks goes as a multi-string block, so framing holds. */
  displayValue(name: string, value: EnvValue, note?: string): void {
    if (Array.isArray(value) || (typeof value === 'string' && LINE_BREAKS.test(value))) {
      this.displayMultiString(
        name,
        typeof value === 'string' ? value.split(LINE_BREAKS) : (value as readonly string[]),
        note,
      );
      return;
    }
    if (note !== undefined) this.note(note);
    this.writeValue(name, formatTypedValue(value));
  }
  abstract displayMultiString(name: string, lines: readonly string[], note?: string): void;
  abstract terminate(): void | Promise<void>;

  /** Reads one reply to a string query; `problem` says why the previous one was refused. */
  protected abstract readString(query: PreparedString, problem: string | undefined): Promise<string>;
  protected abstract readMultiString(query: PreparedQuery): Promise<string[]>;
  protected abstract readValue(query: PreparedQuery): Promise<EnvValue>;
  protected abstract readConfirm(query: PreparedConfirm): Promise<boolean>;
  /** Shows the question and the answer found for it, instead of asking. */
  protected abstract showAnswered(note: string, shown: string): void;

  async queryString(query: StringQuery): Promise<string> {
    const prepared = prepareString(query, this.slotFor(query.name, query.remember));
    const hidden = prepared.hidden;
    const given = this.givenAnswer(prepared.slot, hidden);
    if (given !== undefined) {
      if (typeof given.value !== 'string') throw wrongType(given.key, given.value, 'str');
      const checked = checkString(prepared, given.value);
      if ('problem' in checked) throw invalidGiven(given.key, checked.problem);
      this.showAnswered(prepared.note, hidden ? '(hidden)' : checked.value);
      this.record(prepared.slot, checked.value, hidden);
      return checked.value;
    }
    if (prepared.default !== undefined && this.env.get(DialogEnv.autoAcceptDefault)) {
      const value = checkString(prepared, '');
      if ('value' in value) {
        this.showAnswered(prepared.note, hidden ? '(hidden default)' : `${value.value} (default)`);
        this.record(prepared.slot, value.value, hidden);
        return value.value;
      }
    }
    let problem: string | undefined;
    for (;;) {
      this.takeReplySecret();
      const raw = await this.readString(prepared, problem);
      if (hidden) this.env.addSecret(raw);
      const checked = checkString(prepared, raw);
      if ('value' in checked) {
        if (hidden) this.env.addSecret(checked.value);
        this.record(prepared.slot, checked.value, hidden || this.takeReplySecret());
        return checked.value;
      }
      if (!this.reasksInvalid) {
        throw new OtopiError('DIALOG_INVALID_VALUE', `invalid answer to '${prepared.name}': ${checked.problem}`, {
          ...(prepared.slot === undefined ? {} : { key: prepared.slot.key }),
        });
      }
      problem = checked.problem;
    }
  }

  async queryMultiString(query: MultiStringQuery): Promise<string[]> {
    const prepared = prepareQuery(query, this.slotFor(query.name, query.remember));
    const given = this.givenAnswer(prepared.slot, false);
    if (given !== undefined) {
      const value = given.value;
      const lines = typeof value === 'string' ? splitLines(value) : Array.isArray(value) ? [...value] : undefined;
      if (lines === undefined) throw wrongType(given.key, value, 'multi-str');
      const problem = query.validate?.(withoutTrailingEmpty(lines));
      if (problem !== undefined) throw invalidGiven(given.key, problem);
      this.showAnswered(prepared.note ?? `Lines for '${prepared.name}'`, `${lines.length} line(s)`);
      return lines;
    }
    for (;;) {
      this.takeReplySecret();
      // A person's paste often ends with empty lines; they mean nothing, and an answer file
      // cannot hold them. A manager's reply (machine dialect) is taken byte for byte.
      const read = await this.readMultiString(prepared);
      const lines = this.reasksInvalid ? withoutTrailingEmpty(read) : read;
      const problem = query.validate?.(lines);
      if (problem === undefined) {
        this.record(prepared.slot, lines, this.takeReplySecret());
        return lines;
      }
      if (!this.reasksInvalid) {
        throw new OtopiError('DIALOG_INVALID_VALUE', `invalid answer to '${prepared.name}': ${problem}`, {
          ...(prepared.slot === undefined ? {} : { key: prepared.slot.key }),
        });
      }
      this.log({ level: 'ERROR', message: `Invalid answer: ${problem}; type the lines again` });
    }
  }

  async queryValue(query: ValueQuery): Promise<EnvValue> {
    const prepared = prepareQuery(query, this.slotFor(query.name, query.remember));
    const given = this.givenAnswer(prepared.slot, false);
    if (given !== undefined) {
      this.showAnswered(prepared.note ?? `Value for '${prepared.name}'`, formatTypedValue(given.value));
      return given.value;
    }
    this.takeReplySecret();
    const value = await this.readValue(prepared);
    this.record(prepared.slot, value, this.takeReplySecret());
    return value;
  }

  async confirm(query: ConfirmQuery): Promise<boolean> {
    const prepared: PreparedConfirm = {
      ...prepareQuery(query, this.slotFor(`DIALOG_CONFIRM/${query.name}`, query.remember)),
      name: query.name,
      description: flatten(query.description),
    };
    const given = this.givenAnswer(prepared.slot, false);
    if (given !== undefined) {
      const value =
        typeof given.value === 'boolean'
          ? given.value
          : typeof given.value === 'string'
            ? yesNo(given.value.trim())
            : undefined;
      if (value === undefined) throw invalidGiven(given.key, "a confirmation is answered with 'yes' or 'no'");
      this.showAnswered(`Confirm ${prepared.description}`, value ? 'yes' : 'no');
      return value;
    }
    const value = await this.readConfirm(prepared);
    this.record(prepared.slot, value ? 'yes' : 'no', false);
    return value;
  }

  /** Text as shown to the user: secrets replaced. */
  protected redact(text: string): string {
    return this.redactor.redact(text);
  }

  /**
   * Takes in one reply line: registers it as a secret when hidden, and the secrets
   * `secretsIn` finds in it, then logs it (a hidden one as `(hidden)`). Every dialect calls
   * this before anything else sees the line.
   */
  protected received(
    query: { readonly secretsIn?: ((reply: string) => readonly string[]) | undefined },
    line: string,
    hidden: boolean,
  ): void {
    if (hidden) this.env.addSecret(line);
    for (const secret of query.secretsIn?.(line) ?? []) {
      this.env.addSecret(secret);
      this.replyHeldSecret = true;
    }
    this.transcript('RECEIVE', hidden ? '(hidden)' : line);
  }

  /** Whether a reply held a secret since the last call; resets. */
  private takeReplySecret(): boolean {
    const held = this.replyHeldSecret;
    this.replyHeldSecret = false;
    return held;
  }

  /** Logs one line of the conversation (never a hidden answer: callers pass a placeholder). */
  protected transcript(direction: 'SEND' | 'RECEIVE', line: string): void {
    this.transcriptLog?.debug({ console: false }, `DIALOG:${direction} ${line}`);
  }

  /** The `KEY=type:<answer>` hint naming where an unattended answer goes. */
  protected answerHint(
    query: { readonly slot: AnswerSlot | undefined; readonly hidden?: boolean },
    type = 'str',
  ): string {
    const slot = query.slot;
    if (slot === undefined) return '';
    const key = query.hidden === true ? slot.hiddenKey : slot.key;
    return `Answer it unattended with ${key}=${type}:<answer> in an answer file (--config-append) or on the command line.`;
  }

  private slotFor(question: string, remember: boolean | undefined): AnswerSlot | undefined {
    if (!NAME_RE.test(question)) {
      throw new OtopiError('INTERNAL', `bad question name '${question}' (use letters, digits and _./- only)`);
    }
    if (remember === false) return undefined;
    const n = (this.asked.get(question) ?? 0) + 1;
    this.asked.set(question, n);
    return { question, n, key: `QUESTION/${n}/${question}`, hiddenKey: `QUESTION_HIDDEN/${n}/${question}` };
  }

  private givenAnswer(slot: AnswerSlot | undefined, hidden: boolean): { key: string; value: EnvValue } | undefined {
    if (slot === undefined) return undefined;
    for (const key of hidden ? [slot.hiddenKey, slot.key] : [slot.key]) {
      const value = this.env.getRaw(key);
      if (value === undefined || value === null) continue;
      if (hidden && typeof value === 'string') this.env.addSecret(value);
      return { key, value: value as EnvValue };
    }
    return undefined;
  }

  private record(slot: AnswerSlot | undefined, value: EnvValue, hidden: boolean): void {
    if (slot === undefined) return;
    this.env.setExternal(slot.key, value, { kind: 'dialog', question: slot.question });
    if (hidden) {
      const keys = this.env.get(DialogEnv.hiddenAnswerKeys);
      if (!keys.includes(slot.key)) this.env.set(DialogEnv.hiddenAnswerKeys, [...keys, slot.key]);
    }
  }
}

/** Fills in a string query's defaults and its note (`@VALUES@`, `@DEFAULT@`). */
export function prepareString(query: StringQuery, slot: AnswerSlot | undefined): PreparedString {
  const validValues = query.validValues?.map(flatten);
  const dflt = query.default === undefined ? undefined : flatten(query.default);
  const values = validValues === undefined ? '' : validValues.join(', ');
  const note =
    query.note ??
    `Please specify '${query.name}'${validValues === undefined ? '' : ' (@VALUES@)'}${dflt === undefined || dflt === '' ? '' : ' [@DEFAULT@]'}: `;
  return {
    name: query.name,
    note: note.replaceAll('@VALUES@', values).replaceAll('@DEFAULT@', dflt ?? ''),
    validValues,
    caseSensitive: query.caseSensitive ?? true,
    validate: query.validate,
    hidden: query.hidden ?? false,
    default: dflt,
    slot,
    secretsIn: query.secretsIn,
  };
}

function prepareQuery(query: MultiStringQuery | ValueQuery, slot: AnswerSlot | undefined): PreparedQuery {
  return { name: query.name, note: query.note, slot, secretsIn: query.secretsIn };
}

/**
 * Checks a reply to a string query. An empty reply takes the default. Case-insensitive
 * queries return the valid value's own spelling when there are valid values, else the
 * reply lower-cased.
 */
export function checkString(query: PreparedString, reply: string): { value: string } | { problem: string } {
  let value = reply === '' && query.default !== undefined ? query.default : reply;
  const fold = (s: string): string => (query.caseSensitive ? s : s.toLowerCase());
  if (value === '' && query.default === undefined) return { problem: 'an answer is needed' };
  if (query.validValues !== undefined) {
    const match = query.validValues.find((v) => fold(v) === fold(value));
    if (match === undefined) {
      const shown = query.hidden ? 'the answer' : `'${value}'`;
      return { problem: `${shown} is not one of: ${query.validValues.join(', ')}` };
    }
    value = match;
  } else {
    value = fold(value);
  }
  const problem = query.validate?.(value);
  return problem === undefined ? { value } : { problem };
}

/** The lines without the empty (or blank) lines at their end. */
export function withoutTrailingEmpty(lines: readonly string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end--;
  return lines.slice(0, end);
}

/** `yes`/`y` → true, `no`/`n` → false (any case), else undefined. */
export function yesNo(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (YES.includes(t)) return true;
  if (NO.includes(t)) return false;
  return undefined;
}

/** Joins lines with spaces: for fields that must stay on one line. */
export function flatten(text: string): string {
  return text.replace(/\r\n|\r|\n/g, ' ');
}

function wrongType(key: string, value: EnvValue, wanted: string): OtopiError {
  return invalidGiven(key, `it holds ${typeTagOf(value)} but the question takes ${wanted}`);
}

function invalidGiven(key: string, problem: string): OtopiError {
  return new OtopiError('DIALOG_INVALID_VALUE', `the answer in ${key} is not valid: ${problem}`, {
    key,
    hint: `Fix or remove ${key} in the answer file or on the command line.`,
  });
}
