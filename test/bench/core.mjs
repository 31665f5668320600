#!/usr/bin/env node
// Core benchmark (`npm run bench:core`): a no-op run of the base group from a cold process
// (wall, CPU, peak RSS), the time to plan 1,000 synthetic handlers, and floors measured in
// the same run (Node's and Python's bare start). It compares with nothing it did not measure:
// the original otopi is not installable on this machine (no Debian package, not on PyPI), so
// there is no ratio against it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'packages/cli/dist/otopi.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 20);

// This machine exports NODE_EXTRA_CA_CERTS, which costs Node ~180 ms per start; a host does not.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

// GNU time gives CPU and peak RSS (10 ms resolution for CPU); wall comes from our own clock.
function timed(argv, extraEnv = {}) {
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', ...argv], { env: { ...env, ...extraEnv }, encoding: 'utf8' });
  const wallMs = performance.now() - start;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const [user, sys, rssKb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wallMs, cpuMs: (user + sys) * 1000, rssMb: rssKb / 1024 };
}

function series(argv, extraEnv) {
  timed(argv, extraEnv); // warm the page cache
  const samples = Array.from({ length: RUNS }, () => timed(argv, extraEnv));
  const median = (key) => samples.map((s) => s[key]).sort((a, b) => a - b)[Math.floor(samples.length / 2)];
  return { wallMs: median('wallMs'), cpuMs: median('cpuMs'), rssMb: Math.max(...samples.map((s) => s.rssMb)) };
}

const logDir = mkdtempSync(join(tmpdir(), 'otopi-bench-'));
const noop = series(['node', CLI, `CORE/logDir=str:${logDir}`], {
  OTOPI_CONFIG: join(logDir, 'none.conf'),
  OTOPI_STATEDIR: join(logDir, 'state'),
});
const nodeFloor = series(['node', '-e', '0']);
const pythonFloor = series(['python3', '-c', 'pass']);
rmSync(logDir, { recursive: true, force: true });

const { buildPlan, STAGES } = await import(join(ROOT, 'packages/core/dist/index.js'));
const nodes = [];
for (let i = 0; i < 1000; i++) {
  const stage = STAGES[i % STAGES.length];
  const after = i >= 36 && i % 3 === 0 ? [`group${(i - 36) % 10}.h${i - 36}`] : [];
  nodes.push({ name: `group${i % 10}.h${i}`, plugin: `group${i % 10}`, stage, priority: 5000, before: [], after });
}
buildPlan(nodes);
const planTimes = [];
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  buildPlan(nodes);
  planTimes.push(performance.now() - t);
}
planTimes.sort((a, b) => a - b);
const planMs = planTimes[25];

const f = (n) => n.toFixed(1);
console.log(`machine: ${process.version}, ${RUNS} cold runs each, medians`);
console.log(
  `no-op run of the base group: wall ${f(noop.wallMs)} ms, cpu ${f(noop.cpuMs)} ms, peak rss ${f(noop.rssMb)} MB`,
);
console.log(
  `node bare start:             wall ${f(nodeFloor.wallMs)} ms, cpu ${f(nodeFloor.cpuMs)} ms, peak rss ${f(nodeFloor.rssMb)} MB`,
);
console.log(`python3 bare start:          wall ${f(pythonFloor.wallMs)} ms`);
console.log(`plan 1,000 handlers:         ${planMs.toFixed(2)} ms`);
console.log(
  `over bare node: wall ${f(noop.wallMs - nodeFloor.wallMs)} ms, cpu ${f(noop.cpuMs - nodeFloor.cpuMs)} ms, ` +
    `peak rss ${f(noop.rssMb - nodeFloor.rssMb)} MB`,
);
console.log(
  `goals: no-op <= 60 ms wall: ${noop.wallMs <= 60 ? 'met' : 'missed'}; <= 45 MB peak rss: ${noop.rssMb <= 45 ? 'met' : 'missed'}; ` +
    `plan 1,000 < 50 ms: ${planMs < 50 ? 'met' : 'missed'}`,
);
