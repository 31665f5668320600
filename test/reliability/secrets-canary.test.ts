/**
 * Secrets canary: a unique canary value goes in through every input path a run has, valid or
 * not, on runs that succeed and runs that fail; then every output of every run is searched
 * for it: standard output (the human or machine dialog transcript, including env-show, the
 * log command's block and exception-show), standard error, and every file the run left in
 * its folder (log file, JSON event stream, answer file, run lock, journals). Expected: 0 hits.
 *
 * Runs where the secret was accepted must also show `**REDACTED**` somewhere: the secret was
 * really in play (the fixture logs it carelessly), not merely never read.
 *
 * The inventory path of `otopi deploy` is in lab/secrets-deploy.test.ts.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordFigure } from './support/figures.js';
import {
  BOUNDARY,
  CLI,
  canaryArgs,
  filesUnder,
  runCli,
  runDir,
  runMachine,
  type CliRun,
  removeRunDirs,
} from './support/cli.js';

afterAll(removeRunDirs);

const RUN_ID = randomBytes(4).toString('hex');
/** A canary for one input path: unique to this test run, easy to find. */
const canary = (path: string): string => `CNRY${RUN_ID}${path}`;
/** A numeric canary, for the sensitive int key (valid values). */
const numeric = `7${randomInt(10 ** 9, 10 ** 10 - 1)}`;
const CANARY_RE = new RegExp(`CNRY${RUN_ID}|${numeric}`, 'g');

const MACHINE = 'DIALOG/dialect=str:machine';
const PROMPT = 'DIALOG/customization=bool:True';
const INSPECT = ['env-show', 'log', 'exception-show'];

interface Tally {
  outputs: number;
  hits: number;
  paths: number;
  readonly leaks: string[];
}
const tally: Tally = { outputs: 0, hits: 0, paths: 0, leaks: [] };

/** Searches every output of a run; returns whether `**REDACTED**` showed anywhere. */
function inspect(label: string, run: CliRun): boolean {
  const outputs = new Map<string, string>([
    ['stdout', run.stdout],
    ['stderr', run.stderr],
    ...[...filesUnder(run.dir)].map(([path, text]): [string, string] => [path.slice(run.dir.length + 1), text]),
  ]);
  let redacted = false;
  for (const [what, text] of outputs) {
    tally.outputs++;
    const found = text.match(CANARY_RE) ?? [];
    tally.hits += found.length;
    if (found.length > 0) {
      const at = text.search(CANARY_RE);
      tally.leaks.push(`${label}: ${what}: …${text.slice(Math.max(0, at - 120), at + 40)}…`);
    }
    if (text.includes('**REDACTED**')) redacted = true;
  }
  return redacted;
}

