/**
 * Fuzzing the machine dialect's reply parsing (packages/core/src/dialog/machine.ts): a running
 * MachineDialect asks one question of each kind and reads arbitrary bytes from its input
 * stream, as it does from a manager.
 *
 * Every reply gives the value an oracle computes from docs/machine-dialog.md, an abort, or a
 * coded error (DIALOG_BAD_REPLY, DIALOG_INVALID_VALUE, DIALOG_EOF); never another exception,
 * never another value. A hidden reply is a registered secret before the question returns.
 */
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  ABORT_BOUNDARY,
  BOUNDARY,
  Environment,
  MachineDialect,
  Redactor,
  isOtopiError,
  parseConfirmReply,
  parseValueReply,
  type EnvValue,
} from '@otopi/core';
import { fuzzTimeout } from './support/figures.js';
import { fuzzAsync, fuzzSync, reportFuzz, text, BOOL } from './support/fuzz.js';

type Kind = 'value' | 'confirm' | 'string' | 'multi';
interface Case {
  readonly kind: Kind;
  readonly name: string;
  readonly lines: readonly string[];
  readonly eol: string;
  readonly finalEol: boolean;
  readonly validValues: readonly string[] | undefined;
  readonly caseSensitive: boolean;
  readonly default: string | undefined;
  readonly hidden: boolean;
}
type Outcome = { value: EnvValue | boolean } | { code: string };

function typed(input: string): EnvValue | undefined {
  const colon = input.indexOf(':');
  if (colon < 0) return undefined;
  const tag = input.slice(0, colon);
  const raw = input.slice(colon + 1);
  if (tag === 'none') return null;
  if (tag === 'str') return raw;
  if (tag === 'bool') return Object.hasOwn(BOOL, raw.toLowerCase()) ? BOOL[raw.toLowerCase()] : undefined;
  if (tag === 'int') {
    if (!/^[+-]?[0-9]+$/.test(raw)) return undefined;
    const n = BigInt(raw);
    return n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(n);
  }
  if (tag === 'multi-str') return raw === '' ? [] : [raw];
  return undefined;
}

/** The lines the input holds: `\n`, `\r\n` and a lone `\r` end a line; a last line may lack an end. */
function receivedLines(c: Case): string[] {
  // The manager sends UTF-8: a lone surrogate arrives as U+FFFD.
  const input = Buffer.from(c.lines.join(c.eol) + (c.finalEol ? c.eol : ''), 'utf8').toString('utf8');
  const lines = input === '' ? [] : input.split(/\r\n|\r|\n/);
  if (lines.length > 0 && /(?:\r\n|\r|\n)$/.test(input)) lines.pop();
  return lines;
}

/** What the protocol says the dialect must make of the input. */
function oracle(c: Case): Outcome {
  const lines = receivedLines(c);
  const first = lines[0];
  if (c.kind === 'multi') {
    const collected: string[] = [];
    for (const line of lines) {
      if (line === BOUNDARY) return { value: collected };
      if (line === ABORT_BOUNDARY) return { code: 'ABORTED' };
      collected.push(line);
    }
    return { code: 'DIALOG_EOF' };
  }
  if (first === undefined) return { code: 'DIALOG_EOF' };
  if (c.kind === 'value' || c.kind === 'confirm') {
    if (first === `ABORT ${c.name}`) return { code: 'ABORTED' };
    if (c.kind === 'value') {
      const prefix = `VALUE ${c.name}=`;
      const value = first.startsWith(prefix) ? typed(first.slice(prefix.length)) : undefined;
      return value === undefined ? { code: 'DIALOG_BAD_REPLY' } : { value };
    }
    const prefix = `CONFIRM ${c.name}=`;
    const word = first.startsWith(prefix) ? first.slice(prefix.length).toLowerCase() : undefined;
    if (word === 'yes' || word === 'y') return { value: true };
    if (word === 'no' || word === 'n') return { value: false };
    return { code: 'DIALOG_BAD_REPLY' };
  }
  const value = first === '' && c.default !== undefined ? c.default : first;
  const fold = (s: string): string => (c.caseSensitive ? s : s.toLowerCase());
  if (value === '' && c.default === undefined) return { code: 'DIALOG_INVALID_VALUE' };
  if (c.validValues === undefined) return { value: fold(value) };
  const match = c.validValues.find((v) => fold(v) === fold(value));
  return match === undefined ? { code: 'DIALOG_INVALID_VALUE' } : { value: match };
}

const name = fc.constantFrom('Q', 'DEMO/x', 'A.b-c_9', 'CUSTOMIZATION_COMMAND');
const oneLine = text(20).map((s) => s.replace(/[\r\n]/g, ''));
const typedText = fc.oneof(
  oneLine,
  fc
    .tuple(
      fc.constantFrom('none', 'bool', 'int', 'str', 'multi-str', 'INT', 'object', ''),
      fc.oneof(oneLine, fc.constantFrom('7', '-0', 'yes', 'No', '9007199254740992', '')),
    )
    .map(([t, v]) => `${t}:${v}`),
);

