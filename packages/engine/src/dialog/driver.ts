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
 */
import { takeBurst, type ReadyStep } from './burst.js';
import { steps, type Displayed, type Step, type StepContext, type WireValue } from './steps.js';
import { DialogParser, DialogProtocolError, type DialogEvent, type HandlerRef, type LogLevel } from './parser.js';

export { steps, type Displayed, type Step, type StepContext, type WireValue } from './steps.js';

/** The host side of a session: its output lines, and a way to answer. */
export interface DialogChannel {
  readonly lines: AsyncIterable<string>;
  send(line: string): void;
  /** Closes the host's standard input. */
  end(): void;
}

export type Answer = string | boolean | WireValue;

export interface DialogProgram {
  /** One step per customization prompt; `install` follows the last. */
  readonly customization?: readonly Step[];
  /** Termination steps before the standard ones (outcome, log, quit). */
  readonly termination?: readonly Step[];
  /** Answers to host questions by name (string, multi-string, value, confirm). */
  readonly answers?: Readonly<Record<string, Answer>>;
  /** Asked for questions not in `answers`; return undefined to refuse the question. */
  readonly answer?: (
    event: Extract<DialogEvent, { kind: `query-${string}` | 'confirm' }>,
    ctx: StepContext,
  ) => Answer | undefined;
  /** Called for every `***D:` display (e.g. a certificate request to sign). */
  readonly onDisplay?: (name: string, value: Displayed, ctx: StepContext) => void | Promise<void>;
  readonly onLog?: (level: LogLevel, text: string) => void;
  readonly onEvent?: (kind: 'start' | 'end', handler: HandlerRef) => void;
  /** Receives the host's log (the `log` command's block), line by line at the end. */
  readonly onHostLog?: (lines: readonly string[]) => void | Promise<void>;
  /** Every line sent and received; hidden answers are replaced by `(hidden)`. */
  readonly transcript?: (direction: 'in' | 'out', line: string) => void;
  /** No line from the host for this long fails the session. Default 300 s. */
  readonly inactivityMs?: number;
  /** The whole session may take at most this long. Default 1800 s. */
  readonly hardLimitMs?: number;
  /** Send the steps up to the next barrier at once (a host that runs our installer); see above. */
  readonly pipeline?: boolean;
}

