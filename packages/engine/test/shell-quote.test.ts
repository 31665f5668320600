// Shell quoting: every word comes back from a real /bin/sh byte for byte.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from '../src/deploy/shell-quote.js';

const echoBack = (words: readonly string[]): string[] => {
  const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${shellJoin(words)}`]);
  return out.toString('utf8').split('\0').slice(0, -1);
};

// Printable ASCII, line breaks and tabs: every character the shell treats specially is in there.
const shellish = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
  fc.constantFrom('\n', '\t', "'"),
);

describe('shellQuote', () => {
  it('uses POSIX single quotes', () => {
    expect(shellQuote('plain')).toBe(`'plain'`);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe(`''`);
  });

  it('passes statements with spaces, quotes, dollars, globs and line breaks unchanged', () => {
    const words = [
      'DEMO/name=str:Ada Lovelace',
      'DEMO/quote=str:it\'s "quoted"',
      'DEMO/dollar=str:$HOME $(id) `id` ${x}',
      'DEMO/glob=str:* ? [a]',
      'DEMO/multi=str:line one\nline two',
      "''''",
      '\\',
    ];
    expect(echoBack(words)).toEqual(words);
  });

  it('round-trips any string without NUL (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.oneof(shellish, fc.constantFrom('é', '☃', '𝄞')) }), {
          minLength: 1,
          maxLength: 5,
        }),
        (words) => {
          expect(echoBack(words)).toEqual(words);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses NUL, which no shell word can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});
