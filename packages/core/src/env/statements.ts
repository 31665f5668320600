/**
 * Command-line environment statements: `[APPEND:|PREPEND:]KEY=type:value`.
 *
 * otopi joined all arguments into one string and shell-split it, so
 * `'DEMO/x=str:a b'` set `a` and silently dropped `b`. Here every argument is read on its
 * own: it is split into several statements only at whitespace that is followed by the
 * start of another statement (`[APPEND:|PREPEND:]KEY=`), and every other character,
 * inner whitespace included, belongs to the value. An argument without quotes or
 * backslashes is taken byte for byte; shell-style quotes are still honoured for
 * compatibility (`DEMO/x="str:a b"`). A word that is not a statement is an error, never
 * dropped.
 */
import { OtopiError, isOtopiError } from '../errors.js';
import { parseTypedValue, type EnvValue, type TypeTag } from './codec.js';
import { ENV_KEY_RE } from './open-keys.js';

/** What a statement does to its key. */
export type StatementOp = 'set' | 'append' | 'prepend';

/** A statement split off its argument, its value not parsed yet (see {@link splitStatements}). */
export interface StatementText {
  readonly op: StatementOp;
  /** Environment key, `GROUP/name[/more]`. */
  readonly key: string;
  /** The `type:value` text, quotes and escapes removed. */
  readonly text: string;
  /** Where it came from, e.g. `argv[2]`, for messages. */
  readonly source: string;
}

/** One parsed `KEY=type:value` statement. */
export interface Statement {
  /** `set` replaces the value; `append`/`prepend` extend a colon list or a multi-str. */
  readonly op: StatementOp;
  /** Environment key, `GROUP/name[/more]`. */
  readonly key: string;
  readonly type: TypeTag;
  readonly value: EnvValue;
  /** Where it came from, e.g. `argv[2]`, for messages. */
  readonly source: string;
}

/** A key: a group, then one or more `/`-separated parts (`QUESTION/1/DIALOG_CONFIRM/GPG_KEY`). */
export const STATEMENT_KEY_RE = ENV_KEY_RE;
const START_RE = /(?:APPEND:|PREPEND:)?[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z0-9_.-]+)+=/y;
const STATEMENT_RE = /^(APPEND:|PREPEND:)?([^=]*)=([\s\S]*)$/;
const SHELL_SPACE = new Set([' ', '\t', '\r', '\n']);

interface Decoded {
  /** The argument with quotes and escapes removed. */
  readonly text: string;
  /** Per character of `text`: it was inside quotes or escaped, so it never separates. */
  readonly literal: readonly boolean[];
}

function badStatement(message: string, source: string, hint: string): OtopiError {
  return new OtopiError('ENV_BAD_STATEMENT', `${source}: ${message}`, { hint });
}

/**
 * A word as a syntax error shows it: only up to its first `=`, because what follows may be a
 * secret, and whether a key is sensitive is only known once the plugin groups are loaded.
 */
function shown(word: string): string {
  const eq = word.indexOf('=');
  return eq < 0 ? `'${word}'` : `'${word.slice(0, eq + 1)}…'`;
}

/** Removes POSIX shell quoting (as Python's `shlex` does), keeping every character. */
function decode(arg: string, source: string): Decoded {
  let text = '';
  const literal: boolean[] = [];
  let quote: "'" | '"' | undefined;
  const push = (ch: string, isLiteral: boolean): void => {
    text += ch;
    literal.push(isLiteral);
  };
  for (let i = 0; i < arg.length; i++) {
    const ch = arg[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else push(ch, true);
    } else if (quote === '"') {
      const next = arg[i + 1];
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && (next === '"' || next === '\\')) push(arg[++i]!, true);
      else push(ch, true);
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '\\') {
      if (i + 1 >= arg.length) {
        throw badStatement(`${shown(arg)} ends with a lone backslash`, source, 'remove it or escape it as \\\\');
      }
      push(arg[++i]!, true);
    } else {
      push(ch, false);
    }
  }
  if (quote !== undefined) {
    throw badStatement(
      `${shown(arg)} has no closing ${quote}`,
      source,
      `close the quote, e.g. DEMO/x=${quote}str:a b${quote}`,
    );
  }
  return { text, literal };
}

function startsStatement(text: string, at: number): boolean {
  START_RE.lastIndex = at;
  return START_RE.test(text);
}

/** Splits one decoded argument into statement texts. */
function splitArgument({ text, literal }: Decoded): string[] {
  const isSpace = (i: number): boolean => !literal[i] && SHELL_SPACE.has(text[i]!);
  let start = 0;
  while (start < text.length && isSpace(start)) start++;
  if (start === text.length) return [];
  const parts: string[] = [];
  let i = start;
  while (i < text.length) {
    if (!isSpace(i)) {
      i++;
      continue;
    }
    let end = i;
    while (end < text.length && isSpace(end)) end++;
    if (end < text.length && startsStatement(text, end)) {
      parts.push(text.slice(start, i));
      start = end;
    }
    i = end;
  }
  parts.push(text.slice(start));
  return parts;
}

