/**
 * The built `otopi` CLI, run as a user or a manager runs it, with the `canary` fixture group
 * and a private folder for its log, state (run lock, journals) and other files, so that every
 * file a run writes can be looked at afterwards. Needs `npm run build`, as test/e2e does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const CLI = join(ROOT, 'packages/cli/dist/otopi.js');
export const CANARY_PLUGINS = join(ROOT, 'test/reliability/fixtures/plugins');
export const BOUNDARY = '--=451b80dc-996f-432e-9e4f-2b29ef6d1141=--';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The run's private folder: log files, state, events, answer files. */
  readonly dir: string;
}

const made: string[] = [];

/** A new private folder, removed by {@link removeRunDirs}. */
export function runDir(prefix = 'otopi-reliability-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes the folders {@link runDir} made; each test file calls it after its tests. */
export function removeRunDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Statements that load the `canary` group next to the base group. */
export function canaryArgs(...extra: string[]): string[] {
  return [
    `BASE/pluginPath=str:${join(ROOT, 'plugins')}:${CANARY_PLUGINS}`,
    'APPEND:BASE/pluginGroups=str:canary',
    ...extra,
  ];
}

function environment(dir: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    OTOPI_CONFIG: join(dir, 'no-system.conf'),
    OTOPI_LOGDIR: dir,
    OTOPI_STATEDIR: join(dir, 'state'),
  };
}

/** Runs the CLI to its end with `input` on standard input. */
export function runCli(args: readonly string[], options: { dir?: string; input?: string } = {}): CliRun {
  const dir = options.dir ?? runDir();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    env: environment(dir),
    timeout: 60_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, dir };
}

/** Replies by question name, in order; a string may hold several lines (a multi-string reply). */
export type Script = Readonly<Record<string, readonly string[]>>;

/**
 * Runs the CLI in the machine dialect (the caller passes DIALOG/dialect=str:machine) and
 * answers each question from `script`. The command prompts get `install` and `quit` once
 * their script is used up; any other question without a reply closes the input.
 */
export function runMachine(args: readonly string[], script: Script, options: { dir?: string } = {}): Promise<CliRun> {
  const dir = options.dir ?? runDir();
  const queues = new Map(Object.entries(script).map(([k, v]) => [k, [...v]]));
  const child = spawn(process.execPath, [CLI, ...args], { env: environment(dir), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined);
  let block: string | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    stdout += `${line}\n`;
    if (block !== undefined) {
      if (line === block) block = undefined;
      return;
    }
    const header = /^\*\*\*D:MULTI-STRING \S+ (\S+)$/.exec(line);
    if (header !== null) block = header[1];
    const question = /^\*\*\*(?:Q:(?:STRING|MULTI-STRING|VALUE)|CONFIRM) (\S+)/.exec(line);
    if (question === null) return;
    const name = question[1]!;
    const reply = queues.get(name)?.shift();
    if (reply !== undefined) child.stdin.write(`${reply}\n`);
    else if (name === 'CUSTOMIZATION_COMMAND') child.stdin.write('install\n');
    else if (name === 'TERMINATION_COMMAND') child.stdin.write('quit\n');
    else child.stdin.end();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, dir });
    });
  });
}

/** Every file under a folder, by path: what a run left behind. */
export function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(path, readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return out;
}
