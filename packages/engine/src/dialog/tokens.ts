/**
 * Dialog steps and checks that take a plugin group's typed tokens instead of names
 * (`docs/plugins.md`, "A group's engine program"): `keySteps.set(VdsmEnv.enginePort, 8080)`
 * compiles only when the group declares `VDSM/enginePort` and the value has the key's type, and
 * `asks(event, CERTIFICATE_CHAIN)` only for a question the group declares. The tokens come from
 * the group's contract module, which its plugins import too.
 */
import type { DialogName, DialogNameKind, EnvKey } from '@otopi/core';
import { steps, type Displayed, type Step, type StepContext, type WireValue } from './driver.js';
import type { DialogEvent } from './parser.js';

export const keySteps = {
  /** Sends the key's value (`env-query`); the value has the key's type. */
  set: <T extends WireValue>(key: EnvKey<T>, value: NoInfer<T>): Step => steps.set(key.key, value),
  /** As `set`, or `noop` when the value is null or undefined (the engine's conditional steps). */
  setIf: <T extends WireValue>(key: EnvKey<T>, value: NoInfer<T> | undefined): Step =>
    value === undefined || value === null ? steps.noop() : steps.set(key.key, value),
  /** Asks the host for the key's value (`env-get`). */
  get: (key: EnvKey<unknown>, receive?: (value: Displayed, ctx: StepContext) => void): Step =>
    steps.get(key.key, receive),
};

/** What the host displayed for `key` so far. */
export function shown(ctx: Pick<StepContext, 'displayed'>, key: EnvKey<unknown>): Displayed | undefined {
  return ctx.displayed.get(key.key);
}

type Named<K extends DialogNameKind> = Extract<DialogEvent, { readonly kind: K; readonly name: string }>;

/** Whether the host's dialog event is the question (or shown value) `name`, of its kind. */
export function asks<K extends DialogNameKind>(event: DialogEvent, name: DialogName<K>): event is Named<K> {
  return event.kind === name.kind && 'name' in event && event.name === name.name;
}