function notAStatementHint(word: string, previous: StatementText | undefined): string {
  if (previous !== undefined) {
    return `keys look like GROUP/name, e.g. CORE/logDir=str:/tmp; a value with spaces must stay one argument: quote it, e.g. '${previous.key}=str:a b'`;
  }
  const eq = word.indexOf('=');
  if (eq > 0) {
    return `keys look like GROUP/name, e.g. CORE/logDir=str:/tmp; '${word.slice(0, eq)}' is not one`;
  }
  return 'write KEY=type:value, e.g. CORE/logDir=str:/tmp';
}

/**
 * Splits command-line arguments into statements, one or more per argument, in order,
 * without parsing their values: {@link parseStatementValue} does that once it is known
 * whether the key is sensitive. `label` names the argument list in messages (`argv[3]`).
 *
 * A word that follows a statement but is not one is most likely the rest of that
 * statement's value (a value with spaces, unquoted); it is therefore not shown.
 *
 * @throws OtopiError `ENV_BAD_STATEMENT` for an argument that is not a statement (with a
 * hint on quoting), or for unbalanced quotes.
 */
export function splitStatements(args: readonly string[], label = 'argv'): StatementText[] {
  const out: StatementText[] = [];
  let previous: StatementText | undefined;
  args.forEach((arg, index) => {
    const source = `${label}[${index}]`;
    const decoded = decode(arg, source);
    const parts = splitArgument(decoded);
    const first = parts[0];
    if (first !== undefined && !startsStatement(first, 0)) {
      const what =
        previous !== undefined
          ? `not a KEY=type:value statement (after ${shown(`${previous.key}=`)})`
          : `${shown(first)} is not a KEY=type:value statement`;
      throw badStatement(what, source, notAStatementHint(first, previous));
    }
    for (const part of parts) {
      const match = STATEMENT_RE.exec(part);
      const key = match?.[2];
      const text = match?.[3];
      if (key === undefined || text === undefined || !STATEMENT_KEY_RE.test(key)) {
        throw badStatement(
          `${shown(part)} is not a KEY=type:value statement`,
          source,
          notAStatementHint(part, undefined),
        );
      }
      const op: StatementOp = match?.[1] === 'APPEND:' ? 'append' : match?.[1] === 'PREPEND:' ? 'prepend' : 'set';
      previous = { op, key, text, source };
      out.push(previous);
    }
  });
  return out;
}

/**
 * Parses the value of a statement. With `sensitive`, an error repeats nothing of the value.
 *
 * @throws OtopiError `ENV_MISSING_TYPE`, `ENV_UNKNOWN_TYPE`, `ENV_BAD_VALUE` from the value,
 * naming the key and the argument.
 */
export function parseStatementValue(statement: StatementText, sensitive = false): Statement {
  const { op, key, text, source } = statement;
  let parsed: { type: TypeTag; value: EnvValue };
  try {
    parsed = parseTypedValue(text, { key, sensitive });
  } catch (error) {
    if (!isOtopiError(error)) throw error;
    throw new OtopiError(error.code, `${source}: ${error.message}`, {
      key,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
      cause: error,
    });
  }
  return { op, key, type: parsed.type, value: parsed.value, source };
}

/**
 * Parses command-line statements, one or more per argument, in order: {@link splitStatements}
 * then {@link parseStatementValue}, a key being sensitive when `isSensitive` says so.
 *
 * @throws OtopiError as those two.
 */
export function parseStatements(
  args: readonly string[],
  label = 'argv',
  isSensitive: (key: string) => boolean = () => false,
): Statement[] {
  return splitStatements(args, label).map((s) => parseStatementValue(s, isSensitive(s.key)));
}

/**
 * Applies a statement's op to the key's current value.
 *
 * - `set` → `value`.
 * - `append`/`prepend` on a colon list (`BASE/pluginGroups`): `old:value` / `value:old`.
 *   An unset or empty side is left out, so appending `x` to nothing gives `x` (otopi gave
 *   `:x`, which adds an empty list element).
 * - On a multi-str, the items are added at the end or the front; a `str` value is added
 *   as one item.
 *
 * @throws OtopiError `ENV_BAD_VALUE` when either side is not a string, a multi-str or unset
 * (otopi turned `int` and `bool` values into strings silently), or when a multi-str value
 * would extend a colon list.
 */
export function applyListOp(old: EnvValue | undefined, op: StatementOp, value: EnvValue, key?: string): EnvValue {
  if (op === 'set') return value;
  const where = key === undefined ? {} : { key };
  const what = key === undefined ? '' : ` to ${key}`;
  const isList = (v: EnvValue | undefined): v is readonly string[] => Array.isArray(v);
  if (typeof value !== 'string' && !isList(value)) {
    throw new OtopiError('ENV_BAD_VALUE', `cannot ${op} a ${value === null ? 'none' : typeof value} value${what}`, {
      ...where,
      hint: 'APPEND: and PREPEND: take str or multi-str values',
    });
  }
  if (old === undefined || old === null || old === '') {
    return value;
  }
  if (isList(old)) {
    const items = isList(value) ? value : [value];
    return op === 'append' ? [...old, ...items] : [...items, ...old];
  }
  if (typeof old !== 'string' || isList(value)) {
    throw new OtopiError('ENV_BAD_VALUE', `cannot ${op} a ${isList(value) ? 'multi-str' : 'str'} value${what}`, {
      ...where,
      hint: `the current value is ${typeof old === 'string' ? 'a colon list (str)' : typeof old}`,
    });
  }
  if (value === '') return old;
  return op === 'append' ? `${old}:${value}` : `${value}:${old}`;
}
