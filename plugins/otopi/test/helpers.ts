// Fakes for the providers' system access: a scripted runner that records every command, a
// logger whose text the tests can read, and an in-memory file system probe.
import { Redactor, RunLog, type ExecOptions, type ExecResult, type Logger } from '@otopi/core';
import type { FsProbe, Runner, SystemAccess } from '../src/_lib/runner.js';

export interface Call {
  readonly argv: readonly string[];
  readonly input?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export type Reply = Partial<Pick<ExecResult, 'code' | 'stdout' | 'stderr'>>;

export interface FakeRunner {
  readonly run: Runner;
  readonly calls: Call[];
  /** Command lines as strings, program name without its folder. */
  commands(): string[];
}

/** A runner answering from `answer` (undefined: exit 0, no output); a non-zero exit rejects unless allowFailure. */
export function fakeRunner(
  answer: (argv: readonly string[], input: string | undefined) => Reply | undefined,
): FakeRunner {
  const calls: Call[] = [];
  const run: Runner = (argv: readonly string[], options: ExecOptions = {}) => {
    const input = options.input === undefined ? undefined : String(options.input);
    calls.push({
      argv,
      ...(input === undefined ? {} : { input }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    const reply = answer(argv, input) ?? {};
    const result: ExecResult = {
      argv,
      code: reply.code ?? 0,
      signal: null,
      stdout: reply.stdout ?? '',
      stderr: reply.stderr ?? '',
    };
    if (reply.stdout !== undefined) options.onOutput?.(reply.stdout);
    if (result.code !== 0 && options.allowFailure !== true) {
      return Promise.reject(new Error(`${argv.join(' ')} failed with exit code ${result.code}: ${result.stderr}`));
    }
    return Promise.resolve(result);
  };
  return {
    run,
    calls,
    commands: () => calls.map((c) => c.argv.map((w, i) => (i === 0 ? w.slice(w.lastIndexOf('/') + 1) : w)).join(' ')),
  };
}

export interface MemoryLog {
  readonly log: Logger;
  text(): string;
}

export function memoryLog(): MemoryLog {
  const runLog = new RunLog({ redactor: new Redactor({ secrets: () => [], protectedNames: () => [] }) });
  return { log: runLog.logger, text: () => runLog.text() };
}

/** System access over a fake runner, with every program found at /usr/bin/<name> except those in `missing`. */
export function fakeSystem(runner: FakeRunner, missing: readonly string[] = []): SystemAccess & { logText(): string } {
  const { log, text } = memoryLog();
  return { run: runner.run, log, which: (name) => (missing.includes(name) ? null : `/usr/bin/${name}`), logText: text };
}

/** A file system with the given folders (and their entries) and files. */
export function fakeFs(dirs: Record<string, string[]>, files: readonly string[] = []): FsProbe {
  return {
    isDir: (path) => path in dirs,
    isFile: (path) => files.includes(path),
    list: (path) => dirs[path] ?? [],
  };
}