function replyFor(kind: Kind, q: string): fc.Arbitrary<string> {
  const other = fc.constantFrom('Q', 'DEMO/x', 'other', `${q}x`, q.toLowerCase());
  const common = [
    text(30),
    fc.constant(''),
    fc.constant(`ABORT ${q}`),
    other.map((o) => `ABORT ${o}`),
    fc.constantFrom(BOUNDARY, ABORT_BOUNDARY),
  ];
  switch (kind) {
    case 'value':
      return fc.oneof(
        typedText.map((t) => `VALUE ${q}=${t}`),
        fc.tuple(other, typedText).map(([o, t]) => `VALUE ${o}=${t}`),
        typedText.map((t) => `value ${q}=${t}`),
        typedText.map((t) => `VALUE ${q} =${t}`),
        ...common,
      );
    case 'confirm':
      return fc.oneof(
        fc.constantFrom('yes', 'no', 'y', 'n', 'YES', 'No', 'true', 'yes ', ' no', '').map((w) => `CONFIRM ${q}=${w}`),
        other.map((o) => `CONFIRM ${o}=yes`),
        ...common,
      );
    case 'string':
      return fc.oneof(fc.constantFrom('Red', 'red', 'GREEN', 'blue', 'Blue ', ' '), ...common);
    case 'multi':
      return fc.oneof(...common);
  }
}

const kase: fc.Arbitrary<Case> = fc
  .tuple(fc.constantFrom<Kind>('value', 'confirm', 'string', 'multi'), name)
  .chain(([kind, q]) =>
    fc.record({
      kind: fc.constant(kind),
      name: fc.constant(q),
      lines: fc.array(replyFor(kind, q), { maxLength: kind === 'multi' ? 6 : 2 }),
      eol: fc.constantFrom('\n', '\r\n'),
      finalEol: fc.boolean(),
      validValues: fc.option(fc.constantFrom(['Red', 'Green', 'Blue'], ['a|b', 'c\\d', ''], ['Red', 'red']), {
        nil: undefined,
      }),
      caseSensitive: fc.boolean(),
      default: fc.option(fc.constantFrom('Green', 'red', 'x', ''), { nil: undefined }),
      hidden: fc.boolean(),
    }),
  );

async function ask(c: Case): Promise<{ outcome: Outcome; env: Environment }> {
  const env = new Environment();
  const input = new PassThrough();
  input.end(c.lines.join(c.eol) + (c.finalEol ? c.eol : ''));
  const redactor = new Redactor({ secrets: () => env.secrets(), protectedNames: () => env.keys() });
  const dialog = new MachineDialect({ env, redactor, input, write: () => undefined });
  try {
    let value: EnvValue | boolean;
    if (c.kind === 'value') value = await dialog.queryValue({ name: c.name });
    else if (c.kind === 'confirm') value = await dialog.confirm({ name: c.name, description: 'the fuzz' });
    else if (c.kind === 'multi') value = await dialog.queryMultiString({ name: c.name });
    else {
      value = await dialog.queryString({
        name: c.name,
        caseSensitive: c.caseSensitive,
        hidden: c.hidden,
        ...(c.validValues === undefined ? {} : { validValues: c.validValues }),
        ...(c.default === undefined ? {} : { default: c.default }),
      });
    }
    return { outcome: { value }, env };
  } catch (error) {
    if (!isOtopiError(error)) throw new Error(`not a coded error: ${String(error)}`, { cause: error });
    return { outcome: { code: error.code }, env };
  } finally {
    dialog.terminate();
  }
}

it(
  'machine-dialect replies: the documented value, an abort or a coded error',
  { timeout: fuzzTimeout(2, 2) },
  async () => {
    const results = [
      await fuzzAsync('a reply from the input stream gives what the protocol says', kase, async (c) => {
        const expected = oracle(c);
        const { outcome, env } = await ask(c);
        if (JSON.stringify(outcome) !== JSON.stringify(expected)) {
          throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(outcome)}`);
        }
        const reply = receivedLines(c)[0];
        if (c.kind === 'string' && c.hidden && reply !== undefined && reply !== '' && !env.secrets().includes(reply)) {
          throw new Error('a hidden reply was not registered as a secret');
        }
      }),
      fuzzSync(
        'the pure reply parsers agree with the same oracle on any line',
        fc
          .tuple(fc.constantFrom<Kind>('value', 'confirm'), name)
          .chain(([kind, q]) => fc.tuple(fc.constant(kind), fc.constant(q), fc.oneof(replyFor(kind, q), text(40)))),
        ([kind, q, line]) => {
          // A line as it arrives: one line, valid UTF-8.
          const flatLine = Buffer.from(line.replace(/[\r\n]/g, ' '), 'utf8').toString('utf8');
          const expected = oracle({
            kind,
            name: q,
            lines: [flatLine],
            eol: '\n',
            finalEol: true,
            validValues: undefined,
            caseSensitive: true,
            default: undefined,
            hidden: false,
          });
          let got: Outcome;
          try {
            got = { value: kind === 'value' ? parseValueReply(flatLine, q) : parseConfirmReply(flatLine, q) };
          } catch (error) {
            if (!isOtopiError(error)) throw new Error(`not a coded error: ${String(error)}`, { cause: error });
            got = { code: error.code };
          }
          if (JSON.stringify(got) !== JSON.stringify(expected))
            throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
        },
      ),
    ];
    expect(reportFuzz('machine replies', results)).toEqual([]);
  },
);
