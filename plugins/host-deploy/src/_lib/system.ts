/**
 * How this group's helpers run programs and read files: through an interface, so unit
 * tests can hand them a fake that answers like ip, nmcli or grubby.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { exec, type ExecOptions, type ExecResult, type Logger } from '@otopi/core';

export type Runner = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

export interface SystemAccess {
  readonly run: Runner;
  readonly log: Logger;
  /** Path of a program, or null when it is not installed. */
  readonly which: (name: string) => string | null;
  /** A file's text, or null when it cannot be read. */
  readonly readFile: (path: string) => string | null;
  readonly sleep: (ms: number) => Promise<void>;
}

export const systemRunner: Runner = (argv, options) => exec(argv, options);

export function readTextOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function realSystem(log: Logger, which: (name: string) => string | null): SystemAccess {
  return { run: systemRunner, log, which, readFile: readTextOrNull, sleep: (ms) => delay(ms) };
}
