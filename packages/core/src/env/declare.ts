/**
 * Declaring environment keys. A plugin group declares its keys once, with zod schemas:
 *
 * ```ts
 * export const CoreEnv = defineEnv('CORE', {
 *   logDir: key.str({ default: '/var/log/otopi', description: 'Folder for the log file.' }),
 * });
 * env.get(CoreEnv.logDir); // string
 * ```
 *
 * The same schema validates command-line statements, config and answer files, dialog
 * replies and `env-set`, and generates `docs/environment.md`.
 */
import { z } from 'zod';
import { OtopiError } from '../errors.js';
import type { TypeTag } from './codec.js';

export interface KeyOptions<T> {
  /** What the key means, in a sentence; it ends up in docs/environment.md. */
  readonly description: string;
  /**
   * Value the key holds until something sets it; a function is called when the key is declared.
   * It never decides the key's type (a default `'none'` does not make the key take only
   * `'none'`): `schema` does, else the builder's own type.
   */
  readonly default: NoInfer<T> | (() => NoInfer<T>);
  /** Narrower schema than the type's own (an enum, a range). */
  readonly schema?: z.ZodType<T>;
  /** Secret: its value is redacted from logs, dialogs, answer files and errors. */
  readonly sensitive?: boolean;
  /** Default shown in docs when `default` is computed (e.g. `$OTOPI_LOGDIR or /tmp`). */
  readonly defaultDoc?: string;
}

export interface KeySpec<T> {
  readonly type: TypeTag;
  readonly nullable: boolean;
  readonly schema: z.ZodType<T>;
  readonly description: string;
  readonly default: T | (() => T);
  readonly sensitive: boolean;
  readonly defaultDoc: string | undefined;
}

/** A declared key: a typed token that plugins pass to `env.get` and `env.set`. */
export interface EnvKey<T> extends KeySpec<T> {
  /** Full key, `GROUP/name`. */
  readonly key: string;
  readonly group: string;
}

function spec<T>(type: TypeTag, nullable: boolean, base: z.ZodType<T>, options: KeyOptions<T>): KeySpec<T> {
  return {
    type,
    nullable,
    schema: options.schema ?? base,
    description: options.description,
    default: options.default,
    sensitive: options.sensitive ?? false,
    defaultDoc: options.defaultDoc,
  };
}

/**
 * Key builders, one per serialisable type, plus nullable variants. A `str` key whose schema is
 * `keySchema.oneOf([...])` holds the union of those strings (`env.get` returns it, no cast).
 */
export const key = {
  // Without a schema T is `string`, so the base schema is exactly the key's.
  str: <T extends string = string>(o: KeyOptions<T>) => spec<T>('str', false, z.string() as unknown as z.ZodType<T>, o),
  bool: (o: KeyOptions<boolean>) => spec('bool', false, z.boolean(), o),
  int: (o: KeyOptions<number>) => spec('int', false, z.number().int(), o),
  multiStr: (o: KeyOptions<readonly string[]>) => spec('multi-str', false, z.array(z.string()).readonly(), o),
  optionalStr: (o: KeyOptions<string | null>) => spec('str', true, z.string().nullable(), o),
  optionalInt: (o: KeyOptions<number | null>) => spec('int', true, z.number().int().nullable(), o),
  optionalMultiStr: (o: KeyOptions<readonly string[] | null>) =>
    spec('multi-str', true, z.array(z.string()).readonly().nullable(), o),
  /** A value that only code sets (a transaction object, a handle); never serialised. */
  object: <T>(o: KeyOptions<T> & { schema?: z.ZodType<T> }) =>
    spec('none', true, o.schema ?? (z.any() as z.ZodType<T>), o),
};

/**
 * Narrower schemas for a key's `schema` option, so a plugin group needs no zod of its own
 * (hosts have only `@otopi/core`): `key.str({ ..., schema: keySchema.oneOf(['a', 'b']) })`.
 */
export const keySchema = {
  /**
   * A string out of a fixed list, typed as their union; `options` lets the environment reference
   * list the choices.
   */
  oneOf<const V extends readonly [string, ...string[]]>(values: V): z.ZodType<V[number]> {
    const refined = z
      .string()
      .refine((v): v is V[number] => values.includes(v), { message: `expected one of ${values.join(', ')}` });
    return Object.assign(refined, { options: values }) as unknown as z.ZodType<V[number]>;
  },
  /** Integers from `min` to `max`. */
  between(min: number, max: number): z.ZodType<number> {
    return z
      .number()
      .int()
      .refine((v) => v >= min && v <= max, { message: `must be from ${min} to ${max}` });
  },
  /** Integers of at least `min`. */
  atLeast(min: number): z.ZodType<number> {
    return z
      .number()
      .int()
      .refine((v) => v >= min, { message: `must be at least ${min}` });
  },
};

type Declared<G extends string, S extends Record<string, KeySpec<unknown>>> = {
  readonly [K in keyof S]: S[K] extends KeySpec<infer T> ? EnvKey<T> : never;
} & { readonly [GROUP]: G };

export const GROUP = Symbol('otopi.envGroup');

/** Typed tokens by name: what `defineEnv` returns, or a selection of its tokens. */
export interface EnvKeySet {
  readonly [name: string]: EnvKey<unknown>;
}

/** What a plugin may list in its `env`: `defineEnv` results (or selections of them) and families. */
export type EnvDeclaration = EnvKeySet | EnvFamily<unknown>;

/** Whether a declaration is a family (`defineEnvFamily`). */
export function isEnvFamily(declared: EnvDeclaration): declared is EnvFamily<unknown> {
  return typeof declared === 'function' && 'prefix' in declared;
}

const GROUP_RE = /^[A-Z][A-Z0-9_]*$/;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

/** Declares the keys of one group (`GROUP/name`). Returns typed tokens by name. */
export function defineEnv<G extends string, S extends Record<string, KeySpec<unknown>>>(
  group: G,
  specs: S,
): Declared<G, S> {
  if (!GROUP_RE.test(group)) {
    throw new OtopiError('ENV_DUPLICATE_DECLARATION', `bad environment group name '${group}' (use upper case)`);
  }
  const out: Record<string | symbol, unknown> = { [GROUP]: group };
  for (const [name, s] of Object.entries(specs)) {
    if (!NAME_RE.test(name)) {
      throw new OtopiError('ENV_DUPLICATE_DECLARATION', `bad environment key name '${group}/${name}'`);
    }
    out[name] = { ...s, key: `${group}/${name}`, group } satisfies EnvKey<unknown>;
  }
  return out as Declared<G, S>;
}

/**
 * A family of keys sharing a prefix and a schema, whose names are not known in advance
 * (`COMMAND/<program>`, `QUESTION/<n>/<name>`).
 */
export interface EnvFamily<T> extends KeySpec<T> {
  readonly prefix: string;
  (name: string): EnvKey<T>;
}

export function defineEnvFamily<T>(prefix: string, s: KeySpec<T>): EnvFamily<T> {
  const family = ((name: string): EnvKey<T> => ({
    ...s,
    key: `${prefix}/${name}`,
    group: prefix.split('/')[0]!,
  })) as EnvFamily<T>;
  return Object.assign(family, s, { prefix });
}

/** All keys of a `defineEnv` result, in declaration order. */
export function keysOf(declared: object): EnvKey<unknown>[] {
  return Object.values(declared).filter(
    (v): v is EnvKey<unknown> => typeof v === 'object' && v !== null && 'key' in v && 'schema' in v,
  );
}
