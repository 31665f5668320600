/**
 * What a dialog program is made of: the steps it sends at the host's command prompts, the
 * answers it gives, the callbacks it hears the host through, and the outcome `driveDialog`
 * returns. The driver (`driver.ts`) runs it.
 */
import type { Stage } from '@otopi/core';
import type { DialogEvent, HandlerRef, LogLevel } from './parser.js';

export type WireValue = null | boolean | number | string | readonly string[];

/** The host side of a session: its output lines, and a way to answer. */
export interface DialogChannel {
  readonly lines: AsyncIterable<string>;
  send(line: string): void;
  /** Closes the host's standard input. */
  end(): void;
}

export interface Displayed {
  readonly type: string;
  /** Text of a `***D:VALUE`, or the lines of a `***D:MULTI-STRING` block. */
  readonly value: string | readonly string[];
}

/**
 * Why a dialog did not go as planned. `QUESTION_UNANSWERED`: the host asked a question the
 * program does not answer; `STEP_FAILED`: a step or callback called `fail()`;
 * `COMMAND_REFUSED`: the host refused a customization command; `PROTOCOL_ERROR`: a line
 * outside the protocol; `SESSION_ENDED`: the host's output ended before `***TERMINATE`.
 */
export const DIALOG_FAILURE_CODES = [
  'QUESTION_UNANSWERED',
  'STEP_FAILED',
  'COMMAND_REFUSED',
  'PROTOCOL_ERROR',
  'SESSION_ENDED',
] as const;

export type DialogFailureCode = (typeof DIALOG_FAILURE_CODES)[number];

export interface DialogFailure {
  readonly code: DialogFailureCode;
  /** One line for the report, e.g. `the host asked 'X', which this deploy does not answer`. */
  readonly message: string;
}

export interface StepContext {
  /** Values the host displayed so far (from `env-get` and displays), by name. */
  readonly displayed: ReadonlyMap<string, Displayed>;
  /** Marks the deploy failed (code `STEP_FAILED` unless given); the next customization prompt sends `abort`. */
  fail(message: string, code?: DialogFailureCode): void;
}

export type Step =
  | { readonly kind: 'command'; readonly command: string }
  | { readonly kind: 'get'; readonly key: string; readonly receive?: (value: Displayed, ctx: StepContext) => void }
  | { readonly kind: 'set'; readonly key: string; readonly value: WireValue }
  | {
      readonly kind: 'dynamic';
      readonly next: (ctx: StepContext) => Step | undefined;
      /**
       * May be decided before the replies to the commands sent ahead of it have come back:
       * it depends only on failures, which a later barrier checks again.
       */
      readonly eager?: boolean;
    };

export const steps = {
  command: (command: string): Step => ({ kind: 'command', command }),
  noop: (): Step => ({ kind: 'command', command: 'noop' }),
  get: (key: string, receive?: (value: Displayed, ctx: StepContext) => void): Step =>
    receive === undefined ? { kind: 'get', key } : { kind: 'get', key, receive },
  set: (key: string, value: WireValue): Step => ({ kind: 'set', key, value }),
  /** Decided when its prompt comes; `undefined` sends `noop`. */
  dynamic: (next: (ctx: StepContext) => Step | undefined): Step => ({ kind: 'dynamic', next }),
  /** A dynamic step that does not need the host's latest replies (see `eager`). */
  eager: (next: (ctx: StepContext) => Step | undefined): Step => ({ kind: 'dynamic', next, eager: true }),
};

export type Answer = string | boolean | WireValue;

/** A question the host asks (not a command prompt). */
export type QuestionEvent = Extract<DialogEvent, { kind: `query-${string}` | 'confirm' }>;

export interface DialogProgram {
  /** One step per customization prompt; `install` follows the last. */
  readonly customization?: readonly Step[];
  /** Termination steps before the standard ones (outcome, log, quit). */
  readonly termination?: readonly Step[];
  /** Answers to host questions by name (string, multi-string, value, confirm). */
  readonly answers?: Readonly<Record<string, Answer>>;
  /** Asked for questions not in `answers`; return undefined to refuse the question. */
  readonly answer?: (event: QuestionEvent, ctx: StepContext) => Answer | undefined;
  /** Called for every `***D:` display (e.g. a certificate request to sign). */
  readonly onDisplay?: (name: string, value: Displayed, ctx: StepContext) => void | Promise<void>;
  /** Every `***L:` record of the host but the stage banners (those move the stage: `onStage`). */
  readonly onLog?: (level: LogLevel, text: string) => void;
  /** A handler starts or ends on the host (`**%EventStart`, `**%EventEnd`). */
  readonly onEvent?: (kind: 'start' | 'end', handler: HandlerRef) => void;
  /**
   * The host's run entered another stage, as `StageTracker` reads it from the events; called
   * before the event that moved it is handed on.
   */
  readonly onStage?: (stage: Stage) => void;
  /** Receives the host's log (the `log` command's block), line by line at the end. */
  readonly onHostLog?: (lines: readonly string[]) => void | Promise<void>;
  /** Every line sent and received; hidden answers are replaced by `(hidden)`. */
  readonly transcript?: (direction: 'in' | 'out', line: string) => void;
  /** Send the steps up to the next barrier at once (a host that runs our installer); see `burst.ts`. */
  readonly pipeline?: boolean;
}

export interface DialogOutcome {
  /** `BASE/error` as the host reported it; undefined if it never said. */
  readonly hostError: boolean | undefined;
  readonly hostAborted: boolean | undefined;
  /** Problems the driver found (unexpected questions, failed steps, protocol errors, an early end). */
  readonly failures: readonly DialogFailure[];
  /** Whether `***TERMINATE` arrived. */
  readonly terminated: boolean;
  /** The description of the last stage the host reached (`StageTracker`), for reporting where a run stopped. */
  readonly lastStage: string | undefined;
  readonly displayed: ReadonlyMap<string, Displayed>;
  /** Lines of the host log fetched with `log`, or undefined if not fetched. */
  readonly hostLogLines: number | undefined;
  /**
   * Round trips of the dialog: how often the engine sent after waiting for the host's output
   * (each group of lines sent together counts once).
   */
  readonly roundTrips: number;
}

/** `type:value` as the run reads it in a `VALUE` reply; lists go as `multi-str` blocks instead. */
export function encodeValue(value: WireValue): string {
  if (value === null) return 'none:None';
  if (typeof value === 'boolean') return `bool:${value ? 'True' : 'False'}`;
  if (typeof value === 'number') return `int:${value}`;
  if (typeof value === 'string') {
    if (/[\r\n]/.test(value)) throw new Error('a VALUE reply cannot hold a line break; send it as a list');
    return `str:${value}`;
  }
  throw new Error('a list is sent with env-query-multi, not as a VALUE reply');
}
