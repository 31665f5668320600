/**
 * What a dialog program is made of: the steps the driver sends at the host's prompts, and
 * what a step sees of the session (the values the host displayed). The driver runs them
 * (`driver.ts`); `burst.ts` decides how many go at one prompt.
 */
export type WireValue = null | boolean | number | string | readonly string[];

export interface Displayed {
  readonly type: string;
  /** Text of a `***D:VALUE`, or the lines of a `***D:MULTI-STRING` block. */
  readonly value: string | readonly string[];
}

export interface StepContext {
  /** Values the host displayed so far (from `env-get` and displays), by name. */
  readonly displayed: ReadonlyMap<string, Displayed>;
  /** Marks the deploy failed; the next customization prompt sends `abort`. */
  fail(message: string): void;
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
