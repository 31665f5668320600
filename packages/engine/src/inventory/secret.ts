/**
 * A secret (an SSH password, a key passphrase) that cannot leak by accident: it prints,
 * serialises and inspects as `**REDACTED**`, and only `reveal()` gives the value, at the one
 * place that hands it to ssh2.
 */
import { inspect } from 'node:util';

const REDACTED = '**REDACTED**';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself; call it only where the secret is used, never to show it. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
