/**
 * One SSH connection to a host, with ssh2: agent, key, password or keyboard-interactive login
 * (auth.ts), any port and user, optionally through a stream another connection opened (a jump
 * host, jump.ts), and a host key policy that cannot be left out (see host-key-policy.ts).
 */
import type { Duplex } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { EngineError, isEngineError } from '../errors.js';
import { authHandler, authMethods, type SshAuth } from './auth.js';
import { prepareHostKeyCheck, type AcceptedHostKey, type HostKeyPolicy } from './host-key-policy.js';
import { knownHostName } from './known-hosts.js';

export type { KeyAuth, MultiAuth, PasswordAuth, SshAuth } from './auth.js';

export interface ConnectOptions {
  readonly host: string;
  /** Default 22. */
  readonly port?: number;
  /** Default `root`. */
  readonly user?: string;
  readonly auth: SshAuth;
  /** Required: how the host's key is checked. There is no policy that accepts any key. */
  readonly hostKey: HostKeyPolicy;
  /** Time allowed for TCP connect, handshake and login together, in ms. Default 30 000. */
  readonly connectTimeoutMs?: number;
  /** SSH keepalive interval in ms, 0 to disable. Default 15 000 (three unanswered end the connection). */
  readonly keepaliveIntervalMs?: number;
  /** Aborts the connection attempt (and later closes the connection). */
  readonly signal?: AbortSignal;
  /** Talk SSH over this stream instead of a TCP connection (a channel through a jump host). */
  readonly sock?: Duplex;
}

export interface SshConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The key the host presented and why it was trusted. */
  readonly hostKey: AcceptedHostKey;
  /** How many commands were started on this connection. */
  readonly execCount: number;
  /** Starts one command; the channel's stdout and stderr must both be read (ssh2 emits `close` only then). */
  exec(command: string): Promise<ClientChannel>;
  /** Opens a TCP stream from the host to `host:port` (`direct-tcpip`), for the next hop of a jump. */
  forwardOut(host: string, port: number): Promise<Duplex>;
  /** Ends the connection. */
  close(): void;
  /** Settles when the connection has ended, for whatever reason. */
  readonly closed: Promise<void>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const DEFAULT_KEEPALIVE_MS = 15_000;

export async function connectSsh(options: ConnectOptions): Promise<SshConnection> {
  const port = options.port ?? 22;
  const user = options.user ?? 'root';
  const where = knownHostName(options.host, port);
  // Throws HOSTKEY_POLICY_MISSING when a caller got around the type (plain JS, `as any`).
  const check = prepareHostKeyCheck(options.hostKey, options.host, port);
  const methods = authMethods(options.auth, `${user}@${where}`);

  return new Promise((resolve, reject) => {
    const client = new Client();
    let accepted: AcceptedHostKey | undefined;
    let refusal: EngineError | undefined;
    let settled = false;
    let execCount = 0;
    const closed = new Promise<void>((done) => client.once('close', () => done()));

    const fail = (error: EngineError): void => {
      if (settled) return;
      settled = true;
      client.end();
      reject(error);
    };
    const onAbort = (): void => {
      fail(
        new EngineError('SSH_CONNECT', `connection to ${where} aborted`, {
          host: where,
          cause: options.signal?.reason,
        }),
      );
      client.end();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted === true) {
      onAbort();
      return;
    }

    const config: ConnectConfig = {
      host: options.host,
      port,
      username: user,
      readyTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      keepaliveInterval: options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_MS,
      keepaliveCountMax: 3,
      hostVerifier: (blob: Buffer): boolean => {
        try {
          accepted = check.verify(blob);
          return true;
        } catch (error) {
          refusal = isEngineError(error)
            ? error
            : new EngineError('HOSTKEY_MISMATCH', `host key of ${where} could not be checked`, {
                host: where,
                cause: error,
              });
          return false;
        }
      },
    };
    if (check.algorithms !== undefined) config.algorithms = { serverHostKey: check.algorithms as never };
    config.authHandler = authHandler(methods, user);
    if (options.sock !== undefined) config.sock = options.sock;
    client.once('handshake', () => {
      if (accepted === undefined) return;
      try {
        check.commit(accepted);
      } catch (error) {
        fail(isEngineError(error) ? error : new EngineError('KNOWN_HOSTS_WRITE', String(error), { host: where }));
      }
    });
    let agentError: Error | undefined;
    client.on('error', (error: Error & { level?: string }) => {
      if (refusal !== undefined) return fail(refusal);
      // ssh2 goes on with the next method after an agent failure; keep it for the message.
      if (error.level === 'agent') {
        agentError = error;
        return;
      }
      if (error.level === 'client-timeout') {
        return fail(
          new EngineError('SSH_CONNECT_TIMEOUT', `no SSH session with ${where} within ${config.readyTimeout ?? 0} ms`, {
            host: where,
            cause: error,
          }),
        );
      }
      if (error.level === 'client-authentication') {
        return fail(
          new EngineError(
            'SSH_AUTH',
            `${user}@${where} refused the login (${error.message}${agentError === undefined ? '' : `; the ssh-agent failed: ${agentError.message}`})`,
            {
              host: where,
              cause: error,
              hint: 'Check the user, the key or password, and that the host allows this login method',
            },
          ),
        );
      }
      fail(
        new EngineError('SSH_CONNECT', `SSH connection to ${where} failed: ${error.message}`, {
          host: where,
          cause: error,
        }),
      );
    });
    client.on('ready', () => {
      if (settled || accepted === undefined) {
        // A ready without a verified key cannot happen with a verifier set; refuse it anyway.
        fail(refusal ?? new EngineError('HOSTKEY_MISMATCH', `host key of ${where} was not checked`, { host: where }));
        return;
      }
      settled = true;
      const hostKey = accepted;
      resolve({
        host: options.host,
        port,
        user,
        hostKey,
        get execCount() {
          return execCount;
        },
        exec(command) {
          execCount++;
          return new Promise((done, failed) => {
            client.exec(command, (error, channel) => {
              if (error)
                failed(
                  new EngineError('SSH_EXEC', `cannot start a command on ${where}: ${error.message}`, {
                    host: where,
                    cause: error,
                  }),
                );
              else done(channel);
            });
          });
        },
        forwardOut(toHost, toPort) {
          return new Promise((done, failed) => {
            client.forwardOut('127.0.0.1', 0, toHost, toPort, (error, channel) => {
              if (error) {
                const target = knownHostName(toHost, toPort);
                failed(
                  new EngineError('SSH_CONNECT', `${where} cannot reach ${target}: ${error.message}`, {
                    host: target,
                    cause: error,
                  }),
                );
              } else done(channel);
            });
          });
        },
        close() {
          options.signal?.removeEventListener('abort', onAbort);
          client.end();
          // A host that stopped answering never completes a graceful close; do not let its
          // socket keep the engine waiting for the keepalive to give up.
          setTimeout(() => client.destroy(), 2_000).unref();
        },
        closed,
      });
    });
    client.connect(config);
    // The key exchange and the dialog are many small writes, each waiting for an answer: with
    // Nagle's algorithm on, one of them now and then waits for the peer's delayed ACK (40 ms).
    if (options.sock === undefined) client.setNoDelay(true);
  });
}
