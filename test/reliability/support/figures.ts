/**
 * What the reliability suite measures, and how long it measures for.
 *
 * Every test of the suite reports its figure with {@link recordFigure}: a line on the console
 * and, when `npm run reliability` runs it (`OTOPI_RELIABILITY_FIGURES`), a JSON line the
 * runner turns into its summary. The figures come from the measurement, never from constants.
 */
import { appendFileSync } from 'node:fs';

/**
 * Long mode: the sweeps run at full size (10^5 fuzz cases per property, 1,000 kill points).
 * On with `OTOPI_LONG=1`, and by default when `CI=true`; `OTOPI_LONG=0` turns it off.
 */
export const LONG =
  process.env['OTOPI_LONG'] === '1' || (process.env['OTOPI_LONG'] === undefined && process.env['CI'] === 'true');

/** Cases per fuzz property: `OTOPI_FUZZ_RUNS`, else 100,000 in long mode and 2,000 otherwise. */
export const FUZZ_RUNS = Number(process.env['OTOPI_FUZZ_RUNS'] ?? (LONG ? 100_000 : 2_000));

/** A test timeout that grows with the number of fuzz cases (`msPerCase` each, plus a minute). */
export function fuzzTimeout(properties: number, msPerCase = 0.5): number {
  return 60_000 + properties * FUZZ_RUNS * msPerCase;
}

/** One measured figure of an item of the suite. */
export interface Figure {
  /** Item key: `kill-sweep`, `fuzz`, `full-disk`, `concurrency`, `host-keys`, `secrets`, `bad-input`. */
  readonly item: string;
  /** What was measured, e.g. `codec`. */
  readonly part: string;
  /** The line as printed, e.g. `fuzz codec: 3 properties × 100000 cases, 0 failures`. */
  readonly line: string;
  /** How many checks passed, and out of how many. */
  readonly ok: number;
  readonly total: number;
  /** More numbers for the summary (cases, outputs, hits...). */
  readonly data?: Readonly<Record<string, number | string>>;
}

/** Prints a figure and, under the runner, appends it to the figures file. */
export function recordFigure(figure: Figure): void {
  console.log(figure.line);
  const file = process.env['OTOPI_RELIABILITY_FIGURES'];
  if (file !== undefined && file !== '') appendFileSync(file, `${JSON.stringify(figure)}\n`);
}
