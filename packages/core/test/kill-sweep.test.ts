/**
 * Kill sweep: a real child process commits a journaled transaction of 50 files and is
 * killed with SIGKILL at many points; no file may ever be torn, and after recovery the
 * files must be exactly as before (or the whole commit done).
 *
 * Half of the kill points are exact: the child is bundled with a stand-in for
 * `node:fs/promises` that stops before file-system step k (k spread evenly over every step
 * of prepare and commit) and the parent kills it there. The other half are timed: a random
 * delay into the run (up to its calibrated length), which also lands inside system calls.
 * Only kills that landed count (the child had not finished); the figure gives both numbers.
 *
 * OTOPI_KILL_POINTS sets the number of points (default 200; 1,000 in the reliability suite's
 * long mode). Under `npm run reliability` the figure also goes to OTOPI_RELIABILITY_FIGURES.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsdown';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recoverJournals } from '../src/transaction/journal-recovery.js';
import {
  changes,
  classify,
  FILE_COUNT,
  listTree,
  scenario,
  setUp,
  type ScenarioFile,
} from './fixtures/transaction/kill-scenario.js';

// Long mode (docs/reliability.md: OTOPI_LONG=1, or CI=true) sweeps 1,000 points.
const LONG =
  process.env['OTOPI_LONG'] === '1' || (process.env['OTOPI_LONG'] === undefined && process.env['CI'] === 'true');
const POINTS = Number(process.env['OTOPI_KILL_POINTS'] ?? (LONG ? '1000' : '200'));
const PARALLEL = 2;
const fixtures = fileURLToPath(new URL('./fixtures/transaction/', import.meta.url));
let work: string;
let child: string;

beforeAll(async () => {
  work = mkdtempSync(
    join(process.env['OTOPI_KILL_DIR'] ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'kill-sweep-'),
  );
  const shim = join(fixtures, 'step-fs.ts');
  await build({
    config: false,
    entry: { 'kill-child': join(fixtures, 'kill-child.ts') },
    outDir: join(work, 'bundle'),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    dts: false,
    logLevel: 'silent',
    fixedExtension: true,
    plugins: [
      {
        name: 'step-fs',
        resolveId: {
          order: 'pre',
          handler: (id: string, importer: string | undefined) =>
            id === 'node:fs/promises' && importer !== undefined && importer !== shim ? shim : null,
        },
      },
    ],
  });
  child = join(work, 'bundle', 'kill-child.mjs');
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  /** Whether the child finished before it was killed. */
  readonly finished: boolean;
  /** From a finished run: file-system steps taken and milliseconds spent in prepare + commit. */
  readonly steps: number;
  readonly ms: number;
}

/** Runs the child on `root`; kills it at step `killStep`, or `killAfterMs` after it is ready. */
function runChild(root: string, kill: { step?: number; afterMs?: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, KILL_STEP: String(kill.step ?? 0) };
    const proc = spawn(process.execPath, [child, root, join(root, 'state')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('paused ')) proc.kill('SIGKILL');
      if (kill.afterMs !== undefined && timer === undefined && out.includes('ready\n')) {
        timer = setTimeout(() => proc.kill('SIGKILL'), kill.afterMs);
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      const done = /done (\d+) ([\d.]+)/.exec(out);
      if (signal === 'SIGKILL' || (code === 0 && done !== null)) {
        resolve({ finished: done !== null, steps: Number(done?.[1] ?? 0), ms: Number(done?.[2] ?? 0) });
      } else {
        reject(new Error(`child exited with ${code ?? signal}: ${err}`));
      }
    });
  });
}

interface Outcome {
  /** Whether the kill came while the child still ran (not after it had finished). */
  readonly landed: boolean;
  readonly torn: number;
  readonly after: 'old' | 'new' | 'inconsistent';
  readonly detail: string;
}

