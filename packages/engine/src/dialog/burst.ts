/**
 * Which steps a fresh command prompt sends. One at a time (as the oVirt engine does: `noop`
 * for a step with nothing to do), or with `pipeline` every step up to the next barrier, so a
 * host that runs our installer costs one round trip for a whole run of settings instead of two
 * per key. A barrier is a step that must see the host's replies to what was sent before it: a
 * non-eager `steps.dynamic` (kdump's decision, the last check before `install`), and a step
 * after a list value, whose lines follow its own question.
 */
import type { Step, StepContext } from './program.js';

/** A step ready to send; `undefined` is a `noop`. */
export type ReadyStep = Exclude<Step, { kind: 'dynamic' }> | undefined;

const BARRIER = Symbol('barrier');

/** Decides `step` now; a non-eager dynamic step is a barrier unless nothing was sent before it. */
function decide(step: Step, ctx: StepContext, fresh: boolean): ReadyStep | typeof BARRIER {
  let current: Step | undefined = step;
  while (current?.kind === 'dynamic') {
    if (!fresh && current.eager !== true) return BARRIER;
    current = current.next(ctx);
  }
  return current;
}

const isNoop = (step: ReadyStep): boolean => step === undefined || (step.kind === 'command' && step.command === 'noop');

/**
 * Takes the steps to send at a fresh prompt off `queue`. Without `pipeline`: exactly one
 * (`undefined` for a noop), or none when the queue is empty. With it: every step up to the
 * next barrier, noops left out; it stops early once `failed()` says a step failed, so the next
 * fresh prompt sends `abort`.
 */
export function takeBurst(queue: Step[], ctx: StepContext, pipeline: boolean, failed: () => boolean): ReadyStep[] {
  const out: ReadyStep[] = [];
  while (queue.length > 0) {
    const decided = decide(queue[0]!, ctx, out.length === 0);
    if (decided === BARRIER) break;
    queue.shift();
    if (!pipeline) return [decided];
    if (failed()) break;
    if (isNoop(decided)) continue;
    out.push(decided);
    if (decided!.kind === 'set' && Array.isArray(decided!.value)) break;
    if (decided!.kind === 'command' && ['install', 'abort', 'quit'].includes(decided!.command)) break;
  }
  return out;
}
