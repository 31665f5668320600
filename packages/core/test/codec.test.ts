import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTypedValue, parseTypedValue, splitLines, typeTagOf, type EnvValue } from '../src/env/codec.js';
import { OtopiError } from '../src/errors.js';
import { failure } from './helpers.js';

describe('parseTypedValue', () => {
  it('reads each type', () => {
    expect(parseTypedValue('none:whatever')).toEqual({ type: 'none', value: null });
    expect(parseTypedValue('none:')).toEqual({ type: 'none', value: null });
    expect(parseTypedValue('int:42')).toEqual({ type: 'int', value: 42 });
    expect(parseTypedValue('int:-7')).toEqual({ type: 'int', value: -7 });
    expect(parseTypedValue('int:+007')).toEqual({ type: 'int', value: 7 });
    expect(parseTypedValue('str:')).toEqual({ type: 'str', value: '' });
    expect(parseTypedValue('multi-str:a\nb')).toEqual({ type: 'multi-str', value: ['a', 'b'] });
  });

  it('splits only at the first colon and keeps str values verbatim', () => {
    expect(parseTypedValue('str:a:b: c ')).toEqual({ type: 'str', value: 'a:b: c ' });
    expect(parseTypedValue('str:p%w;d # x')).toEqual({ type: 'str', value: 'p%w;d # x' });
  });

  it('normalises int:-0 so it prints back the same', () => {
    expect(Object.is(parseTypedValue('int:-0').value, 0)).toBe(true);
  });

  it.each([
    ['True', true],
    ['true', true],
    ['YES', true],
    ['on', true],
    ['1', true],
    ['y', true],
    ['False', false],
    ['FALSE', false],
    ['no', false],
    ['Off', false],
    ['0', false],
    ['N', false],
    ['f', false],
    ['T', true],
  ])('reads bool:%s as %s (otopi read no/0/FALSE as True)', (text, value) => {
    expect(parseTypedValue(`bool:${text}`)).toEqual({ type: 'bool', value });
  });

  it.each(['', 'maybe', 'ff', ' true', 'truee', '2', 'constructor', 'toString'])('rejects bool:%s', (text) => {
    const error = failure(() => parseTypedValue(`bool:${text}`, { key: 'DEMO/flag' }));
    expect(error.code).toBe('ENV_BAD_VALUE');
    expect(error.message).toContain('DEMO/flag');
    expect(error.message).toContain(`'${text}' is not a boolean`);
    expect(error.place.key).toBe('DEMO/flag');
  });

  it.each(['', '1.5', '1e3', '0x10', ' 1', '1_000', '٣', '9007199254740992', '-', 'abc'])('rejects int:%s', (text) => {
    const error = failure(() => parseTypedValue(`int:${text}`, { key: 'DEMO/n' }));
    expect(error.code).toBe('ENV_BAD_VALUE');
    expect(error.message).toContain(`'${text}' is not an integer for DEMO/n`);
  });

  it('accepts the largest safe integer', () => {
    expect(parseTypedValue('int:-9007199254740991').value).toBe(-Number.MAX_SAFE_INTEGER);
  });

  it('splits multi-str like Python splitlines for \\r\\n, \\n and \\r', () => {
    expect(parseTypedValue('multi-str:').value).toEqual([]);
    expect(parseTypedValue('multi-str:a').value).toEqual(['a']);
    expect(parseTypedValue('multi-str:a\n').value).toEqual(['a']);
    expect(parseTypedValue('multi-str:\n').value).toEqual(['']);
    expect(parseTypedValue('multi-str:a\n\n').value).toEqual(['a', '']);
    expect(parseTypedValue('multi-str:\na\r\nb\rc').value).toEqual(['', 'a', 'b', 'c']);
    expect(parseTypedValue('multi-str: a \n\n b').value).toEqual([' a ', '', ' b']);
  });

  it('agrees with the documented splitlines cases', () => {
    expect(splitLines('x\r\n\r\ny\r')).toEqual(['x', '', 'y']);
    expect(splitLines('\r\n')).toEqual(['']);
  });

  it('reports a missing type with file, line and key', () => {
    const error = failure(() => parseTypedValue('yes', { key: 'QUESTION/1/X', file: 'answers.conf', line: 4 }));
    expect(error.code).toBe('ENV_MISSING_TYPE');
    expect(error.message).toBe("value 'yes' for QUESTION/1/X has no type");
    expect(error.hint).toContain('str:yes');
    expect(error.place).toEqual({ key: 'QUESTION/1/X', file: 'answers.conf', line: 4 });
    expect(error.location).toBe('answers.conf:4: ');
  });

  it('reports an unknown type, listing the valid ones', () => {
    const error = failure(() => parseTypedValue('object:x', { key: 'DEMO/o' }));
    expect(error.code).toBe('ENV_UNKNOWN_TYPE');
    expect(error.message).toBe("unknown type 'object' for DEMO/o");
    expect(error.hint).toBe('valid types are none, bool, int, str, multi-str');
  });

  it('suggests the lower-case tag for a wrongly cased one', () => {
    const error = failure(() => parseTypedValue('Bool:True'));
    expect(error.code).toBe('ENV_UNKNOWN_TYPE');
    expect(error.message).toContain("did you mean 'bool'?");
  });
});