function answerFile(dir: string, text: string): string {
  const file = join(dir, 'input-answers.conf');
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

afterAll(() => {
  recordFigure({
    item: 'secrets',
    part: 'cli',
    line: `secrets canary (cli): ${tally.hits} hits in ${tally.outputs} outputs of ${tally.paths} input paths`,
    ok: tally.outputs - tally.leaks.length,
    total: tally.outputs,
    data: { hits: tally.hits, outputs: tally.outputs, paths: tally.paths },
  });
});

function check(label: string, run: CliRun, opts: { accepted: boolean }): void {
  tally.paths++;
  const redacted = inspect(label, run);
  const leaks = tally.leaks.filter((l) => l.startsWith(`${label}:`));
  expect(leaks).toEqual([]);
  if (opts.accepted) expect(redacted, `${label}: nothing was redacted, so the secret was never in play`).toBe(true);
}

describe('secrets canary through every input path of the CLI', () => {
  it('a command-line statement, on a run that fails after the secret was set (human dialog, debug on)', () => {
    const dir = runDir();
    const run = runCli(
      canaryArgs(
        `CANARY/password=str:${canary('cmdline')}`,
        `CANARY/pin=int:${numeric}`,
        'CANARY/failAt=str:misc',
        'BASE/debug=int:1',
        PROMPT,
        `--events=${join(dir, 'events.jsonl')}`,
        `DIALOG/answerFile=str:${join(dir, 'answers.conf')}`,
      ),
      { dir, input: ['env-show', 'install', ...INSPECT, 'quit', ''].join('\n') },
    );
    expect(run.code).toBe(1);
    expect(existsSync(join(dir, 'events.jsonl')) && existsSync(join(dir, 'answers.conf'))).toBe(true);
    check('cmdline', run, { accepted: true });
  });

  it('an answer file (--config-append), on a run that fails at validation (machine dialog)', async () => {
    const dir = runDir();
    const file = answerFile(
      dir,
      `[environment:default]\nCANARY/password=str:${canary('answers')}\nCANARY/keys=multi-str:${canary('answers1')}\n  ${canary('answers2')}\nCANARY/failAt=str:validation\n`,
    );
    const run = await runMachine(
      ['--config-append', file, ...canaryArgs(MACHINE, PROMPT, `--events=${join(dir, 'events.jsonl')}`)],
      { TERMINATION_COMMAND: INSPECT },
      { dir },
    );
    expect(run.code).toBe(1);
    check('answer-file', withoutInput(run, file), { accepted: true });
  });

  it('a hidden question answered by a manager (machine dialog), the run failing later', async () => {
    const dir = runDir();
    const run = await runMachine(
      canaryArgs(
        MACHINE,
        PROMPT,
        'CANARY/ask=bool:True',
        'CANARY/failAt=str:misc',
        `DIALOG/answerFile=str:${join(dir, 'answers.conf')}`,
        `--events=${join(dir, 'events.jsonl')}`,
      ),
      { CANARY_SECRET: [canary('hiddenmachine')], TERMINATION_COMMAND: INSPECT },
      { dir },
    );
    expect(run.stdout).toContain('**%QHidden: TRUE');
    check('hidden-machine', run, { accepted: true });
  });

  it('a hidden question answered by a person (human dialog, piped input)', () => {
    const dir = runDir();
    const run = runCli(
      canaryArgs(PROMPT, 'CANARY/ask=bool:True', `DIALOG/answerFile=str:${join(dir, 'answers.conf')}`),
      {
        dir,
        input: ['install', canary('hiddenhuman'), ...INSPECT, 'quit', ''].join('\n'),
      },
    );
    expect(run.code).toBe(0);
    check('hidden-human', run, { accepted: true });
  });

  it('env-set, env-query and env-query-multi at the command prompt, replacing a secret and failing on a bad one', async () => {
    const dir = runDir();
    const run = await runMachine(
      canaryArgs(
        MACHINE,
        PROMPT,
        `DIALOG/answerFile=str:${join(dir, 'answers.conf')}`,
        `--events=${join(dir, 'events.jsonl')}`,
      ),
      {
        CUSTOMIZATION_COMMAND: [
          `env-set -k CANARY/password -v ${canary('envset')}`,
          // Replaces the first value: that one must stay hidden all the same.
          'env-query -k CANARY/password',
          'env-query-multi -k CANARY/keys',
          `env-set -k CANARY/pin -t int -v ${canary('envsetint')}`,
          `env-set --key=CANARY/password --value='${canary('envsetquote')}`,
          'env-show',
          'env-query -k CANARY/pin',
        ],
        'CANARY/password': [`VALUE CANARY/password=str:${canary('envquery')}`],
        'CANARY/keys': [`${canary('envquerymulti')}\n${BOUNDARY}`],
        'CANARY/pin': [`VALUE CANARY/pin=int:${canary('envqueryint')}`],
        TERMINATION_COMMAND: INSPECT,
      },
      { dir },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('***L:ERROR');
    check('command-prompt', run, { accepted: true });
  });

  it('QUESTION_HIDDEN answers on the command line', async () => {
    const dir = runDir();
    const run = await runMachine(
      canaryArgs(
        MACHINE,
        PROMPT,
        'CANARY/ask=bool:True',
        `QUESTION_HIDDEN/1/CANARY_SECRET=str:${canary('questionhidden')}`,
        `DIALOG/answerFile=str:${join(dir, 'answers.conf')}`,
      ),
      { TERMINATION_COMMAND: INSPECT },
      { dir },
    );
    expect(run.code).toBe(0);
    check('question-hidden', run, { accepted: true });
  });

  it.each([
    ['a sensitive int given a bad value', [`CANARY/pin=int:${canary('badint')}`]],
    ['a sensitive key without a type', [`CANARY/password=${canary('notype')}`]],
    ['a sensitive key with an unknown type', [`CANARY/password=${canary('badtype')}:x`]],
    ['an unbalanced quote', [`CANARY/password="str:${canary('quote')}`]],
    ['a value with a space, unquoted', ['CANARY/password=str:abc', canary('stray')]],
    ['a misspelt sensitive key, strict', ['BASE/strictKeys=bool:True', `CANARY/pasword=str:${canary('typo')}`]],
  ])('refused on the command line: %s', async (label, statements) => {
    const human = runCli(canaryArgs(...statements));
    expect(human.code).toBe(1);
    check(`cmdline-bad ${label} (human)`, human, { accepted: false });
    const machine = await runMachine(canaryArgs(MACHINE, ...statements), {});
    expect(machine.code).toBe(1);
    check(`cmdline-bad ${label} (machine)`, machine, { accepted: false });
  });

  it('a misspelt sensitive key, taken with a warning: its value is a secret all the same', async () => {
    const statements = [`CANARY/pasword=str:${canary('typotaken')}`];
    const human = runCli(canaryArgs(...statements));
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('did you mean CANARY/password?');
    check('cmdline-typo (human)', human, { accepted: true });
    const machine = await runMachine(canaryArgs(MACHINE, ...statements), {});
    expect(machine.code).toBe(0);
    check('cmdline-typo (machine)', machine, { accepted: true });
  });

  it.each([
    ['a sensitive int given a bad value', `[environment:default]\nCANARY/pin=int:${canary('filebadint')}\n`],
    ['a sensitive key without a type', `[environment:init]\nCANARY/password=${canary('filenotype')}\n`],
    ['a value before the first section', `CANARY/password=str:${canary('fileheader')}\n[environment:default]\n`],
    ['a line with no key', `[environment:default]\n=str:${canary('filenokey')}\n`],
  ])('refused in an answer file: %s', async (label, text) => {
    const dir = runDir();
    const file = answerFile(dir, text);
    const run = await runMachine(['--config-append', file, ...canaryArgs(MACHINE)], {}, { dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('input-answers.conf');
    check(`answer-file-bad ${label}`, withoutInput(run, file), { accepted: false });
  });

  it('a second run refused by the run lock does not show the first one’s statements', async () => {
    const dir = runDir();
    const pidFile = join(dir, 'first.pid');
    const env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      OTOPI_CONFIG: join(dir, 'none.conf'),
      OTOPI_LOGDIR: dir,
      OTOPI_STATEDIR: join(dir, 'state'),
    };
    const first = spawn(
      process.execPath,
      [
        CLI,
        ...canaryArgs(
          `CANARY/password=str:${canary('lockholder')}`,
          'CANARY/sleepMs=int:8000',
          `CANARY/pidFile=str:${pidFile}`,
        ),
      ],
      { env, stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => first.on('exit', resolve));
    let second: CliRun;
    try {
      for (let i = 0; i < 300 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
      second = runCli(canaryArgs(), { dir });
    } finally {
      first.kill('SIGTERM');
      await exited;
    }
    expect(second.code).toBe(1);
    expect(second.stdout).toContain(`another run holds the lock`);
    expect(second.stdout).toContain(`pid ${first.pid}`);
    // The holder is named by its command line, statement values left out.
    expect(second.stdout).toContain('CANARY/password=…');
    // Both runs' files (logs, the lock while it was held): the first one is a secret's owner.
    check('run-lock', second, { accepted: true });
  });
});

/** A run whose folder holds the input file: that file is left out of the outputs. */
function withoutInput(run: CliRun, file: string): CliRun {
  const copy = runDir('otopi-reliability-outputs-');
  for (const [path, text] of filesUnder(run.dir)) {
    if (path === file) continue;
    const target = join(copy, path.slice(run.dir.length + 1).replaceAll('/', '__'));
    writeFileSync(target, text);
  }
  return { ...run, dir: copy };
}
