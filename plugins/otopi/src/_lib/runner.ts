/**
 * How the providers run programs. They take a {@link Runner} instead of calling core's
 * `exec` directly, so unit tests can hand them a fake that answers like apt or systemctl.
 */
import { readdirSync, statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { currentHandlerLog, exec, type ExecOptions, type ExecResult, type Logger } from '@otopi/core';

export type Runner = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

export const systemRunner: Runner = (argv, options) => exec(argv, options);

/** Waits; injectable so tests of retry loops do not wait for real. */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => delay(ms);

/** Finds a program: a path, or null when it is not installed. */
export type CommandLookup = (name: string) => string | null;

/** What every provider needs to talk to the system. */
export interface SystemAccess {
  readonly run: Runner;
  readonly log: Logger;
  readonly which: CommandLookup;
}

/** The path of a program a provider cannot work without. */
export function need(access: SystemAccess, name: string): string {
  return access.which(name) ?? name;
}

/** Read-only file system questions, injectable for tests. */
export interface FsProbe {
  isDir(path: string): boolean;
  isFile(path: string): boolean;
  /** Entry names of a folder; empty when it does not exist. */
  list(path: string): string[];
}

export const realFs: FsProbe = {
  isDir: (path) => statOrNull(path)?.isDirectory() ?? false,
  isFile: (path) => statOrNull(path)?.isFile() ?? false,
  list: (path) => {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  },
};

function statOrNull(path: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/**
 * System access for a provider that outlives the handler creating it: commands are logged
 * under the handler that is running when they run (`currentHandlerLog`), and under the
 * creating handler's logger between handlers.
 */
export function providerSystem(log: Logger, which: CommandLookup): SystemAccess {
  return {
    run: systemRunner,
    get log() {
      return currentHandlerLog() ?? log;
    },
    which,
  };
}
