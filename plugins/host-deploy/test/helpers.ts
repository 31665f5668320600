// Fakes for the host-deploy helpers: a scripted runner that records commands, a log whose
// text the tests read, and system access over both.
import { Redactor, RunLog, type ExecOptions, type ExecResult, type Logger } from '@otopi/core';
import type { Runner, SystemAccess } from '../src/_lib/system.js';

export interface Call {
  readonly argv: readonly string[];
  readonly input?: string;
}

export type Reply = Partial<Pick<ExecResult, 'code' | 'stdout' | 'stderr'>>;

export function fakeRunner(answer: (argv: readonly string[], input: string | undefined) => Reply | undefined): {
  run: Runner;
  calls: Call[];
  commands(): string[];
} {
  const calls: Call[] = [];
  const run: Runner = (argv, options: ExecOptions = {}) => {
    const input = options.input === undefined ? undefined : String(options.input);
    calls.push({ argv, ...(input === undefined ? {} : { input }) });
    const reply = answer(argv, input) ?? {};
    const result: ExecResult = {
      argv,
      code: reply.code ?? 0,
      signal: null,
      stdout: reply.stdout ?? '',
      stderr: reply.stderr ?? '',
    };
    if (result.code !== 0 && options.allowFailure !== true)
      return Promise.reject(new Error(`${argv.join(' ')} failed with exit code ${result.code}: ${result.stderr}`));
    return Promise.resolve(result);
  };
  return {
    run,
    calls,
    commands: () => calls.map((c) => c.argv.map((w, i) => (i === 0 ? w.slice(w.lastIndexOf('/') + 1) : w)).join(' ')),
  };
}

export function memoryLog(): { log: Logger; text(): string } {
  const runLog = new RunLog({ redactor: new Redactor({ secrets: () => [], protectedNames: () => [] }) });
  return { log: runLog.logger, text: () => runLog.text() };
}

export function fakeSystem(
  run: Runner,
  files: Readonly<Record<string, string>> = {},
  missing: readonly string[] = [],
): SystemAccess & { logText(): string; slept: number[] } {
  const { log, text } = memoryLog();
  const slept: number[] = [];
  return {
    run,
    log,
    which: (name) => (missing.includes(name) ? null : `/usr/bin/${name}`),
    readFile: (path) => files[path] ?? null,
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
    logText: text,
    slept,
  };
}
