/**
 * Bad input tour, the part that needs no lab host: every malformed input a user can give the
 * installer (answer files, environment values, dialog replies, the command prompt) and the
 * manager (`otopi deploy`: inventories, an unreachable address) is reported as one coded
 * error that names the culprit, with a non-zero exit, and changes nothing.
 *
 * "Coded" is checked as the user sees it: one ERROR line (no "Internal error", no stack
 * trace), and the error code itself wherever the run records it (the JSON event stream; the
 * deploy command prints it). "Changes nothing": the files the run would write are
 * byte-identical afterwards, with no backups, temporary files, journals or lock left.
 *
 * Wrong SSH users and keys need a real sshd: lab/bad-hosts.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { recordFigure } from './support/figures.js';
import {
  CLI,
  ROOT,
  canaryArgs,
  runCli,
  runDir,
  runMachine,
  type CliRun,
  type Script,
  removeRunDirs,
} from './support/cli.js';

afterAll(removeRunDirs);

export interface TourRow {
  readonly input: string;
  readonly case: string;
  readonly exit: number;
  /** The code as recorded, or how it was reported. */
  readonly code: string;
  /** The error line the user saw. */
  readonly message: string;
  readonly ok: boolean;
  readonly problems: readonly string[];
}

const rows: TourRow[] = [];

