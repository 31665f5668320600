/**
 * Fuzzing the command-line statement parser (packages/core/src/env/statements.ts):
 * `[APPEND:|PREPEND:]KEY=type:value`, one or more per argument.
 *
 * - Any arguments give statements or a coded error (ENV_BAD_STATEMENT, ENV_MISSING_TYPE,
 *   ENV_UNKNOWN_TYPE, ENV_BAD_VALUE); never another exception.
 * - Generated statements, each quoted as a shell would, come back with the same op, key,
 *   type and value; left unquoted, byte for byte too when nothing in them is shell syntax.
 * - A syntax error repeats nothing after a `=`, and a value error for a sensitive key
 *   nothing of the value.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { formatTypedValue, isOtopiError, parseStatements, type EnvValue, type Statement } from '@otopi/core';
import { fuzzTimeout } from './support/figures.js';
import { char, fuzzSync, reportFuzz, text } from './support/fuzz.js';

const CODES = ['ENV_BAD_STATEMENT', 'ENV_MISSING_TYPE', 'ENV_UNKNOWN_TYPE', 'ENV_BAD_VALUE'];

const part = fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}$/);
const group = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,7}$/);
const key = fc.tuple(group, fc.array(part, { minLength: 1, maxLength: 3 })).map(([g, rest]) => [g, ...rest].join('/'));
const op = fc.constantFrom('', 'APPEND:', 'PREPEND:');
const lineFree = text(12).map((s) => s.replace(/[\r\n]/g, ''));
const envValue: fc.Arbitrary<EnvValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.maxSafeInteger(),
  text(30),
  fc.array(lineFree, { maxLength: 4 }),
);
const statement = fc.record({ op, key, value: envValue });

/** An argument that is statement-like often, random sometimes. */
const argument = fc.oneof(
  text(40),
  fc
    .tuple(
      op,
      key,
      fc.constantFrom('=', '= ', '=str:', '=int:', '=bool:', '=none:', '=multi-str:', '="str:', "='", '=\\'),
      text(20),
    )
    .map(([o, k, eq, v]) => `${o}${k}${eq}${v}`),
  fc
    .array(fc.oneof(char, fc.constantFrom(' ', 'A/b=', 'str:', "'", '"', '\\')), { maxLength: 30 })
    .map((cs) => cs.join('')),
);

const OPS: Record<string, Statement['op']> = { '': 'set', 'APPEND:': 'append', 'PREPEND:': 'prepend' };
const SHELL = /['"\\]/;
const NEXT_STATEMENT = /\s(?:APPEND:|PREPEND:)?[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z0-9_.-]+)+=/;

function same(got: Statement | undefined, want: { op: string; key: string; value: EnvValue }): boolean {
  if (got === undefined) return false;
  const expected = Object.is(want.value, -0) ? 0 : want.value;
  return got.op === OPS[want.op] && got.key === want.key && JSON.stringify(got.value) === JSON.stringify(expected);
}

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

it('the statement parser: coded errors, round trips, nothing secret echoed', { timeout: fuzzTimeout(4) }, () => {
  let unquoted = 0;
  const results = [
    fuzzSync('any arguments give statements or a coded error', fc.array(argument, { maxLength: 4 }), (args) => {
      try {
        for (const s of parseStatements(args)) {
          if (!['set', 'append', 'prepend'].includes(s.op) || !/^argv\[\d+\]$/.test(s.source))
            throw new Error(`odd statement ${JSON.stringify(s)}`);
        }
      } catch (error) {
        if (!isOtopiError(error) || !CODES.includes(error.code))
          throw new Error(`not a coded error: ${String(error)}`, { cause: error });
        if (!/^argv\[\d+\]: /.test(error.message))
          throw new Error(`error does not name the argument: ${error.message}`, { cause: error });
      }
    }),
    fuzzSync('a quoted statement comes back the same', statement, (s) => {
      const arg = `${s.op}${s.key}=${quote(formatTypedValue(s.value))}`;
      const [got, ...more] = parseStatements([arg]);
      if (more.length > 0 || !same(got, s))
        throw new Error(`${JSON.stringify(arg)} → ${JSON.stringify([got, ...more])}`);
    }),
    fuzzSync(
      'unquoted statements, several in one argument, come back byte for byte',
      fc.array(statement, { minLength: 1, maxLength: 3 }),
      (list) => {
        const texts = list.map((s) => `${s.op}${s.key}=${formatTypedValue(s.value)}`);
        // Shell syntax, or whitespace that starts another statement, is parsed as such: not this property.
        if (texts.some((t) => SHELL.test(t) || NEXT_STATEMENT.test(t) || (texts.length > 1 && /\s$/.test(t)))) return;
        unquoted++;
        const got = parseStatements([texts.join(' ')]);
        if (got.length !== list.length || !list.every((s, i) => same(got[i], s))) {
          throw new Error(`${JSON.stringify(texts.join(' '))} → ${JSON.stringify(got)}`);
        }
      },
    ),
    fuzzSync(
      'errors repeat nothing after a =, nor a sensitive value',
      fc.tuple(
        key,
        fc.constantFrom('int:', 'bool:', 'nope:', '', '"str:', 'str:\\'),
        fc.array(fc.constantFrom('ɮ', 'ʡ', ' ', 'x', '='), { minLength: 1, maxLength: 10 }),
        fc.boolean(),
      ),
      ([k, prefix, secretChars, split]) => {
        const secret = `ɮ${secretChars.join('')}`;
        const args = split
          ? [`${k}=str:${secret.split(' ')[0]!}`, ...secret.split(' ').slice(1)]
          : [`${k}=${prefix}${secret}`];
        try {
          parseStatements(args, 'argv', () => true);
        } catch (error) {
          if (!isOtopiError(error)) throw error;
          const shown = `${error.message} ${error.hint ?? ''}`;
          if (/[ɮʡ]/.test(shown)) throw new Error(`echoed the secret: ${shown}`, { cause: error });
        }
      },
    ),
  ];
  expect(reportFuzz('statements', results)).toEqual([]);
  // Most generated statements need no quoting, so the byte-for-byte property is not vacuous.
  expect(unquoted).toBeGreaterThan(results[2]!.cases / 4);
});
