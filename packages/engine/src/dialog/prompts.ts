/**
 * The host's two command prompts (`CUSTOMIZATION_COMMAND`, `TERMINATION_COMMAND`) as the
 * driver serves them: each phase has its queue of steps, the prompts that commands already
 * sent will answer (pipelined: nothing is sent for them), and whether its final command
 * (`install`, `quit`) went. Also what the commands sent leave expected: a displayed value a
 * `get` step receives, the value a `set` step's `env-query` asks for, or (pipelined) a value
 * already sent with its query.
 */
import { takeBurst, type ReadyStep } from './burst.js';
import type { DialogEvent } from './parser.js';
import type { Displayed, Step, StepContext, WireValue } from './program.js';
import type { FailureLog, Replier } from './replies.js';

export type PromptPhase = 'customization' | 'termination';

interface PhaseState {
  readonly queue: Step[];
  readonly final: 'install' | 'quit';
  /** Prompts that commands already sent will answer. */
  outstanding: number;
  /** The steps are done: the next fresh prompt gets `final`. */
  done: boolean;
}

type ValueQuestion = Extract<DialogEvent, { kind: 'query-value' | 'query-multi-string' }>;

export class CommandPrompts {
  private readonly phases: Record<PromptPhase, PhaseState>;
  /** Values for the `env-query` sent, by key (not pipelined, or a list). */
  private readonly pendingValues = new Map<string, WireValue>();
  /** Values sent ahead with their `env-query`, by key: their question gets no reply. */
  private readonly sentAhead = new Map<string, number>();
  /** What a `get` step does with the value it asked for, by key. */
  private readonly receivers = new Map<string, (value: Displayed, ctx: StepContext) => void>();

  constructor(
    private readonly replier: Replier,
    private readonly failures: FailureLog,
    private readonly ctx: StepContext,
    private readonly pipeline: boolean,
    queues: { readonly customization: readonly Step[]; readonly termination: readonly Step[] },
  ) {
    this.phases = {
      customization: { queue: [...queues.customization], final: 'install', outstanding: 0, done: false },
      termination: { queue: [...queues.termination], final: 'quit', outstanding: 0, done: false },
    };
  }

  /**
   * A command prompt. Pipelined, a prompt that a command already sent answers gets nothing;
   * a fresh one gets the next burst, the final command once the steps are done. A failed
   * step makes the next customization prompt send `abort`.
   */
  prompt(phase: PromptPhase): void {
    const state = this.phases[phase];
    if (state.outstanding > 0) {
      state.outstanding -= 1;
      return;
    }
    const aborting = (): boolean => phase === 'customization' && this.failures.failed;
    if (aborting()) return this.replier.send('abort');
    if (state.done) return this.replier.send(state.final);
    // A failure stops a customization burst (the next prompt aborts); termination goes on.
    const burst = takeBurst(state.queue, this.ctx, this.pipeline, aborting);
    if (burst.length === 0) {
      if (aborting()) return this.replier.send('abort');
      state.done = true;
      return this.replier.send(state.final);
    }
    for (const step of burst) this.sendStep(step);
    let sent = burst.length;
    // Nothing to check before `quit`: it goes with the last termination steps.
    if (this.pipeline && phase === 'termination' && state.queue.length === 0) {
      state.done = true;
      this.replier.send(state.final);
      sent += 1;
    }
    state.outstanding = sent - 1;
  }

  /** The receiver of a value a `get` step asked for, taken once. */
  takeReceiver(name: string): ((value: Displayed, ctx: StepContext) => void) | undefined {
    const receive = this.receivers.get(name);
    this.receivers.delete(name);
    return receive;
  }

  /**
   * Replies to a value question that a `set` step's command raised; false when it is none of
   * theirs (a question of the host's own, for the program's answers).
   */
  answerSet(event: ValueQuestion): boolean {
    const multi = event.kind === 'query-multi-string' ? { boundary: event.boundary } : undefined;
    const ahead = this.sentAhead.get(event.name) ?? 0;
    if (multi === undefined && ahead > 0) {
      if (ahead === 1) this.sentAhead.delete(event.name);
      else this.sentAhead.set(event.name, ahead - 1);
      return true;
    }
    if (!this.pendingValues.has(event.name)) return false;
    const value = this.pendingValues.get(event.name)!;
    this.pendingValues.delete(event.name);
    this.replier.sendValue(event.name, value, multi, 'setting');
    return true;
  }

  /** Sends a step's command (and, pipelined, a scalar value right after it). */
  private sendStep(step: ReadyStep): void {
    if (step === undefined) return this.replier.send('noop');
    switch (step.kind) {
      case 'command':
        return this.replier.send(step.command);
      case 'get':
        if (step.receive !== undefined) this.receivers.set(step.key, step.receive);
        return this.replier.send(`env-get -k ${step.key}`);
      case 'set':
        if (Array.isArray(step.value)) {
          this.pendingValues.set(step.key, step.value);
          return this.replier.send(`env-query-multi -k ${step.key}`);
        }
        this.replier.send(`env-query -k ${step.key}`);
        if (!this.pipeline) return void this.pendingValues.set(step.key, step.value);
        this.sentAhead.set(step.key, (this.sentAhead.get(step.key) ?? 0) + 1);
        return this.replier.sendValue(step.key, step.value, undefined, 'setting');
    }
  }
}