afterAll(() => {
  const ok = rows.filter((r) => r.ok).length;
  const table = [
    '| input | case | exit | code | what the user sees |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.input} | ${r.case} | ${r.exit} | ${r.code} | ${r.message
          .replace(/\/tmp\/otopi-reliability-[^/ ]+/g, '<dir>')
          .replaceAll('|', '\\|')
          .slice(0, 170)} |`,
    ),
  ].join('\n');
  mkdirSync(join(ROOT, 'test/.artifacts'), { recursive: true });
  writeFileSync(join(ROOT, 'test/.artifacts/reliability-bad-input.md'), `${table}\n`);
  console.log(table);
  recordFigure({
    item: 'bad-input',
    part: 'cli',
    line: `bad input tour (cli, deploy): ${ok}/${rows.length} coded errors naming the culprit, nothing changed`,
    ok,
    total: rows.length,
  });
});

/** Files the canary group would rewrite; their content before any run. */
function target(dir: string): { args: string[]; before: Map<string, string>; path: string } {
  const path = join(dir, 'target');
  mkdirSync(path);
  const before = new Map<string, string>();
  for (const i of [1, 2]) {
    const file = join(path, `file-${i}.conf`);
    writeFileSync(file, `old ${i}\n`);
    before.set(file, `old ${i}\n`);
  }
  return { args: [`CANARY/dir=str:${path}`, 'CANARY/files=int:2', 'CANARY/bytes=int:64'], before, path };
}

function unchanged(t: ReturnType<typeof target>, dir: string): string[] {
  const problems: string[] = [];
  const names = readdirSync(t.path).sort();
  if (names.join() !== 'file-1.conf,file-2.conf') problems.push(`the target folder now holds ${names.join(', ')}`);
  for (const [file, text] of t.before) if (readFileSync(file, 'utf8') !== text) problems.push(`${file} changed`);
  const journal = join(dir, 'state', 'journal');
  if (existsSync(journal) && readdirSync(journal).length > 0) problems.push('a journal was left');
  if (existsSync(join(dir, 'state', 'run.lock'))) problems.push('the run lock was left');
  return problems;
}

/** The first error code the run's event stream recorded (a handler's error, or why it never started). */
function codeFromEvents(dir: string): string | undefined {
  const file = join(dir, 'events.jsonl');
  if (!existsSync(file)) return undefined;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /"(?:error|failure)":\{"code":"([A-Z_]+)"/.exec(line);
    if (m !== null) return m[1];
  }
  return undefined;
}

/** The code of the error a command prompt reported (and asked again), from the run's log file. */
function codeFromPromptLog(dir: string): string | undefined {
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.log'))) {
    const m = / code=([A-Z_]+)$/m.exec(readFileSync(join(dir, name), 'utf8'));
    if (m !== null) return m[1];
  }
  return undefined;
}

/** Checks one run of the installer and adds its row. */
function judge(
  input: string,
  what: string,
  run: CliRun,
  t: ReturnType<typeof target>,
  culprit: readonly string[],
  expectedCode?: string,
  /** For a mistake at the command prompt, which reports it and asks again: the code it had. */
  promptCode?: string,
): void {
  const out = `${run.stdout}\n${run.stderr}`;
  const errors = out.split('\n').filter((l) => l.startsWith('***L:ERROR') || l.startsWith('[ ERROR ]'));
  const problems: string[] = [];
  if (run.code === 0) problems.push('exit code 0');
  if (errors.length === 0) problems.push('no ERROR line');
  if (/Internal error|\n\s+at \S+ \(/.test(out)) problems.push('an internal error or a stack trace was shown');
  for (const c of culprit) if (!errors.some((e) => e.includes(c))) problems.push(`the error does not name ${c}`);
  problems.push(...unchanged(t, run.dir));
  // The code shown is the one observed: in the events, or for the prompt in the log file.
  const code = promptCode !== undefined ? codeFromPromptLog(run.dir) : codeFromEvents(run.dir);
  const wanted = promptCode ?? expectedCode;
  if (wanted !== undefined && code === undefined) problems.push(`no error code was recorded (expected ${wanted})`);
  if (wanted !== undefined && code !== undefined && code !== wanted) problems.push(`code ${code}, expected ${wanted}`);
  const message = (errors.find((e) => culprit.every((c) => e.includes(c))) ?? errors[0] ?? '').replace(
    /^(\*\*\*L:ERROR|\[ ERROR \]) /,
    '',
  );
  rows.push({
    input,
    case: what,
    exit: run.code,
    code: code === undefined ? 'none recorded' : promptCode !== undefined ? `${code}, asked again` : code,
    message,
    ok: problems.length === 0,
    problems,
  });
  expect(problems, `${input}: ${what}`).toEqual([]);
}

const MACHINE = 'DIALOG/dialect=str:machine';
const PROMPT = 'DIALOG/customization=bool:True';

it.each([
  ['syntax', '[environment:default]\nthis is not a setting\n', ['input.conf:2'], 'CONFIG_SYNTAX'],
  ['no section header', 'CANARY/files=int:3\n', ['input.conf:1'], 'CONFIG_SYNTAX'],
  [
    'a key twice',
    '[environment:default]\nCANARY/files=int:3\nCANARY/files=int:4\n',
    ['input.conf:3', 'CANARY/files'],
    'CONFIG_SYNTAX',
  ],
  [
    'likely typo of a key, strict',
    '[environment:default]\nCANARY/fils=int:3\nBASE/strictKeys=bool:True\n',
    ['input.conf:2', 'CANARY/fils'],
    'ENV_UNKNOWN_KEY',
  ],
  ['wrong type', '[environment:init]\nCANARY/files=str:3\n', ['input.conf:2', 'CANARY/files'], 'ENV_SCHEMA'],
  [
    'value not of its type',
    '[environment:init]\nCANARY/files=int:three\n',
    ['input.conf:2', 'CANARY/files'],
    'ENV_BAD_VALUE',
  ],
  ['no type', '[environment:default]\nCANARY/files=3\n', ['input.conf:2', 'CANARY/files'], 'ENV_MISSING_TYPE'],
  ['not UTF-8', Buffer.from([0x5b, 0x65, 0x5d, 0x0a, 0x61, 0x3d, 0xff, 0x0a]), ['input.conf'], 'CONFIG_UNREADABLE'],
  ['missing file', undefined, ['input.conf'], 'CONFIG_MISSING'],
] as const)('answer file: %s', (what, content, culprit, code) => {
  const dir = runDir();
  const t = target(dir);
  const file = join(dir, 'input.conf');
  if (content !== undefined) writeFileSync(file, content);
  const run = runCli(['--config-append', file, `--events=${join(dir, 'events.jsonl')}`, ...canaryArgs(...t.args)], {
    dir,
  });
  judge('answer file', what, run, t, culprit, code);
});

it.each([
  ['not a statement', ['files=int:3'], ['argv[', 'not a KEY=type:value statement'], 'ENV_BAD_STATEMENT'],
  [
    'likely typo of a key, strict',
    ['BASE/strictKeys=bool:True', 'CANARY/fils=int:3'],
    ['CANARY/fils', 'argv['],
    'ENV_UNKNOWN_KEY',
  ],
  ['wrong type', ['CANARY/files=str:3'], ['CANARY/files'], 'ENV_SCHEMA'],
  ['value not of its type', ['CANARY/files=int:3x'], ['CANARY/files', 'argv['], 'ENV_BAD_VALUE'],
  ['unknown type', ['CANARY/files=integer:3'], ['CANARY/files', 'integer'], 'ENV_UNKNOWN_TYPE'],
  ['unbalanced quote', ['CANARY/tag="str:x'], ['CANARY/tag=…'], 'ENV_BAD_STATEMENT'],
  ['unknown plugin group', ['APPEND:BASE/pluginGroups=str:nosuchgroup'], ['nosuchgroup'], 'PLUGIN_GROUP_MISSING'],
] as const)('environment value on the command line: %s', async (what, statements, culprit, code) => {
  const dir = runDir();
  const t = target(dir);
  const human = runCli([`--events=${join(dir, 'events.jsonl')}`, ...canaryArgs(...t.args, ...statements)], { dir });
  judge('command line (human)', what, human, t, culprit, code);
  const machineDir = runDir();
  const tm = target(machineDir);
  const machine = await runMachine(
    [`--events=${join(machineDir, 'events.jsonl')}`, ...canaryArgs(MACHINE, ...tm.args, ...statements)],
    {},
    { dir: machineDir },
  );
  judge('command line (machine)', what, machine, tm, culprit, code);
  if (what === 'unknown plugin group') expect([human.code, machine.code]).toEqual([2, 2]);
});

it.each([
  // A mistake at the prompt is reported and the prompt asks again; the manager then aborts.
  [
    'env-set of a likely typo of a key, strict',
    ['env-set -k BASE/strictKeys -t bool -v True', `env-set -k CANARY/fils -t int -v 1`, 'abort'],
    {},
    ['CANARY/fils'],
    'ENV_UNKNOWN_KEY',
  ],
  [
    'env-set of a value not of its type',
    [`env-set -k CANARY/files -t int -v x`, 'abort'],
    {},
    ['CANARY/files'],
    'ENV_BAD_VALUE',
  ],
  ['env-set with a bad option', [`env-set -k CANARY/files -x 1`, 'abort'], {}, ['-x'], 'USAGE'],
  [
    'env-query answered with a bad value',
    ['env-query -k CANARY/files'],
    { 'CANARY/files': ['VALUE CANARY/files=int:x'] },
    ['CANARY/files'],
  ],
  [
    'env-query answered for another key',
    ['env-query -k CANARY/files'],
    { 'CANARY/files': ['VALUE CANARY/tag=str:x'] },
    ['VALUE CANARY/tag=str:x'],
  ],
  ['env-query answered with garbage', ['env-query -k CANARY/files'], { 'CANARY/files': ['hello'] }, ["'hello'"]],
  ['a string reply not among the valid values', [], { CANARY_COLOUR: ['blue'] }, ['CANARY_COLOUR']],
  [
    'a confirmation answered with garbage',
    [],
    { CANARY_COLOUR: ['red'], CANARY_PROCEED: ['CONFIRM CANARY_PROCEED=maybe'] },
    ['CONFIRM CANARY_PROCEED=maybe'],
  ],
  [
    'a confirmation answered for another question',
    [],
    { CANARY_COLOUR: ['red'], CANARY_PROCEED: ['CONFIRM OTHER=yes'] },
    ['CONFIRM OTHER=yes'],
  ],
  ['input ended before the reply', [], {}, ['CANARY_COLOUR']],
] as const)('dialog (machine): %s', async (what, commands, replies, culprit, promptCode?: string) => {
  const dir = runDir();
  const t = target(dir);
  const script: Script = { CUSTOMIZATION_COMMAND: commands, ...replies };
  const run = await runMachine(
    [`--events=${join(dir, 'events.jsonl')}`, ...canaryArgs(MACHINE, PROMPT, 'CANARY/choose=bool:True', ...t.args)],
    script,
    { dir },
  );
  judge('dialog reply', what, run, t, culprit, undefined, promptCode);
});

it('dialog (human): a question with no terminal and no more input names the key that answers it', () => {
  const dir = runDir();
  const t = target(dir);
  const run = runCli([`--events=${join(dir, 'events.jsonl')}`, ...canaryArgs('CANARY/choose=bool:True', ...t.args)], {
    dir,
    input: '',
  });
  judge('dialog reply', 'no terminal, no input (human)', run, t, ['CANARY_COLOUR'], 'DIALOG_NO_TERMINAL');
  expect(run.stdout).toContain('QUESTION/1/CANARY_COLOUR=str:<answer>');
});

/** `otopi deploy` as a user runs it; the code is printed with the message. */
function deploy(args: readonly string[], dir: string): CliRun {
  const r = spawnSync(
    process.execPath,
    [CLI, 'deploy', '--log-dir', join(dir, 'logs'), '--progress', 'plain', ...args],
    {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir },
      timeout: 120_000,
    },
  );
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, dir };
}

function inventory(dir: string, text: string, mode = 0o600): string {
  const file = join(dir, 'hosts.ini');
  writeFileSync(file, text, { mode });
  return file;
}

it.each([
  ['syntax', '[host h1\naddress = 127.0.0.1\n', ['hosts.ini:1'], 'INVENTORY_SYNTAX'],
  ['unknown field', '[host h1]\naddress = 127.0.0.1\nprot = 22\n', ['hosts.ini:3', 'prot'], 'INVENTORY_INVALID'],
  ['bad port', '[host h1]\nport = 99999\n', ['hosts.ini:2', 'port'], 'INVENTORY_INVALID'],
  [
    'bad environment value',
    '[host h1]\nCANARY/files = int:many\n',
    ['hosts.ini:2', 'CANARY/files'],
    'INVENTORY_INVALID',
  ],
  ['password in a file others can read', '[host h1]\npassword = x\n', ['hosts.ini'], 'INVENTORY_INSECURE'],
  ['missing file', undefined, ['hosts.ini'], 'INVENTORY_UNREADABLE'],
] as const)('inventory (otopi deploy): %s', (what, text, culprit, code) => {
  const dir = runDir();
  const file =
    text === undefined ? join(dir, 'hosts.ini') : inventory(dir, text, what.startsWith('password') ? 0o644 : 0o600);
  const run = deploy(['-i', file], dir);
  const line = run.stderr.split('\n').find((l) => l.startsWith('otopi deploy: ')) ?? '';
  const observed = /^otopi deploy: ([A-Z_]+): /.exec(line)?.[1];
  const problems: string[] = [];
  if (run.code !== 2) problems.push(`exit code ${run.code}, expected 2 (nothing deployed)`);
  if (!line.startsWith(`otopi deploy: ${code}: `)) problems.push(`no ${code} line`);
  for (const c of culprit) if (!line.includes(c)) problems.push(`the error does not name ${c}`);
  if (/\n\s+at \S+ \(/.test(run.stderr)) problems.push('a stack trace was shown');
  rows.push({
    input: 'inventory',
    case: what,
    exit: run.code,
    code: observed ?? 'none printed',
    message: line.replace(/^otopi deploy: [A-Z_]+: /, ''),
    ok: problems.length === 0,
    problems,
  });
  expect(problems).toEqual([]);
});

it('an unreachable host (nothing listening on its port) fails that host at the SSH connection and deploys nothing', () => {
  const dir = runDir();
  const key = join(dir, 'id_test');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  // Port 1 on the loopback: nothing listens there, the connection is refused at once.
  const file = inventory(
    dir,
    `[host nowhere]\naddress = 127.0.0.1\nport = 1\nidentity_file = ${key}\nfingerprint = SHA256:nyy4aw4uErD4+bTG3Q9CfVsy8skLJpffLdWMgett6j8\n`,
  );
  const run = deploy(['-i', file, '--events', join(dir, 'events.jsonl')], dir);
  const events = existsSync(join(dir, 'events.jsonl')) ? readFileSync(join(dir, 'events.jsonl'), 'utf8') : '';
  const end = /\{"at":"[^"]*","type":"host-end".*/.exec(events)?.[0] ?? '';
  const problems: string[] = [];
  if (run.code !== 1) problems.push(`exit code ${run.code}, expected 1 (a host failed)`);
  if (!end.includes('"result":"failed"') || !end.includes('"stage":"SSH connection"'))
    problems.push(`host-end ${end.slice(0, 200)}`);
  if (!end.includes('[127.0.0.1]:1') || !end.includes('ECONNREFUSED'))
    problems.push('the cause does not name the address and the refusal');
  if (!end.includes('"payload":0')) problems.push('something was sent');
  const message = (run.stdout + run.stderr).split('\n').find((l) => l.startsWith('nowhere: FAILED')) ?? '';
  // The host report has a stage and a cause, but no error code (SSH_CONNECT stays inside).
  rows.push({
    input: 'host',
    case: 'unreachable (connection refused)',
    exit: run.code,
    code: 'failed at SSH connection',
    message,
    ok: problems.length === 0,
    problems,
  });
  expect(problems).toEqual([]);
});
