/**
 * The time limits of a session with a host, the one clock of a deploy: an inactivity limit
 * (nothing read or written for so long: the engine's soft SSH timeout) and a hard limit (so
 * long after the start, whatever happens). The line session runs them over everything that
 * crosses its channel, the bundle transfer and the dialog alike; the dialog driver keeps no
 * clock of its own.
 */
import { EngineError } from '../errors.js';

export interface SessionLimits {
  /** End the command when nothing was read or written for this long (ms). Off by default. */
  readonly inactivityTimeoutMs?: number | undefined;
  /** End the command this long (ms) after it started, whatever happens. Off by default. */
  readonly hardTimeoutMs?: number | undefined;
  /** Ends the command when aborted. */
  readonly signal?: AbortSignal | undefined;
}

export interface LimitWatch {
  /** Stops the timers (the session has ended). */
  stop(): void;
}

/**
 * Starts the timers of `limits` for the session with `where`. `idleFor()` says how long (ms)
 * the session has been quiet; `expire` is called once with the coded error of the limit hit
 * (`SSH_INACTIVITY_TIMEOUT`, `SSH_HARD_TIMEOUT`).
 */
export function watchLimits(
  limits: SessionLimits,
  where: string,
  idleFor: () => number,
  expire: (reason: EngineError) => void,
): LimitWatch {
  const timers: NodeJS.Timeout[] = [];
  if (limits.hardTimeoutMs !== undefined) {
    const ms = limits.hardTimeoutMs;
    const hard = (): void =>
      expire(new EngineError('SSH_HARD_TIMEOUT', `SSH session hard timeout with ${where} (${ms} ms)`, { host: where }));
    timers.push(setTimeout(hard, ms));
  }
  if (limits.inactivityTimeoutMs !== undefined) {
    const ms = limits.inactivityTimeoutMs;
    const check = (): void => {
      const idle = idleFor();
      if (idle >= ms) {
        expire(
          new EngineError('SSH_INACTIVITY_TIMEOUT', `SSH session with ${where} inactive for ${ms} ms`, { host: where }),
        );
      } else {
        timers.push(setTimeout(check, ms - idle));
      }
    };
    timers.push(setTimeout(check, ms));
  }
  return {
    stop: () => {
      for (const t of timers) clearTimeout(t);
    },
  };
}
