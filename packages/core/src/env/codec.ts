/**
 * The `type:value` notation every serialised environment value uses: on the command line
 * (`CORE/logDir=str:/tmp`), in config and answer files, and in the machine dialog.
 *
 * Differences from otopi, on purpose:
 * - `bool` accepts only known spellings; otopi read anything but `f`/`false` as True, so
 *   `bool:no`, `bool:0` and `bool:FALSE` silently meant True.
 * - `int` accepts only an optional sign and decimal digits that fit a safe integer.
 * - `multi-str` splits at `\r\n`, `\n` and `\r` only (Python's `splitlines` also splits at
 *   form feeds and Unicode separators).
 * - The `object` tag is not parseable (as in otopi), and the error says which tags are.
 */
import { OtopiError } from '../errors.js';

export const TYPE_TAGS = ['none', 'bool', 'int', 'str', 'multi-str'] as const;

/** A serialisable type tag, the part before the first `:`. */
export type TypeTag = (typeof TYPE_TAGS)[number];

/** A value that can be written as `type:value` and read back unchanged. */
export type EnvValue = null | boolean | number | string | readonly string[];

/** What the text is about, so that errors can name it. */
export interface CodecContext {
  /** Environment key the value belongs to. */
  readonly key?: string;
  /** File the text was read from, with `line` when known. */
  readonly file?: string;
  readonly line?: number;
  /**
   * The key is sensitive (a password): errors then repeat no part of the text, since a value
   * that failed to parse never becomes a known secret the redactor could hide. Default false.
   */
  readonly sensitive?: boolean;
}

/** Spellings `bool:` accepts, compared case-insensitively. */
const BOOL_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  yes: true,
  on: true,
  y: true,
  t: true,
  '1': true,
  false: false,
  no: false,
  off: false,
  n: false,
  f: false,
  '0': false,
};

const INT_RE = /^[+-]?[0-9]+$/;
const LINE_BREAK_RE = /\r\n|\r|\n/;

function isTypeTag(tag: string): tag is TypeTag {
  return (TYPE_TAGS as readonly string[]).includes(tag);
}

function place(context: CodecContext): { key?: string; file?: string; line?: number } {
  const out: { key?: string; file?: string; line?: number } = {};
  if (context.key !== undefined) out.key = context.key;
  if (context.file !== undefined) out.file = context.file;
  if (context.line !== undefined) out.line = context.line;
  return out;
}

function forKey(context: CodecContext): string {
  return context.key === undefined ? '' : ` for ${context.key}`;
}

/** How an error shows (part of) the text: quoted, or not at all for a sensitive key. */
function quoted(text: string, context: CodecContext): string {
  return context.sensitive === true ? 'the value (not shown: it may be a secret)' : `'${text}'`;
}

/** Python `str.splitlines()` restricted to `\r\n`, `\n`, `\r`: a final line break adds no item. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(LINE_BREAK_RE);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Parses `type:value`. Only the first `:` separates, so `str:a:b` is `a:b`.
 *
 * @throws OtopiError `ENV_MISSING_TYPE` without a `:`, `ENV_UNKNOWN_TYPE` for a tag not in
 * {@link TYPE_TAGS}, `ENV_BAD_VALUE` for a `bool` or `int` that does not parse. The error
 * carries `context` (key, file, line).
 */
export function parseTypedValue(text: string, context: CodecContext = {}): { type: TypeTag; value: EnvValue } {
  const colon = text.indexOf(':');
  if (colon < 0) {
    throw new OtopiError(
      'ENV_MISSING_TYPE',
      `${context.sensitive === true ? 'the value' : `value '${text}'`}${forKey(context)} has no type`,
      {
        ...place(context),
        hint: `write it as type:value, e.g. str:${context.sensitive === true ? '<value>' : text}`,
      },
    );
  }
  const tag = text.slice(0, colon);
  const raw = text.slice(colon + 1);
  if (!isTypeTag(tag)) {
    const lower = tag.toLowerCase();
    const guess = isTypeTag(lower) ? ` (did you mean '${lower}'?)` : '';
    const shown =
      context.sensitive === true && !isTypeTag(lower)
        ? 'unknown type (not shown: it may be a secret)'
        : `unknown type '${tag}'`;
    throw new OtopiError('ENV_UNKNOWN_TYPE', `${shown}${forKey(context)}${guess}`, {
      ...place(context),
      hint: `valid types are ${TYPE_TAGS.join(', ')}`,
    });
  }
  switch (tag) {
    case 'none':
      return { type: tag, value: null };
    case 'bool': {
      const value = Object.hasOwn(BOOL_WORDS, raw.toLowerCase()) ? BOOL_WORDS[raw.toLowerCase()] : undefined;
      if (value === undefined) {
        throw new OtopiError('ENV_BAD_VALUE', `${quoted(raw, context)} is not a boolean${forKey(context)}`, {
          ...place(context),
          hint: 'use bool:True or bool:False (also yes/no, on/off, 1/0, y/n, t/f, any case)',
        });
      }
      return { type: tag, value };
    }
    case 'int': {
      const value = INT_RE.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(value)) {
        throw new OtopiError('ENV_BAD_VALUE', `${quoted(raw, context)} is not an integer${forKey(context)}`, {
          ...place(context),
          hint: `use decimal digits with an optional sign, at most ${Number.MAX_SAFE_INTEGER} in size`,
        });
      }
      // `int:-0` must read back as the same value it prints as.
      return { type: tag, value: value === 0 ? 0 : value };
    }
    case 'str':
      return { type: tag, value: raw };
    case 'multi-str':
      return { type: tag, value: splitLines(raw) };
  }
}

/** The tag {@link formatTypedValue} writes for a value. */
export function typeTagOf(value: EnvValue): TypeTag {
  if (value === null) return 'none';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'int';
  if (typeof value === 'string') return 'str';
  return 'multi-str';
}

/**
 * Writes a value as `type:value` in otopi's spelling (`none:None`, `bool:True`,
 * `multi-str:` lines joined with `\n`). `parseTypedValue(formatTypedValue(v))` gives `v`
 * back for every value the parser produces; values that could not come back the same
 * are refused rather than changed.
 *
 * @throws OtopiError `ENV_BAD_VALUE` for a number that is not a safe integer, or a
 * `multi-str` item holding a line break.
 */
export function formatTypedValue(value: EnvValue, context: CodecContext = {}): string {
  const tag = typeTagOf(value);
  if (value === null) return `${tag}:None`;
  if (typeof value === 'boolean') return `${tag}:${value ? 'True' : 'False'}`;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new OtopiError('ENV_BAD_VALUE', `${value}${forKey(context)} cannot be written as int`, {
        ...place(context),
        hint: 'only safe integers are serialisable',
      });
    }
    return `${tag}:${value === 0 ? 0 : value}`;
  }
  if (typeof value === 'string') return `${tag}:${value}`;
  if (value.some((item) => LINE_BREAK_RE.test(item))) {
    throw new OtopiError('ENV_BAD_VALUE', `a multi-str item${forKey(context)} holds a line break`, {
      ...place(context),
      hint: 'split the item into separate lines',
    });
  }
  const joined = value.join('\n');
  // A last empty item needs its own line break, or reading drops it.
  return `${tag}:${value.length > 0 && value[value.length - 1] === '' ? `${joined}\n` : joined}`;
}
