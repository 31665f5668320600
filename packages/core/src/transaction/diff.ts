/**
 * A small line diff (Myers' O(ND) algorithm) and the unified format `diff -u` prints, for
 * dry runs. Lines keep their `\n`, so a missing final newline is a difference of its own
 * and is printed as `\ No newline at end of file`, like GNU diff.
 */

export interface DiffOp {
  readonly kind: ' ' | '-' | '+';
  /** The line, with its `\n` unless it is a last line without one. */
  readonly line: string;
}

export interface UnifiedDiffOptions {
  /** Label after `---`, e.g. `a/etc/hosts` or `/dev/null`. */
  readonly oldLabel: string;
  /** Label after `+++`. */
  readonly newLabel: string;
  /** Unchanged lines shown around each change; default 3. */
  readonly context?: number;
}

/** Past this many differences the diff stops looking for a minimal script and replaces the whole middle. */
const MAX_EDIT_DISTANCE = 1000;

/** Splits text into lines that keep their `\n`; `''` has no lines. */
export function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === '' ? [] : lines;
}

/** The edit script turning `before` into `after`. */
export function diffLines(before: readonly string[], after: readonly string[]): DiffOp[] {
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head++;
  let tail = 0;
  while (
    tail < before.length - head &&
    tail < after.length - head &&
    before[before.length - 1 - tail] === after[after.length - 1 - tail]
  ) {
    tail++;
  }
  const a = before.slice(head, before.length - tail);
  const b = after.slice(head, after.length - tail);
  const middle = myers(a, b) ?? [...a.map((line) => op('-', line)), ...b.map((line) => op('+', line))];
  return [
    ...before.slice(0, head).map((line) => op(' ', line)),
    ...middle,
    ...before.slice(before.length - tail).map((line) => op(' ', line)),
  ];
}

/** `--- old`/`+++ new` and the hunks; `''` when the texts are equal. */
export function unifiedDiff(before: string, after: string, options: UnifiedDiffOptions): string {
  if (before === after) return '';
  const hunks = formatHunks(diffLines(splitLines(before), splitLines(after)), options.context ?? 3);
  return `--- ${options.oldLabel}\n+++ ${options.newLabel}\n${hunks}`;
}

/** Groups an edit script into `@@` hunks with `context` lines around each change. */
export function formatHunks(ops: readonly DiffOp[], context: number): string {
  const keep = ops.map(() => false);
  ops.forEach((o, i) => {
    if (o.kind === ' ') return;
    for (let j = Math.max(0, i - context); j <= Math.min(ops.length - 1, i + context); j++) keep[j] = true;
  });
  let out = '';
  let oldLine = 0;
  let newLine = 0;
  for (let i = 0; i < ops.length;) {
    if (!keep[i]) {
      if (ops[i]?.kind !== '+') oldLine++;
      if (ops[i]?.kind !== '-') newLine++;
      i++;
      continue;
    }
    const oldStart = oldLine;
    const newStart = newLine;
    let body = '';
    for (; i < ops.length && keep[i]; i++) {
      const o = ops[i];
      if (o === undefined) break;
      if (o.kind !== '+') oldLine++;
      if (o.kind !== '-') newLine++;
      body += o.line.endsWith('\n') ? `${o.kind}${o.line}` : `${o.kind}${o.line}\n\\ No newline at end of file\n`;
    }
    out += `@@ -${range(oldStart, oldLine - oldStart)} +${range(newStart, newLine - newStart)} @@\n${body}`;
  }
  return out;
}

/** GNU's range notation: `l` for one line, `l,n` otherwise, and the line before for an empty range. */
function range(start: number, count: number): string {
  if (count === 1) return String(start + 1);
  return `${count === 0 ? start : start + 1},${count}`;
}

function op(kind: DiffOp['kind'], line: string): DiffOp {
  return { kind, line };
}

/** Myers' greedy forward search, keeping each round's frontier to walk the path back. */
function myers(a: readonly string[], b: readonly string[]): DiffOp[] | undefined {
  const n = a.length;
  const m = b.length;
  const offset = n + m + 1;
  const v = new Int32Array(2 * offset + 1);
  const trace: Int32Array[] = [];
  const at = (arr: Int32Array, i: number): number => arr[i] ?? 0;
  for (let d = 0; d <= n + m; d++) {
    if (d > MAX_EDIT_DISTANCE) return undefined;
    // The frontier before round d covers diagonals -d-1..d+1; index k + d + 1.
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && at(v, offset + k - 1) < at(v, offset + k + 1));
      let x = down ? at(v, offset + k + 1) : at(v, offset + k - 1) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(a, b, trace, d);
    }
  }
  return undefined;
}

function backtrack(a: readonly string[], b: readonly string[], trace: readonly Int32Array[], last: number): DiffOp[] {
  const ops: DiffOp[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = last; d >= 0; d--) {
    const frontier = trace[d];
    if (frontier === undefined) break;
    const get = (k: number): number => frontier[k + d + 1] ?? 0;
    const k = x - y;
    const prevK = k === -d || (k !== d && get(k - 1) < get(k + 1)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : get(prevK);
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push(op(' ', a[--x] ?? ''));
      y--;
    }
    if (d === 0) break;
    if (x === prevX) ops.push(op('+', b[--y] ?? ''));
    else ops.push(op('-', a[--x] ?? ''));
  }
  return ops.reverse();
}
