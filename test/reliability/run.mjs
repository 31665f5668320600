#!/usr/bin/env node
// `npm run reliability`: runs the reliability and security suite (docs/reliability.md) and
// prints one line per item with its measured figure.
//
//   npm run reliability                 # short sweeps; the lab part needs root (see docs/lab.md)
//   npm run reliability -- --long       # long sweeps: 10^5 fuzz cases per property, 1,000 kill points
//   npm run reliability -- --no-lab     # only what needs no lab host
//
// Long mode is also on when OTOPI_LONG=1, or CI=true (unless OTOPI_LONG=0). The figures come
// from the tests themselves (OTOPI_RELIABILITY_FIGURES); test results from vitest's JSON report.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const artifacts = join(root, 'test/.artifacts');
const figuresFile = join(artifacts, 'reliability-figures.jsonl');
const args = process.argv.slice(2);
const lab = !args.includes('--no-lab');
mkdirSync(artifacts, { recursive: true });
rmSync(figuresFile, { force: true });

const env = { ...process.env, OTOPI_RELIABILITY_FIGURES: figuresFile };
if (args.includes('--long')) env.OTOPI_LONG = '1';
const long = env.OTOPI_LONG === '1' || (env.OTOPI_LONG === undefined && env.CI === 'true');
// The randomized kill sweeps: 2 kills per fault in `npm test`, 5 here, 50 in long mode.
env.OTOPI_RANDOM_KILLS ??= long ? '50' : '5';

function run(command, commandArgs) {
  console.log(`== ${command} ${commandArgs.join(' ')}`);
  return spawnSync(command, commandArgs, { cwd: root, env, stdio: 'inherit' }).status ?? 1;
}

if (env.OTOPI_SKIP_BUILD !== '1') {
  if (run(process.execPath, ['build.mjs']) !== 0) process.exit(1);
}
env.OTOPI_SKIP_BUILD = '1';

/** Runs vitest on one project; returns its exit status and JSON report. */
function vitest(project, files) {
  const report = join(artifacts, `reliability-${project}.json`);
  rmSync(report, { force: true });
  const status = run('npx', [
    'vitest',
    'run',
    '--project',
    project,
    ...files,
    '--reporter=default',
    '--reporter=json',
    `--outputFile=${report}`,
  ]);
  return { status, report: existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')) : undefined };
}

const unit = vitest('unit', [
  'test/reliability/',
  'packages/core/test/kill-sweep.test.ts',
  'test/e2e/lock-recovery.test.ts',
  'packages/core/test/lock.test.ts',
  'packages/engine/test/shared-state.test.ts',
]);
const labRun = lab
  ? vitest('lab', [
      'test/reliability/lab/',
      'test/integration/hostkey.test.ts',
      'test/integration/deploy-hostkey.test.ts',
    ])
  : undefined;

const figures = existsSync(figuresFile)
  ? readFileSync(figuresFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l))
  : [];
const of = (item) => figures.filter((f) => f.item === item);
const sum = (list, pick) => list.reduce((n, f) => n + pick(f), 0);

/** Passed and total tests of the files whose name ends with `suffix`. */
function tests(report, suffix) {
  const files = (report?.testResults ?? []).filter((r) => r.name.endsWith(suffix));
  const all = files.flatMap((r) => r.assertionResults);
  return { passed: all.filter((a) => a.status === 'passed').length, total: all.length };
}

const notRun = (what) => `${what}: not run${lab ? '' : ' (--no-lab)'}`;
const lines = [];

const sweep = of('kill-sweep')[0];
const recovery = tests(unit.report, 'test/e2e/lock-recovery.test.ts');
lines.push(
  sweep === undefined
    ? 'kill sweep: no figure (the sweep did not finish)'
    : `${sweep.line}; a killed commit is rolled back by the next run: ${recovery.passed}/${recovery.total} lock and recovery checks`,
);

const fuzz = of('fuzz');
if (fuzz.length === 0) lines.push('fuzz: no figures');
else {
  const cases = sum(fuzz, (f) => f.data.cases);
  const failures = sum(fuzz, (f) => f.data.failures);
  const properties = sum(fuzz, (f) => f.data.properties);
  lines.push(
    `fuzz: ${fuzz.length} parsers × ${Math.round(cases / properties)} cases per property (${properties} properties, ${cases} cases), ${failures} failures`,
  );
  for (const f of fuzz) lines.push(`  ${f.line}`);
}

const disk = of('full-disk')[0];
lines.push(disk === undefined ? notRun('full disk') : disk.line);

const concurrency = of('concurrency');
lines.push(
  concurrency.length === 0
    ? notRun('concurrency')
    : `concurrency: ${sum(concurrency, (f) => f.ok)}/${sum(concurrency, (f) => f.total)} (${concurrency.map((f) => `${f.part} ${f.ok === f.total ? 'ok' : 'FAILED'}`).join(', ')})`,
);
for (const f of concurrency) lines.push(`  ${f.line}`);

if (labRun === undefined) lines.push(notRun('host keys'));
else {
  const keys = tests(labRun.report, 'test/integration/hostkey.test.ts');
  const deployKeys = tests(labRun.report, 'test/integration/deploy-hostkey.test.ts');
  lines.push(
    `host keys: ${keys.passed + deployKeys.passed}/${keys.total + deployKeys.total} checks passed ` +
      `(connectSsh on a real sshd ${keys.passed}/${keys.total}, otopi deploy ${deployKeys.passed}/${deployKeys.total}): ` +
      'unknown key refused without TOFU, changed key refused with both fingerprints, TOFU stores the key and pins it',
  );
}

const secrets = of('secrets');
lines.push(
  `secrets canary: ${sum(secrets, (f) => f.data.hits)} hits in ${sum(secrets, (f) => f.data.outputs)} outputs of ` +
    `${sum(secrets, (f) => f.data.paths)} input paths (${secrets.map((f) => f.part).join(', ') || 'none run'})`,
);
for (const f of secrets) lines.push(`  ${f.line}`);

const bad = of('bad-input');
lines.push(
  `bad input tour: ${sum(bad, (f) => f.ok)}/${sum(bad, (f) => f.total)} coded errors naming the culprit, nothing changed (table: test/.artifacts/reliability-bad-input.md)`,
);
for (const f of bad) lines.push(`  ${f.line}`);

const fault = of('fault-matrix')[0];
lines.push(fault === undefined ? notRun('fault matrix') : fault.line);

const packageKill = of('package-kill');
lines.push(
  packageKill.length === 0
    ? notRun('package manager kills')
    : `package manager kills: ${packageKill.map((f) => f.line).join('; ')}`,
);

const random = of('random-kill')[0];
lines.push(random === undefined ? notRun('random kills') : random.line);

const failedTests = [unit, labRun].filter((r) => r !== undefined && r.status !== 0).length;
const shortOfTotal = figures.filter((f) => f.ok < f.total).length;
const summary = [`== reliability figures (${long ? 'long' : 'short'} mode)`, ...lines].join('\n');
console.log(`\n${summary}`);
writeFileSync(join(artifacts, 'reliability-summary.txt'), `${summary}\n`);
if (failedTests > 0 || shortOfTotal > 0) {
  console.log(`\n${failedTests} vitest run(s) failed, ${shortOfTotal} figure(s) short of their total`);
  process.exit(1);
}
