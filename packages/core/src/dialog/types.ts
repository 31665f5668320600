/**
 * What plugins may ask of the dialog, whatever its dialect (human terminal or the
 * machine protocol an engine speaks).
 */
import type { EnvValue } from '../env/codec.js';
import type { ConsoleRecord } from '../log/logger.js';

export interface StringQuery {
  /** Question name; also names its answer key `QUESTION/<n>/<name>`. */
  readonly name: string;
  /** Text shown before the prompt. `@VALUES@` and `@DEFAULT@` are substituted. */
  readonly note?: string;
  readonly validValues?: readonly string[];
  /** Default true. When false, the answer and the valid values are compared lower-cased. */
  readonly caseSensitive?: boolean;
  /** Read without echo and keep the answer out of logs, transcripts and answer files. */
  readonly hidden?: boolean;
  readonly default?: string;
}

export interface MultiStringQuery {
  readonly name: string;
  readonly note?: string;
}

export interface ValueQuery {
  readonly name: string;
  readonly note?: string;
}

export interface ConfirmQuery {
  readonly name: string;
  readonly description: string;
  readonly note?: string;
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
  displayValue(name: string, value: EnvValue): void;
  displayMultiString(name: string, lines: readonly string[]): void;
  /** Stage banner or progress line. */
  stage?(description: string): void;
  /** Closes the dialog; later output is dropped. */
  terminate(): void | Promise<void>;
}
