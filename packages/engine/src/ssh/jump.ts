/**
 * Reaching a host through jump hosts (OpenSSH's ProxyJump), and retrying what fails before
 * login. Each hop is a full SSH connection with its own credentials and its own host key
 * policy, checked as strictly as the target's: the next hop's connection runs over a
 * `direct-tcpip` channel of the one before. Closing the result closes every hop.
 *
 * A connection refused or reset before login (sshd restarting, a bastion's forward refused) is
 * tried again after a pause; nothing that failed after login, nor a refused host key or login,
 * is ever retried.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError, isEngineError } from '../errors.js';
import { connectSsh, type ConnectOptions, type SshConnection } from './connect.js';
import { knownHostName } from './known-hosts.js';

/** One hop: how to connect to it (its address as the previous hop sees it). */
export type HopOptions = Omit<ConnectOptions, 'sock' | 'signal'>;

export interface RetryOptions {
  /** Further tries after the first; default {@link DEFAULT_CONNECT_RETRIES}. */
  readonly retries?: number | undefined;
  /** The pause before try n+1 is `firstDelayMs * 2^n`; default 1 500 (1.5, 3, 6 s: about 10 s in all). */
  readonly firstDelayMs?: number;
  /** Called before each pause, for the log. */
  readonly onRetry?: (error: EngineError, attempt: number, delayMs: number) => void;
}

export const DEFAULT_CONNECT_RETRIES = 3;
const DEFAULT_FIRST_DELAY_MS = 1_500;

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether a failure happened before login and may go away by itself (refused, reset, lost before the handshake). */
export function isTransientConnectFailure(error: unknown): boolean {
  if (!isEngineError(error, 'SSH_CONNECT')) return false;
  const cause = error.cause as (Error & { code?: unknown; reason?: unknown }) | undefined;
  if (cause === undefined) return false;
  if (typeof cause.code === 'string' && TRANSIENT_CODES.has(cause.code)) return true;
  // A bastion that could not open the next hop's TCP connection (SSH_OPEN_CONNECT_FAILED).
  if (cause.reason === 2) return true;
  return /Connection lost before handshake|Connection refused|ECONNRESET/i.test(cause.message);
}

/** Connects to `target` through `hops` (first hop first); with no hops, directly. */
export async function connectThrough(
  target: HopOptions,
  hops: readonly HopOptions[],
  signal?: AbortSignal,
): Promise<SshConnection> {
  const opened: SshConnection[] = [];
  const closeAll = (): void => {
    for (const c of opened.reverse()) c.close();
  };
  try {
    for (const [i, hop] of [...hops, target].entries()) {
      const previous = opened[opened.length - 1];
      const sock = previous === undefined ? undefined : await previous.forwardOut(hop.host, hop.port ?? 22);
      try {
        opened.push(
          await connectSsh({
            ...hop,
            ...(sock === undefined ? {} : { sock }),
            ...(signal === undefined ? {} : { signal }),
          }),
        );
      } catch (error) {
        if (i < hops.length && isEngineError(error)) {
          // Say it was the jump host, keeping the code: a bastion's wrong key is HOSTKEY_MISMATCH too.
          throw new EngineError(error.code, `jump host ${knownHostName(hop.host, hop.port ?? 22)}: ${error.message}`, {
            host: error.host ?? knownHostName(hop.host, hop.port ?? 22),
            cause: error.cause ?? error,
            ...(error.hint === undefined ? {} : { hint: error.hint }),
          });
        }
        throw error;
      }
    }
  } catch (error) {
    closeAll();
    throw error;
  }
  const last = opened[opened.length - 1]!;
  if (opened.length === 1) return last;
  return Object.assign(Object.create(last) as SshConnection, {
    exec: last.exec.bind(last),
    forwardOut: last.forwardOut.bind(last),
    close: closeAll,
    closed: last.closed,
  });
}

/** Runs `connect` and tries it again after a pause while it fails before login. */
export async function withConnectRetries<T>(
  connect: () => Promise<T>,
  options: RetryOptions = {},
  signal?: AbortSignal,
): Promise<T> {
  const retries = options.retries ?? DEFAULT_CONNECT_RETRIES;
  const first = options.firstDelayMs ?? DEFAULT_FIRST_DELAY_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await connect();
    } catch (error) {
      if (attempt >= retries || signal?.aborted === true || !isTransientConnectFailure(error)) throw error;
      const delay = first * 2 ** attempt;
      options.onRetry?.(error as EngineError, attempt + 1, delay);
      try {
        await sleep(delay, undefined, signal === undefined ? {} : { signal });
      } catch {
        throw error;
      }
    }
  }
}
