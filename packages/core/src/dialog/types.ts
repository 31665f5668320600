/**
 * What plugins may ask of the dialog, whatever its dialect (human terminal or the
 * machine protocol an engine speaks).
 *
 * Every query first looks for its answer in the environment, under
 * `QUESTION/<n>/<name>` where n counts how often this run asked that name (1-based),
 * and stores the answer given there; so an answer file repeats a run unattended.
 */
import type { EnvValue } from '../env/codec.js';
import type { ConsoleRecord } from '../log/logger.js';
import type { RunEvent } from '../runtime/events.js';
import type { Stage } from '../sequence/stages.js';

interface QueryBase {
  /**
   * Question name: letters, digits and `_./-`, no spaces. It names the answer key
   * `QUESTION/<n>/<name>` and the machine dialog's `***Q:… <name>` line.
   */
  readonly name: string;
  /** Text shown before the prompt. `@VALUES@` and `@DEFAULT@` are substituted. Default: a dialect's own "please specify" line. */
  readonly note?: string;
  /**
   * Whether to look the answer up in, and store it to, `QUESTION/<n>/<name>`. Default
   * true. The command prompt's `env-query` turns it off: the manager asked explicitly.
   */
  readonly remember?: boolean;
  /**
   * The secrets a reply holds, for replies that carry one without being hidden (the command
   * prompt's `env-set` of a sensitive key, `env-query` of one). Called on each reply line as
   * it arrives, before anything logs or shows it; what it returns is registered as a secret,
   * and an answer holding one is left out of answer files like a hidden one. Default: none.
   */
  readonly secretsIn?: (reply: string) => readonly string[];
}

export interface StringQuery extends QueryBase {
  /** Answers accepted; anything else is refused (asked again by the human dialect). Default: any. */
  readonly validValues?: readonly string[];
  /** Default true. When false, the answer and the valid values are compared lower-cased and the answer is returned lower-cased. */
  readonly caseSensitive?: boolean;
  /**
   * Read without echo and keep the answer out of logs, transcripts and answer files: it is
   * registered as a secret before anything else sees it. Default false.
   */
  readonly hidden?: boolean;
  /** Answer taken for an empty reply. Without one an empty reply is refused. */
  readonly default?: string;
  /**
   * Checks an answer the valid values let through: returns why it is refused, or undefined.
   * A refused reply is asked again on a terminal, under the same answer key, so only the
   * answer taken is recorded; a refused answer from a file or the command line is an error
   * naming its key. Default: any.
   */
  readonly validate?: (answer: string) => string | undefined;
}

export interface MultiStringQuery extends QueryBase {
  /** As {@link StringQuery.validate}, for the lines (trailing empty lines already dropped). */
  readonly validate?: (lines: readonly string[]) => string | undefined;
}

export type ValueQuery = QueryBase;

export interface ConfirmQuery extends QueryBase {
  /** What is being confirmed, e.g. `the installation of GPG key 0x1234`. One line. */
  readonly description: string;
}

/** One planned handler, as the machine dialog lists it. */
export interface PlannedEvent {
  readonly stage: Stage;
  /** Full handler name, e.g. `otopi.core.log.init`. */
  readonly name: string;
}

export interface Dialog {
  /** Shows a note to the user (never an answer to anything). */
  note(text: string): void;
  /** Shows a log record at INFO, WARNING or ERROR. */
  log(record: ConsoleRecord): void;
  queryString(query: StringQuery): Promise<string>;
  queryMultiString(query: MultiStringQuery): Promise<string[]>;
  queryValue(query: ValueQuery): Promise<EnvValue>;
  confirm(query: ConfirmQuery): Promise<boolean>;
  /** Shows a value as `name=type:value`; a list is shown as a multi-string block. */
  displayValue(name: string, value: EnvValue, note?: string): void;
  displayMultiString(name: string, lines: readonly string[], note?: string): void;
  /**
   * Shows what a dry run would change: a title, then lines with `# ` headers and unified diffs
   * (the human dialect colours them on a terminal). Without it, the caller shows a note.
   */
  showChanges?(title: string, lines: string): void;
  /** Stage banner or progress line. */
  stage?(description: string): void;
  /** The whole run plan, once, at init (machine: the `**%EventsList…` block). */
  announcePlan?(events: readonly PlannedEvent[]): void;
  /** Run events after the plan was announced (machine: `**%EventStart`/`**%EventEnd`). */
  runEvent?(event: RunEvent): void;
  /** Cancels a pending read: it rejects with `error` (a signal arrived while waiting for input). */
  interrupt?(error: Error): void;
  /** Closes the dialog (machine: `***TERMINATE`); later output is dropped. Idempotent. */
  terminate(): void | Promise<void>;
}
