/**
 * Is the engine reachable? A TCP connection to its address and port, tried until it works or
 * the attempts run out. A refused connection counts as reachable: the engine host answered,
 * so the network path is there.
 */
import { Socket } from 'node:net';

export type Connector = (host: string, port: number, timeoutMs: number) => Promise<'ok' | string>;

export const tcpConnect: Connector = (host, port, timeoutMs) =>
  new Promise((resolve) => {
    const socket = new Socket();
    const done = (result: 'ok' | string): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
    socket.once('connect', () => done('ok'));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(error.code === 'ECONNREFUSED' ? 'ok' : (error.code ?? error.message)),
    );
    socket.connect(port, host);
  });

export interface ReachOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutS: number;
  readonly attempts: number;
  readonly connect: Connector;
  readonly sleep: (ms: number) => Promise<void>;
  readonly onRetry?: (attempt: number, why: string) => void;
}

/** `ok`, or why the last attempt failed. */
export async function waitReachable(o: ReachOptions): Promise<'ok' | string> {
  let why = 'no attempt';
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    why = await o.connect(o.host, o.port, o.timeoutS * 1000);
    if (why === 'ok') return 'ok';
    o.onRetry?.(attempt, why);
    if (attempt < o.attempts) await o.sleep(1000);
  }
  return why;
}
