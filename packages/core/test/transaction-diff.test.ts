import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffLines, splitLines, unifiedDiff } from '../src/transaction/diff.js';

const labels = { oldLabel: 'a/f', newLabel: 'b/f' };

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('x\n', 'x\n', labels)).toBe('');
  });

  it('marks a missing final newline like GNU diff', () => {
    expect(unifiedDiff('a\nb', 'a\nb\n', labels)).toBe(
      '--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n',
    );
  });

  it('merges changes closer than twice the context and splits farther ones', () => {
    const old = Array.from({ length: 30 }, (_, i) => `${i + 1}\n`);
    const near = [...old];
    near[2] = 'x\n';
    near[8] = 'y\n';
    expect(unifiedDiff(old.join(''), near.join(''), labels).match(/^@@/gm)).toHaveLength(1);
    const far = [...old];
    far[2] = 'x\n';
    far[10] = 'y\n';
    expect(unifiedDiff(old.join(''), far.join(''), { ...labels, context: 3 }).match(/^@@.*$/gm)).toEqual([
      '@@ -1,6 +1,6 @@',
      '@@ -8,7 +8,7 @@',
    ]);
  });

  it('describes removing everything', () => {
    expect(unifiedDiff('a\nb\n', '', labels)).toBe('--- a/f\n+++ b/f\n@@ -1,2 +0,0 @@\n-a\n-b\n');
  });

  it('finds a minimal script for a small edit inside a long file', () => {
    const old = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`);
    const next = [...old.slice(0, 2500), 'inserted\n', ...old.slice(2501)];
    const ops = diffLines(old, next);
    expect(ops.filter((o) => o.kind !== ' ')).toHaveLength(2);
  });
});

describe('diffLines', () => {
  it('is an edit script that rebuilds both sides', () => {
    const text = fc.array(fc.constantFrom('a\n', 'b\n', 'c\n', 'd'), { maxLength: 30 }).map((lines) => lines.join(''));
    fc.assert(
      fc.property(text, text, (a, b) => {
        const ops = diffLines(splitLines(a), splitLines(b));
        expect(
          ops
            .filter((o) => o.kind !== '+')
            .map((o) => o.line)
            .join(''),
        ).toBe(a);
        expect(
          ops
            .filter((o) => o.kind !== '-')
            .map((o) => o.line)
            .join(''),
        ).toBe(b);
      }),
      { numRuns: 500 },
    );
  });
});

describe('diffLines on very different inputs', () => {
  it('falls back to replacing the middle instead of searching forever', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}\n`);
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}\n`);
    // A full search would take minutes here; the test's own timeout is the guard, not a clock.
    const ops = diffLines(['same\n', ...a], ['same\n', ...b]);
    expect(ops.filter((o) => o.kind === '-')).toHaveLength(3000);
    expect(ops.filter((o) => o.kind === '+').map((o) => o.line)).toEqual(b);
    expect(ops[0]).toEqual({ kind: ' ', line: 'same\n' });
  });
});
