/**
 * Drives a host's run over the machine dialog, as the oVirt engine does: answers questions,
 * sends one customization command per `CUSTOMIZATION_COMMAND` prompt, then at termination
 * reads the outcome, fetches the log and quits.
 *
 * Each prompt takes exactly one step; a step that has nothing to do sends `noop`. A step
 * (or an answer callback) that finds a problem calls `fail()`, and the next prompt sends
 * `abort`, so the host rolls back. Questions nobody expects are refused (`ABORT`, `no`)
 * and reported, never answered with a guess.
 *
 * With `pipeline`, for a host that runs our installer, a prompt takes every step up to the
 * next barrier at once (the protocol takes replies sent ahead, in order): the commands, and
 * after each `env-query` its `VALUE` reply. A barrier is a step decided from what the host
 * showed (`steps.dynamic`), a list value (its reply follows its question) and `install`,
 * which waits until every command sent before it has had its prompt back, so a refusal is
 * seen before the host installs. `noop`s are not sent. See `burst.ts`.
 *
 * The driver keeps no clock: the channel's owner limits the session (a `LineSession`'s
 * inactivity and hard limits end its lines, and the driver then finds the dialog unfinished).
 *
 * The parts: `program.ts` (steps, callbacks, outcome), `prompts.ts` (the command prompts),
 * `replies.ts` (what goes on the wire, and the failures), `stage-tracker.ts` (the host's stage).
 */
import { DialogParser, DialogProtocolError, type DialogEvent } from './parser.js';
import {
  steps,
  type Answer,
  type DialogChannel,
  type DialogOutcome,
  type DialogProgram,
  type Displayed,
  type QuestionEvent,
  type StepContext,
  type WireValue,
} from './program.js';
import { CommandPrompts } from './prompts.js';
import { FailureLog, Replier } from './replies.js';
import { StageTracker, isStageBanner } from './stage-tracker.js';

export { encodeValue, steps, DIALOG_FAILURE_CODES } from './program.js';
export type {
  Answer,
  DialogChannel,
  DialogFailure,
  DialogFailureCode,
  DialogOutcome,
  DialogProgram,
  Displayed,
  QuestionEvent,
  Step,
  StepContext,
  WireValue,
} from './program.js';

const CUSTOMIZATION = 'CUSTOMIZATION_COMMAND';
const TERMINATION = 'TERMINATION_COMMAND';

/** What the driver asks at termination after the program's own steps. */
const STANDARD_TERMINATION = [
  steps.get('BASE/error'),
  steps.get('BASE/aborted'),
  steps.command('log'),
  steps.set('CORE/logRemoveAtExit', true),
];

/** Where a dialog is: reading the host, or over (the host terminated, or the session ended or broke). */
type DriverState = 'reading' | 'terminated' | 'ended';

export async function driveDialog(channel: DialogChannel, program: DialogProgram): Promise<DialogOutcome> {
  return new DialogDriver(channel, program).run();
}

class DialogDriver {
  private state: DriverState = 'reading';
  private readonly parser = new DialogParser();
  private readonly displayed = new Map<string, Displayed>();
  private readonly failures = new FailureLog();
  private readonly stages = new StageTracker();
  private readonly replier: Replier;
  private readonly prompts: CommandPrompts;
  private readonly ctx: StepContext;
  private hostLogLines: number | undefined;

  constructor(
    private readonly channel: DialogChannel,
    private readonly program: DialogProgram,
  ) {
    this.ctx = {
      displayed: this.displayed,
      fail: (message, code = 'STEP_FAILED') => this.failures.fail(code, message),
    };
    this.replier = new Replier(channel, program.transcript);
    this.prompts = new CommandPrompts(this.replier, this.failures, this.ctx, program.pipeline === true, {
      customization: program.customization ?? [],
      termination: [...(program.termination ?? []), ...STANDARD_TERMINATION],
    });
  }

  async run(): Promise<DialogOutcome> {
    const iterator = this.channel.lines[Symbol.asyncIterator]();
    try {
      while (this.state === 'reading') {
        const next = await iterator.next();
        if (next.done === true) this.state = 'ended';
        else await this.take(next.value);
      }
    } finally {
      void iterator.return?.();
    }
    return this.outcome();
  }

  /** One line from the host: parsed, and each event it completes handled in order. */
  private async take(line: string): Promise<void> {
    this.replier.heard(line);
    let events: DialogEvent[];
    try {
      events = this.parser.push(line);
    } catch (error) {
      if (!(error instanceof DialogProtocolError)) throw error;
      this.failures.note('PROTOCOL_ERROR', error.message);
      this.channel.end();
      this.state = 'ended';
      return;
    }
    for (const event of events) await this.handle(event);
  }

