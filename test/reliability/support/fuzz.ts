/**
 * Fuzzing with fast-check that counts every failing case instead of stopping at the first:
 * the figure "N cases, F failures" is then a measurement. A failure is a check that throws;
 * the first few are kept, with the seed that reproduces the run (`OTOPI_FUZZ_SEED`).
 */
import fc from 'fast-check';
import { FUZZ_RUNS, recordFigure } from './figures.js';

export const SEED = Number(process.env['OTOPI_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

export interface PropertyResult {
  readonly name: string;
  readonly cases: number;
  readonly failures: number;
  /** The first failing inputs, with what was wrong. */
  readonly examples: readonly string[];
}

function show(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

function problemOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Runs `check` on `runs` generated values; a throw counts as a failure. */
export function fuzzSync<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  check: (value: T) => void,
  runs = FUZZ_RUNS,
): PropertyResult {
  let cases = 0;
  let failures = 0;
  const examples: string[] = [];
  fc.assert(
    fc.property(arb, (value) => {
      cases++;
      try {
        check(value);
      } catch (error) {
        failures++;
        if (examples.length < 5) examples.push(`${show(value)} → ${problemOf(error)}`);
      }
      return true;
    }),
    { numRuns: runs, seed: SEED },
  );
  return { name, cases, failures, examples };
}

/** {@link fuzzSync} for checks that wait (a dialect reading its input stream). */
export async function fuzzAsync<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  check: (value: T) => Promise<void>,
  runs = FUZZ_RUNS,
): Promise<PropertyResult> {
  let cases = 0;
  let failures = 0;
  const examples: string[] = [];
  await fc.assert(
    fc.asyncProperty(arb, async (value) => {
      cases++;
      try {
        await check(value);
      } catch (error) {
        failures++;
        if (examples.length < 5) examples.push(`${show(value)} → ${problemOf(error)}`);
      }
      return true;
    }),
    { numRuns: runs, seed: SEED },
  );
  return { name, cases, failures, examples };
}

/** Records the figure of one fuzzed parser and returns the failures to assert on. */
export function reportFuzz(parser: string, results: readonly PropertyResult[]): string[] {
  const cases = results.reduce((sum, r) => sum + r.cases, 0);
  const failures = results.reduce((sum, r) => sum + r.failures, 0);
  const perProperty = results.every((r) => r.cases === results[0]?.cases)
    ? `${results.length} properties × ${results[0]?.cases ?? 0} cases`
    : `${cases} cases`;
  recordFigure({
    item: 'fuzz',
    part: parser,
    line: `fuzz ${parser}: ${perProperty}, ${failures} failures (seed ${SEED})`,
    ok: cases - failures,
    total: cases,
    data: { cases, failures, properties: results.length, seed: SEED },
  });
  return results.flatMap((r) => r.examples.map((e) => `${r.name}: ${e}`));
}

/** Characters that break parsers: line breaks of every kind, quotes, separators, odd spaces, surrogates. */
const NASTY = [
  ':',
  '=',
  ' ',
  '\t',
  '\n',
  '\r',
  '\r\n',
  '\v',
  '\f',
  '\u0000',
  '\u001c',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\u3000',
  '\uFEFF',
  '\\',
  "'",
  '"',
  '#',
  ';',
  '[',
  ']',
  '|',
  '/',
  '-',
  '+',
  '*',
  '%',
  'é',
  '😀',
  '\ud800',
  '\udfff',
];

/** One character: mostly printable ASCII, often a troublemaker, sometimes any UTF-16 unit. */
export const char: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), weight: 6 },
  { arbitrary: fc.constantFrom(...NASTY), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), weight: 1 },
);

/** A string of {@link char}s. */
export function text(maxLength = 40): fc.Arbitrary<string> {
  return fc.array(char, { maxLength }).map((chars) => chars.join(''));
}

/**
 * The boolean spellings the docs promise (docs/machine-dialog.md), written out here as the
 * fuzz oracle, independently of the codec's own table.
 */
export const BOOL: Readonly<Record<string, boolean>> = {
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