describe('formatTypedValue', () => {
  it('writes otopi spellings', () => {
    expect(formatTypedValue(null)).toBe('none:None');
    expect(formatTypedValue(true)).toBe('bool:True');
    expect(formatTypedValue(false)).toBe('bool:False');
    expect(formatTypedValue(5)).toBe('int:5');
    expect(formatTypedValue(-0)).toBe('int:0');
    expect(formatTypedValue('x')).toBe('str:x');
    expect(formatTypedValue(['a', 'b'])).toBe('multi-str:a\nb');
    expect(formatTypedValue([])).toBe('multi-str:');
  });

  it('keeps a last empty multi-str item', () => {
    expect(formatTypedValue(['a', ''])).toBe('multi-str:a\n\n');
    expect(formatTypedValue([''])).toBe('multi-str:\n');
  });

  it('names the tag of each value', () => {
    expect([null, true, 1, 's', ['s']].map((v) => typeTagOf(v))).toEqual(['none', 'bool', 'int', 'str', 'multi-str']);
  });

  it('refuses values that would not read back the same', () => {
    for (const value of [1.5, Number.NaN, 2 ** 60]) {
      const error = failure(() => formatTypedValue(value, { key: 'DEMO/n' }));
      expect(error.code).toBe('ENV_BAD_VALUE');
      expect(error.message).toContain('cannot be written as int');
      expect(error.place.key).toBe('DEMO/n');
    }
    const error = failure(() => formatTypedValue(['a\nb'], { key: 'DEMO/m' }));
    expect(error.code).toBe('ENV_BAD_VALUE');
    expect(error.message).toBe('a multi-str item for DEMO/m holds a line break');
  });
});

describe('round trip', () => {
  const typedText = fc.oneof(
    fc
      .constantFrom('none', 'bool', 'int', 'str', 'multi-str')
      .chain((tag) =>
        fc
          .oneof(
            fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\r', ':', '0', '1', '-', 'y', 'N', 'é') }),
            fc.constantFrom('True', 'no', 'ON', '-0', '+12', '9007199254740991'),
          )
          .map((rest) => `${tag}:${rest}`),
      ),
  );

  it('formats every parsed value so it parses back the same', () => {
    fc.assert(
      fc.property(typedText, (text) => {
        let parsed: { value: EnvValue } | undefined;
        try {
          parsed = parseTypedValue(text);
        } catch (error) {
          expect(error).toBeInstanceOf(OtopiError);
          return;
        }
        const again = parseTypedValue(formatTypedValue(parsed.value));
        expect(again.value).toEqual(parsed.value);
        expect(again.type).toBe(typeTagOf(parsed.value));
      }),
      { numRuns: 2000, seed: 4242 },
    );
  });

  it('parses every formatted value back the same', () => {
    const value: fc.Arbitrary<EnvValue> = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.maxSafeInteger(),
      fc.string(),
      fc.array(fc.string().filter((s) => !/[\r\n]/.test(s))),
    );
    fc.assert(
      fc.property(value, (v) => {
        expect(parseTypedValue(formatTypedValue(v)).value).toEqual(v);
      }),
      { numRuns: 2000, seed: 99 },
    );
  });
});