  private async handle(event: DialogEvent): Promise<void> {
    const moved = this.stages.take(event);
    if (moved !== undefined) this.program.onStage?.(moved);
    switch (event.kind) {
      case 'log':
        if (!isStageBanner(event)) this.program.onLog?.(event.level, event.text);
        return;
      case 'event-start':
      case 'event-end':
        this.program.onEvent?.(event.kind === 'event-start' ? 'start' : 'end', event.handler);
        return;
      case 'display-value':
        return this.display(event.name, { type: event.type, value: event.value });
      case 'display-multi-string':
        if (event.name === 'LOG') return this.hostLog(event.lines);
        return this.display(event.name, { type: 'multi-str', value: event.lines });
      case 'query-string':
        if (event.name === CUSTOMIZATION) return this.prompts.prompt('customization');
        if (event.name === TERMINATION) return this.prompts.prompt('termination');
        return this.answerString(event);
      case 'query-value':
      case 'query-multi-string':
        if (this.prompts.answerSet(event)) return;
        return this.answerValue(event);
      case 'confirm':
        return this.answerConfirm(event);
      case 'terminate':
        this.state = 'terminated';
        return;
      case 'note':
      case 'events-list':
        return;
    }
  }

  private async display(name: string, value: Displayed): Promise<void> {
    this.displayed.set(name, value);
    this.prompts.takeReceiver(name)?.(value, this.ctx);
    await this.program.onDisplay?.(name, value, this.ctx);
  }

  private async hostLog(lines: readonly string[]): Promise<void> {
    this.hostLogLines = lines.length;
    await this.program.onHostLog?.(lines);
  }

  private answerFor(event: QuestionEvent): Answer | undefined {
    return this.program.answers?.[event.name] ?? this.program.answer?.(event, this.ctx);
  }

  private unanswered(name: string): string {
    return `the host asked '${name}', which this deploy does not answer`;
  }

  private answerString(event: Extract<DialogEvent, { kind: 'query-string' }>): void {
    const answer = this.answerFor(event);
    if (answer === undefined) {
      // A string question has no ABORT reply; ending our side makes the host stop cleanly.
      this.failures.note('QUESTION_UNANSWERED', this.unanswered(event.name));
      this.channel.end();
      return;
    }
    const text =
      typeof answer === 'string' ? answer : typeof answer === 'boolean' ? (answer ? 'yes' : 'no') : String(answer);
    this.replier.send(text, event.info.hidden === true ? '(hidden)' : text);
  }

  private answerValue(event: Extract<DialogEvent, { kind: 'query-value' | 'query-multi-string' }>): void {
    const answer = this.answerFor(event);
    if (answer === undefined) {
      return this.refuse(event.name, event.kind === 'query-multi-string' ? event.abortBoundary : `ABORT ${event.name}`);
    }
    const multi = event.kind === 'query-multi-string' ? { boundary: event.boundary } : undefined;
    this.replier.sendValue(event.name, answer as WireValue, multi, event.info.hidden === true ? 'hidden' : 'plain');
  }

  private answerConfirm(event: Extract<DialogEvent, { kind: 'confirm' }>): void {
    const answer = this.answerFor(event);
    if (typeof answer !== 'boolean') return this.refuse(event.name, `CONFIRM ${event.name}=no`);
    this.replier.send(`CONFIRM ${event.name}=${answer ? 'yes' : 'no'}`);
  }

  /** Refuses a question nobody answers; the customization then aborts. */
  private refuse(name: string, reply: string): void {
    this.failures.fail('QUESTION_UNANSWERED', this.unanswered(name));
    this.replier.send(reply);
  }

  private outcome(): DialogOutcome {
    const flag = (name: string): boolean | undefined => {
      const v = this.displayed.get(name);
      return v === undefined || typeof v.value !== 'string' ? undefined : /^(true|1|yes)$/i.test(v.value);
    };
    const terminated = this.state === 'terminated';
    if (!terminated && this.failures.list.length === 0)
      this.failures.note('SESSION_ENDED', 'the host closed the session before the dialog ended');
    return {
      hostError: flag('BASE/error'),
      hostAborted: flag('BASE/aborted'),
      failures: this.failures.list,
      terminated,
      lastStage: this.stages.description,
      displayed: this.displayed,
      hostLogLines: this.hostLogLines,
      roundTrips: this.replier.roundTrips,
    };
  }
}
