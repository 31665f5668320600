/**
 * Fuzzing the `type:value` codec (packages/core/src/env/codec.ts), the notation of every value
 * on the command line, in answer files and in the machine dialog.
 *
 * - Any text gives the value an independent oracle computes from the documented rules, or a
 *   coded error (ENV_MISSING_TYPE, ENV_UNKNOWN_TYPE, ENV_BAD_VALUE); never another exception,
 *   never another value.
 * - parse(format(v)) is v for every serialisable value; format refuses the rest with a code.
 * - For a sensitive key, no error message or hint repeats any part of the text.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { formatTypedValue, isOtopiError, parseTypedValue, TYPE_TAGS, type EnvValue } from '@otopi/core';
import { fuzzTimeout } from './support/figures.js';
import { char, fuzzSync, reportFuzz, text, BOOL } from './support/fuzz.js';

type Expected = { value: EnvValue } | { code: string };

/** The documented rules, written again without looking at the codec's code paths. */
function oracle(input: string): Expected {
  const colon = input.indexOf(':');
  if (colon < 0) return { code: 'ENV_MISSING_TYPE' };
  const tag = input.slice(0, colon);
  const raw = input.slice(colon + 1);
  switch (tag) {
    case 'none':
      return { value: null };
    case 'str':
      return { value: raw };
    case 'bool': {
      const word = raw.toLowerCase();
      return Object.hasOwn(BOOL, word) ? { value: BOOL[word]! } : { code: 'ENV_BAD_VALUE' };
    }
    case 'int': {
      if (!/^[+-]?[0-9]+$/.test(raw)) return { code: 'ENV_BAD_VALUE' };
      const big = BigInt(raw);
      const max = BigInt(Number.MAX_SAFE_INTEGER);
      return big > max || big < -max ? { code: 'ENV_BAD_VALUE' } : { value: Number(big) };
    }
    case 'multi-str': {
      if (raw === '') return { value: [] };
      const lines = raw.split(/\r\n|\r|\n/);
      if (lines.at(-1) === '') lines.pop();
      return { value: lines };
    }
    default:
      return { code: 'ENV_UNKNOWN_TYPE' };
  }
}

const tags = fc.constantFrom(...TYPE_TAGS, 'INT', 'Bool', 'object', '', ' str', 'multi_str');
const rawValues = fc.oneof(
  text(),
  fc
    .tuple(fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }), fc.boolean())
    .map(([n, plus]) => (plus && n >= 0n ? `+${n}` : String(n))),
  fc.constantFrom(
    '9007199254740991',
    '-9007199254740991',
    '9007199254740992',
    '-0',
    '+0',
    '00',
    '1e3',
    '0x10',
    '1.0',
    ' 1',
    '1 ',
    '',
  ),
  fc
    .constantFrom(...Object.keys(BOOL))
    .chain((w) => fc.constantFrom(w, w.toUpperCase(), `${w[0]!.toUpperCase()}${w.slice(1)}`, ` ${w}`)),
);
const typedText = fc.oneof(
  text(),
  fc.tuple(tags, rawValues).map(([t, v]) => `${t}:${v}`),
);

/** Values the codec can write, and some it must refuse. */
const lineFree = text().map((s) => s.replace(/[\r\n]/g, ''));
const envValues: fc.Arbitrary<EnvValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.maxSafeInteger(),
  fc.constantFrom(-0, Number.MAX_SAFE_INTEGER + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY),
  text(),
  fc.array(lineFree, { maxLength: 6 }),
  fc.array(text(8), { maxLength: 4 }),
);

function sameValue(a: EnvValue, b: EnvValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
  }
  return Object.is(a, b);
}

/** Marker characters that appear in no message: any echo of the secret text shows one. */
const secretChars = fc.constantFrom('ɮ', 'ʡ', 'ʢ', 'Ʊ');
const secret = fc
  .array(
    fc.oneof(
      secretChars,
      char.filter((c) => !/[\r\n]/.test(c)),
    ),
    { minLength: 1, maxLength: 16 },
  )
  .map((cs) => `ɮ${cs.join('')}`);

it('the type:value codec: oracle, round trip, coded errors, secrets never echoed', { timeout: fuzzTimeout(3) }, () => {
  const results = [
    fuzzSync('parse matches the oracle or gives a coded error', typedText, (input) => {
      const expected = oracle(input);
      let got: Expected;
      try {
        got = { value: parseTypedValue(input, { key: 'FUZZ/key' }).value };
      } catch (error) {
        if (!isOtopiError(error)) throw new Error(`not an OtopiError: ${String(error)}`, { cause: error });
        if (error.place.key !== 'FUZZ/key')
          throw new Error(`error does not name the key: ${error.message}`, { cause: error });
        got = { code: error.code };
      }
      if ('code' in expected) {
        if (!('code' in got) || got.code !== expected.code)
          throw new Error(`expected ${expected.code}, got ${JSON.stringify(got)}`);
      } else if (!('value' in got) || !sameValue(got.value, expected.value)) {
        throw new Error(`expected ${JSON.stringify(expected.value)}, got ${JSON.stringify(got)}`);
      }
    }),
    fuzzSync('parse(format(v)) is v, or format refuses with a code', envValues, (value) => {
      let written: string;
      try {
        written = formatTypedValue(value);
      } catch (error) {
        if (!isOtopiError(error, 'ENV_BAD_VALUE'))
          throw new Error(`not ENV_BAD_VALUE: ${String(error)}`, { cause: error });
        const writable =
          (typeof value === 'number' && Number.isSafeInteger(value)) ||
          (Array.isArray(value) && value.every((item) => !/[\r\n]/.test(item)));
        if (writable) throw new Error(`refused a writable value: ${error.message}`, { cause: error });
        return;
      }
      const back = parseTypedValue(written).value;
      const expected = Object.is(value, -0) ? 0 : value;
      if (!sameValue(back, expected))
        throw new Error(`wrote ${JSON.stringify(written)}, read back ${JSON.stringify(back)}`);
    }),
    fuzzSync(
      'errors about a sensitive key repeat none of its text',
      fc.tuple(fc.oneof(tags, secret), secret, fc.boolean()),
      ([tag, value, withColon]) => {
        const input = withColon ? `${tag}:${value}` : value;
        try {
          parseTypedValue(input, { key: 'FUZZ/password', sensitive: true });
        } catch (error) {
          if (!isOtopiError(error)) throw new Error(`not an OtopiError: ${String(error)}`, { cause: error });
          const shown = `${error.message} ${error.hint ?? ''}`;
          if (/[ɮʡʢƱ]/.test(shown)) throw new Error(`echoed the secret: ${shown}`, { cause: error });
        }
      },
    ),
  ];
  expect(reportFuzz('codec', results)).toEqual([]);
});
