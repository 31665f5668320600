/**
 * Narrowed key schemas built from core's public surface only: core does not export zod,
 * and a plugin group must not bring a second copy onto the host.
 */
import { key, type KeyOptions } from '@otopi/core';

type StringSchema = NonNullable<KeyOptions<string>['schema']>;
type IntSchema = NonNullable<KeyOptions<number>['schema']>;

/** A string out of a fixed list; `options` lets the environment reference list the choices. */
export function oneOf(values: readonly [string, ...string[]]): StringSchema {
  const base = key.str({ default: values[0], description: '' }).schema;
  const refined = base.refine((v) => values.includes(v), { message: `expected one of ${values.join(', ')}` });
  return Object.assign(refined, { options: values });
}

/** Integers from `min` to `max`. */
export function between(min: number, max: number): IntSchema {
  return key
    .int({ default: min, description: '' })
    .schema.refine((v) => v >= min && v <= max, { message: `must be from ${min} to ${max}` });
}