export interface DialogOutcome {
  /** `BASE/error` as the host reported it; undefined if it never said. */
  readonly hostError: boolean | undefined;
  readonly hostAborted: boolean | undefined;
  /** Problems the driver found (unexpected questions, failed steps, timeouts, protocol errors). */
  readonly failures: readonly string[];
  /** Whether `***TERMINATE` arrived. */
  readonly terminated: boolean;
  /** The last stage the host announced (`Stage: <description>`), for reporting where a run stopped. */
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

const CUSTOMIZATION = 'CUSTOMIZATION_COMMAND';
const TERMINATION = 'TERMINATION_COMMAND';

export async function driveDialog(channel: DialogChannel, program: DialogProgram): Promise<DialogOutcome> {
  const parser = new DialogParser();
  const displayed = new Map<string, Displayed>();
  const failures: string[] = [];
  let failedStep = false;
  const ctx: StepContext = {
    displayed,
    fail: (message) => {
      failures.push(message);
      failedStep = true;
    },
  };
  const pendingValues = new Map<string, WireValue>();
  const receivers = new Map<string, (value: Displayed, ctx: StepContext) => void>();
  const customization = [...(program.customization ?? [])];
  const termination: Step[] = [
    ...(program.termination ?? []),
    steps.get('BASE/error'),
    steps.get('BASE/aborted'),
    steps.command('log'),
    steps.set('CORE/logRemoveAtExit', true),
  ];
  let customizationDone = false;
  let terminationDone = false;
  let terminated = false;
  let lastStage: string | undefined;
  let hostLogLines: number | undefined;
  const pipeline = program.pipeline === true;
  /** Prompts that commands already sent will answer (pipelined): nothing is sent for them. */
  const outstanding = { customization: 0, termination: 0 };
  /** Values sent ahead with their `env-query`, by key: their question gets no reply. */
  const sentAhead = new Map<string, number>();
  let roundTrips = 0;
  let heardSinceSend = false;

  /** Sends a line; the transcript gets `shown` (a hidden answer's placeholder) instead. */
  const send = (line: string, shown: string = line): void => {
    if (heardSinceSend) roundTrips += 1;
    heardSinceSend = false;
    program.transcript?.('out', shown);
    channel.send(line);
  };
  /**
   * A value: a hidden answer is `(hidden)` in the transcript; a setting's value is not shown
   * either, since only the host knows which of its keys are secret (a sensitive key named
   * nothing like a password).
   */
  const sendValue = (
    name: string,
    value: WireValue,
    multi: { boundary: string } | undefined,
    how: 'plain' | 'hidden' | 'setting',
  ): void => {
    const mask = how === 'hidden' ? '(hidden)' : '(not shown)';
    if (multi !== undefined) {
      const lines = Array.isArray(value) ? value : value === null ? [] : String(value).split('\n');
      for (const line of lines) send(line, how === 'plain' ? line : mask);
      send(multi.boundary);
    } else {
      const line = `VALUE ${name}=${encodeValue(value)}`;
      const type = line.slice(`VALUE ${name}=`.length).split(':')[0]!;
      send(line, how === 'plain' ? line : how === 'hidden' ? mask : `VALUE ${name}=${type}:${mask}`);
    }
  };
  /** Sends a step's command (and, pipelined, a scalar value right after it). */
  const sendStep = (step: ReadyStep): void => {
    if (step === undefined) return send('noop');
    switch (step.kind) {
      case 'command':
        return send(step.command);
      case 'get':
        if (step.receive !== undefined) receivers.set(step.key, step.receive);
        return send(`env-get -k ${step.key}`);
      case 'set':
        if (Array.isArray(step.value)) {
          pendingValues.set(step.key, step.value);
          return send(`env-query-multi -k ${step.key}`);
        }
        send(`env-query -k ${step.key}`);
        if (!pipeline) return void pendingValues.set(step.key, step.value);
        sentAhead.set(step.key, (sentAhead.get(step.key) ?? 0) + 1);
        return sendValue(step.key, step.value, undefined, 'setting');
    }
  };
  /**
   * A command prompt. Pipelined, a prompt that a command already sent answers gets nothing;
   * a fresh one gets the next burst, `final` (install, quit) once the steps are done.
   */
  const prompt = (phase: 'customization' | 'termination', queue: Step[], final: string): void => {
    if (outstanding[phase] > 0) {
      outstanding[phase] -= 1;
      return;
    }
    if (phase === 'customization' && failedStep) return send('abort');
    const done = phase === 'customization' ? customizationDone : terminationDone;
    if (done) return send(final);
    // A failure stops a customization burst (the next prompt aborts); termination goes on.
    const burst = takeBurst(queue, ctx, pipeline, () => phase === 'customization' && failedStep);
    if (burst.length === 0) {
      if (phase === 'customization' && failedStep) return send('abort');
      if (phase === 'customization') customizationDone = true;
      else terminationDone = true;
      return send(final);
    }
    for (const step of burst) sendStep(step);
    let sent = burst.length;
    // Nothing to check before `quit`: it goes with the last termination steps.
    if (pipeline && phase === 'termination' && queue.length === 0) {
      terminationDone = true;
      send(final);
      sent += 1;
    }
    outstanding[phase] = sent - 1;
  };
  const refuse = (event: DialogEvent & { name: string }, reply: string): void => {
    failures.push(`the host asked '${event.name}', which this deploy does not answer`);
    failedStep = true;
    send(reply);
  };

  const handle = async (event: DialogEvent): Promise<void> => {
    switch (event.kind) {
      case 'log':
        if (event.text.startsWith('Stage: ')) lastStage = event.text.slice('Stage: '.length);
        program.onLog?.(event.level, event.text);
        return;
      case 'event-start':
        program.onEvent?.('start', event.handler);
        return;
      case 'event-end':
        program.onEvent?.('end', event.handler);
        return;
      case 'display-value':
      case 'display-multi-string': {
        const value: Displayed =
          event.kind === 'display-value'
            ? { type: event.type, value: event.value }
            : { type: 'multi-str', value: event.lines };
        if (event.name === 'LOG' && event.kind === 'display-multi-string') {
          hostLogLines = event.lines.length;
          await program.onHostLog?.(event.lines);
          return;
        }
        displayed.set(event.name, value);
        const receive = receivers.get(event.name);
        receivers.delete(event.name);
        receive?.(value, ctx);
        await program.onDisplay?.(event.name, value, ctx);
        return;
      }
      case 'query-string': {
        if (event.name === CUSTOMIZATION) return prompt('customization', customization, 'install');
        if (event.name === TERMINATION) return prompt('termination', termination, 'quit');
        const answer = program.answers?.[event.name] ?? program.answer?.(event, ctx);
        if (answer === undefined) {
          // A string question has no ABORT reply; ending our side makes the host stop cleanly.
          failures.push(`the host asked '${event.name}', which this deploy does not answer`);
          channel.end();
          return;
        }
        const text =
          typeof answer === 'string' ? answer : typeof answer === 'boolean' ? (answer ? 'yes' : 'no') : String(answer);
        send(text, event.info.hidden === true ? '(hidden)' : text);
        return;
      }
      case 'query-value':
      case 'query-multi-string': {
        const multi = event.kind === 'query-multi-string' ? { boundary: event.boundary } : undefined;
        const ahead = sentAhead.get(event.name) ?? 0;
        if (multi === undefined && ahead > 0) {
          if (ahead === 1) sentAhead.delete(event.name);
          else sentAhead.set(event.name, ahead - 1);
          return;
        }
        if (pendingValues.has(event.name)) {
          const value = pendingValues.get(event.name)!;
          pendingValues.delete(event.name);
          return sendValue(event.name, value, multi, 'setting');
        }
        const answer = program.answers?.[event.name] ?? program.answer?.(event, ctx);
        if (answer === undefined) {
          return refuse(event, event.kind === 'query-multi-string' ? event.abortBoundary : `ABORT ${event.name}`);
        }
        return sendValue(event.name, answer as WireValue, multi, event.info.hidden === true ? 'hidden' : 'plain');
      }
      case 'confirm': {
        const answer = program.answers?.[event.name] ?? program.answer?.(event, ctx);
        if (typeof answer !== 'boolean') return refuse(event, `CONFIRM ${event.name}=no`);
        return send(`CONFIRM ${event.name}=${answer ? 'yes' : 'no'}`);
      }
      case 'terminate':
        terminated = true;
        return;
      case 'note':
      case 'events-list':
        return;
    }
  };

  const inactivityMs = program.inactivityMs ?? 300_000;
  const hardLimitMs = program.hardLimitMs ?? 1_800_000;
  const started = Date.now();
  const iterator = channel.lines[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await withTimeout(iterator.next(), Math.min(inactivityMs, hardLimitMs - (Date.now() - started)));
      if (next === TIMEOUT) {
        const hard = Date.now() - started >= hardLimitMs;
        failures.push(
          hard
            ? `the session exceeded its hard limit of ${hardLimitMs / 1000} s`
            : `no output from the host for ${inactivityMs / 1000} s`,
        );
        channel.end();
        break;
      }
      if (next.done === true) break;
      heardSinceSend = true;
      program.transcript?.('in', next.value);
      let events: DialogEvent[];
      try {
        events = parser.push(next.value);
      } catch (error) {
        if (!(error instanceof DialogProtocolError)) throw error;
        failures.push(error.message);
        channel.end();
        break;
      }
      for (const event of events) await handle(event);
      if (terminated) break;
    }
  } finally {
    void iterator.return?.();
  }
  const flag = (name: string): boolean | undefined => {
    const v = displayed.get(name);
    return v === undefined || typeof v.value !== 'string' ? undefined : /^(true|1|yes)$/i.test(v.value);
  };
  if (!terminated && failures.length === 0) failures.push('the host closed the session before the dialog ended');
  return {
    hostError: flag('BASE/error'),
    hostAborted: flag('BASE/aborted'),
    failures,
    terminated,
    lastStage,
    displayed,
    hostLogLines,
    roundTrips,
  };
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

const TIMEOUT = Symbol('timeout');

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
