/**
 * A string key restricted to a few values, built only from core's public surface: core
 * does not export zod, and a plugin group must not bring a second copy. The refined schema
 * carries `options` so the generated environment reference lists the choices, as it does
 * for core's own `z.enum` keys. (A `key.oneOf` builder in core would replace this.)
 */
import { key, type KeyOptions } from '@otopi/core';

type StringSchema = NonNullable<KeyOptions<string>['schema']>;

export function oneOf(values: readonly [string, ...string[]]): StringSchema {
  const base = key.str({ default: values[0], description: '' }).schema;
  const refined = base.refine((v) => values.includes(v), { message: `expected one of ${values.join(', ')}` });
  return Object.assign(refined, { options: values });
}

/** Narrows a key's string to its allowed values (the schema already checked it). */
export function asChoice<const V extends readonly string[]>(values: V, value: string): V[number] {
  if (!values.includes(value)) throw new Error(`'${value}' is not one of ${values.join(', ')}`);
  return value as V[number];
}

/** Integers of at least `min`, for intervals and timeouts. */
export function atLeast(min: number): NonNullable<KeyOptions<number>['schema']> {
  return key
    .int({ default: min, description: '' })
    .schema.refine((v) => v >= min, { message: `must be at least ${min}` });
}