/** Kills one child as told, then checks the files before and after recovery. */
async function killPoint(index: number, kill: { step?: number; afterMs?: number }): Promise<Outcome> {
  const root = join(work, `point-${index}`);
  const files = scenario(root);
  setUp(root, files);
  const before = listTree(root);
  const run = await runChild(root, kill);
  const torn = files.filter((f) => classify(f) === 'torn').length;
  const reports = await recoverJournals(join(root, 'state'));
  const failed = reports.filter((r) => r.outcome === 'failed');
  const states = new Set(files.filter(changes).map(classify));
  let after: Outcome['after'] = 'inconsistent';
  let detail = `states ${[...states].join(',')}; recovery ${JSON.stringify(failed)}`;
  if (failed.length === 0 && leftovers(join(root, 'state')).length === 0) {
    const tree = listTree(root);
    if (!states.has('new') && !states.has('torn') && sameTree(tree, before)) after = 'old';
    else if (states.size === 1 && states.has('new') && onlyExpectedExtras(root, tree, files)) after = 'new';
    else detail = `unexpected tree: ${[...tree.keys()].filter((k) => !before.has(k)).join(' ')}`;
  }
  rmSync(root, { recursive: true, force: true });
  return { landed: !run.finished, torn, after, detail };
}

function leftovers(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

function sameTree(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

/** After a complete commit: the targets, their new directories, and one backup per backed-up changed file. */
function onlyExpectedExtras(root: string, tree: Map<string, string>, files: readonly ScenarioFile[]): boolean {
  const etc = `${join(root, 'etc')}/`;
  const names = new Set(files.map((f) => f.path.slice(etc.length)));
  const backups = files.filter((f) => f.backup && f.old !== null && changes(f));
  const backupNames = [...tree.keys()].filter((k) => /\.\d{14}(\.\d+)?$/.test(k));
  const hidden = [...tree.keys()].filter((k) => k.split('/').some((part) => part.startsWith('.')));
  const others = [...tree.keys()].filter(
    (k) => !names.has(k) && !backupNames.includes(k) && tree.get(k)?.endsWith(' dir') !== true,
  );
  return hidden.length === 0 && others.length === 0 && backupNames.length === backups.length;
}

it(`survives SIGKILL at ${POINTS} points of a 50-file commit`, { timeout: 120_000 + POINTS * 1_000 }, async () => {
  const started = performance.now();
  // A full run first: how many steps and how long a commit takes.
  const calibration = join(work, 'calibration');
  const files = scenario(calibration);
  setUp(calibration, files);
  const full = await runChild(calibration, {});
  expect(full.finished).toBe(true);
  expect(files.map(classify)).toEqual(files.map((f) => (changes(f) ? 'new' : 'old')));
  expect(onlyExpectedExtras(calibration, listTree(calibration), files)).toBe(true);

  const exact = Math.ceil(POINTS / 2);
  const plan = Array.from({ length: POINTS }, (_, i) =>
    i % 2 === 0 ? { step: 1 + Math.floor(((i / 2) * full.steps) / exact) } : { afterMs: Math.random() * full.ms },
  );
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < plan.length; i = next++) outcomes.push(await killPoint(i, plan[i] ?? {}));
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));

  // Kills after the child finished prove nothing: they are counted apart, and checked all the same.
  const landed = outcomes.filter((o) => o.landed);
  const torn = outcomes.reduce((sum, o) => sum + o.torn, 0);
  const tornPoints = landed.filter((o) => o.torn > 0).length;
  const count = (what: Outcome['after']): number => landed.filter((o) => o.after === what).length;
  const consistent = landed.length - count('inconsistent');
  const line =
    `kill sweep: ${landed.length} of ${outcomes.length} kills landed (the run had not ended); ` +
    `torn files ${tornPoints}/${landed.length} landed kills (${torn} of ${landed.length * FILE_COUNT} files); ` +
    `${consistent}/${landed.length} consistent after recovery (${count('old')} rolled back, ${count('new')} complete)`;
  console.log(
    `${line}; ${exact} kills at fs steps 1..${full.steps}, ${POINTS - exact} timed (commit ${full.ms.toFixed(0)} ms); ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const figures = process.env['OTOPI_RELIABILITY_FIGURES'];
  if (figures !== undefined && figures !== '') {
    const good = landed.filter((o) => o.torn === 0 && o.after !== 'inconsistent').length;
    const figure = {
      item: 'kill-sweep',
      part: 'commit',
      line,
      ok: good,
      total: landed.length,
      data: {
        points: outcomes.length,
        landed: landed.length,
        tornFiles: torn,
        files: landed.length * FILE_COUNT,
        consistent,
      },
    };
    appendFileSync(figures, `${JSON.stringify(figure)}\n`);
  }
  expect(torn).toBe(0);
  // Most kills must land, or the sweep measures nothing.
  expect(landed.length).toBeGreaterThan(outcomes.length / 2);
  expect(outcomes.filter((o) => o.after === 'inconsistent').map((o) => o.detail)).toEqual([]);
});
