/**
 * Running a package manager the way a remote manager can live with: an INFO line at a
 * steady interval while it works (an engine drops a host whose channel stays silent), and
 * bounded retries while another process holds the package lock, saying so each time.
 */
import { OtopiError, type ExecResult, type Logger } from '@otopi/core';
import type { Runner, Sleep } from '../runner.js';

export interface ToolRunOptions {
  readonly run: Runner;
  readonly sleep: Sleep;
  readonly log: Logger;
  /** What the user reads: `Installing packages`. */
  readonly what: string;
  /** Seconds between keepalive lines; 0 for none. */
  readonly keepAliveS: number;
  /** Total seconds to keep retrying on a held lock. */
  readonly lockTimeoutS: number;
  readonly lockRetryS: number;
  /** Recognises "someone else holds the lock" in the tool's output; returns who, or '' when unknown. */
  readonly lockHolder: (output: string) => string | null;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** Runs `argv` until it succeeds, fails for another reason, or the lock wait is over. */
export async function runTool(argv: readonly string[], options: ToolRunOptions): Promise<ExecResult> {
  let waited = 0;
  for (;;) {
    const result = await withKeepAlive(options, (onOutput) =>
      options.run(argv, {
        log: options.log,
        allowFailure: true,
        onOutput,
        timeoutMs: options.timeoutMs ?? 2 * 3600_000,
        ...(options.env === undefined ? {} : { env: options.env }),
      }),
    );
    if (result.code === 0) return result;
    const holder = options.lockHolder(`${result.stderr}\n${result.stdout}`);
    if (holder === null) throw toolFailed(argv, result);
    if (waited >= options.lockTimeoutS) {
      throw new OtopiError(
        'HANDLER_FAILED',
        `${options.what}: the package manager lock is still held${who(holder)} after ${waited} s`,
        {
          hint: 'Wait for the other package operation to finish and run again, or raise PACKAGER/lockTimeout.',
        },
      );
    }
    const pause = Math.min(options.lockRetryS, options.lockTimeoutS - waited);
    options.log.info(
      `${options.what}: another process holds the package manager lock${who(holder)}; retrying in ${pause} s (waited ${waited} of ${options.lockTimeoutS} s)`,
    );
    await options.sleep(pause * 1000);
    waited += pause;
  }
}

function who(holder: string): string {
  return holder === '' ? '' : ` (${holder})`;
}

export function toolFailed(argv: readonly string[], result: ExecResult): OtopiError {
  const lines = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(E:|Error|error:|Problem|dpkg:|No match|Unable)/.test(l));
  const detail = (lines.length > 0 ? lines : result.stderr.trim().split('\n').slice(-3)).slice(0, 5).join(' / ');
  return new OtopiError(
    'HANDLER_FAILED',
    `'${argv.join(' ')}' failed with exit code ${result.code}${detail ? `: ${detail}` : ''}`,
  );
}

/** Calls `work`, logging `<what>: still working (N s): <last output line>` every keepAliveS seconds. */
export async function withKeepAlive<T>(
  options: Pick<ToolRunOptions, 'log' | 'what' | 'keepAliveS'>,
  work: (onOutput: (chunk: string) => void) => Promise<T>,
): Promise<T> {
  let last = '';
  const onOutput = (chunk: string): void => {
    const lines = chunk
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    if (lines.length > 0) last = lines[lines.length - 1]!;
  };
  if (options.keepAliveS <= 0) return work(onOutput);
  const started = Date.now();
  const timer = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    options.log.info(`${options.what}: still working (${seconds} s)${last === '' ? '' : `: ${last}`}`);
  }, options.keepAliveS * 1000);
  try {
    return await work(onOutput);
  } finally {
    clearInterval(timer);
  }
}
