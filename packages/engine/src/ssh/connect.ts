/**
 * One SSH connection to a host, with ssh2: agent, key, password or keyboard-interactive login
 * (auth.ts), any port and user, optionally through a stream another connection opened (a jump
 * host, jump.ts), and a host key policy that cannot be left out (see host-key-policy.ts).
 *
 * An attempt (`ConnectAttempt`) goes from `connecting` to `connected` or `failed`; its steps are
 * ssh2's events: the host key checked against the policy, the handshake (a learnt key
 * recorded), an error (turned into a coded one by `clientFailure`), ready (`openConnection`).
 */
import type { Duplex } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { EngineError, isEngineError } from '../errors.js';
import { authHandler, authMethods, type SshAuth } from './auth.js';
import { prepareHostKeyCheck, type AcceptedHostKey, type HostKeyCheck, type HostKeyPolicy } from './host-key-policy.js';
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

/** What a connection attempt knows before it starts. */
interface Target {
  readonly options: ConnectOptions;
  readonly port: number;
  readonly user: string;
  /** `host` or `[host]:port`, as errors name it. */
  readonly where: string;
  readonly check: HostKeyCheck;
  readonly methods: ReturnType<typeof authMethods>;
}

export async function connectSsh(options: ConnectOptions): Promise<SshConnection> {
  const port = options.port ?? 22;
  const user = options.user ?? 'root';
  const where = knownHostName(options.host, port);
  // Throws HOSTKEY_POLICY_MISSING when a caller got around the type (plain JS, `as any`).
  const check = prepareHostKeyCheck(options.hostKey, options.host, port);
  const methods = authMethods(options.auth, `${user}@${where}`);
  return new Promise((resolve, reject) =>
    new ConnectAttempt({ options, port, user, where, check, methods }, resolve, reject).start(),
  );
}

/**
 * Where an attempt is: `connecting` (TCP, key exchange, login), `connected` (resolved with the
 * connection) or `failed` (rejected with a coded error; the client is ended).
 */
type AttemptState = 'connecting' | 'connected' | 'failed';

/** One connection attempt: ssh2's client events turned into the steps of a login. */
class ConnectAttempt {
  private state: AttemptState = 'connecting';
  private readonly client = new Client();
  private readonly closed: Promise<void>;
  /** The host key the policy vouched for. */
  private accepted: AcceptedHostKey | undefined;
  /** Why the policy refused the host key (ssh2 then reports a generic error). */
  private refusal: EngineError | undefined;
  /** ssh2 goes on with the next method after an agent failure; kept for the message. */
  private agentError: Error | undefined;
  private readonly readyTimeout: number;

  constructor(
    private readonly target: Target,
    private readonly resolve: (connection: SshConnection) => void,
    private readonly reject: (error: EngineError) => void,
  ) {
    this.closed = new Promise<void>((done) => this.client.once('close', () => done()));
    this.readyTimeout = target.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }

  start(): void {
    const { options } = this.target;
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (options.signal?.aborted === true) return this.onAbort();
    this.client.once('handshake', () => this.handshake());
    this.client.on('error', (error: Error & { level?: string }) => this.clientError(error));
    this.client.on('ready', () => this.ready());
    this.client.connect(this.config());
    // The key exchange and the dialog are many small writes, each waiting for an answer: with
    // Nagle's algorithm on, one of them now and then waits for the peer's delayed ACK (40 ms).
    if (options.sock === undefined) this.client.setNoDelay(true);
  }

  private config(): ConnectConfig {
    const { options, port, user, check, methods } = this.target;
    const config: ConnectConfig = {
      host: options.host,
      port,
      username: user,
      readyTimeout: this.readyTimeout,
      keepaliveInterval: options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_MS,
      keepaliveCountMax: 3,
      hostVerifier: (blob: Buffer): boolean => this.verifyHostKey(blob),
    };
    if (check.algorithms !== undefined) config.algorithms = { serverHostKey: check.algorithms as never };
    config.authHandler = authHandler(methods, user);
    if (options.sock !== undefined) config.sock = options.sock;
    return config;
  }

  /** The host key against the policy; a refusal is kept to be reported instead of ssh2's error. */
  private verifyHostKey(blob: Buffer): boolean {
    const { where } = this.target;
    try {
      this.accepted = this.target.check.verify(blob);
      return true;
    } catch (error) {
      this.refusal = isEngineError(error)
        ? error
        : new EngineError('HOSTKEY_MISMATCH', `host key of ${where} could not be checked`, {
            host: where,
            cause: error,
          });
      return false;
    }
  }

  /** The key exchange succeeded: a key learnt is recorded now. */
  private handshake(): void {
    if (this.accepted === undefined) return;
    try {
      this.target.check.commit(this.accepted);
    } catch (error) {
      this.fail(
        isEngineError(error) ? error : new EngineError('KNOWN_HOSTS_WRITE', String(error), { host: this.target.where }),
      );
    }
  }

  private clientError(error: Error & { level?: string }): void {
    if (this.refusal !== undefined) return this.fail(this.refusal);
    if (error.level === 'agent') {
      this.agentError = error;
      return;
    }
    this.fail(clientFailure(error, this.target, this.readyTimeout, this.agentError));
  }

  private ready(): void {
    if (this.state !== 'connecting' || this.accepted === undefined) {
      // A ready without a verified key cannot happen with a verifier set; refuse it anyway.
      const { where } = this.target;
      this.fail(
        this.refusal ?? new EngineError('HOSTKEY_MISMATCH', `host key of ${where} was not checked`, { host: where }),
      );
      return;
    }
    this.state = 'connected';
    this.resolve(openConnection(this.client, this.target, this.accepted, this.closed, this.onAbort));
  }

  private fail(error: EngineError): void {
    if (this.state !== 'connecting') return;
    this.state = 'failed';
    this.client.end();
    this.reject(error);
  }

  private readonly onAbort = (): void => {
    const { where, options } = this.target;
    this.fail(
      new EngineError('SSH_CONNECT', `connection to ${where} aborted`, { host: where, cause: options.signal?.reason }),
    );
    this.client.end();
  };
}

/** The coded error for a failed connection attempt, by ssh2's level of the error. */
function clientFailure(
  error: Error & { level?: string },
  { where, user }: Target,
  readyTimeout: number,
  agentError: Error | undefined,
): EngineError {
  if (error.level === 'client-timeout') {
    return new EngineError('SSH_CONNECT_TIMEOUT', `no SSH session with ${where} within ${readyTimeout} ms`, {
      host: where,
      cause: error,
      hint: 'Check that the address is right and reachable (a firewall may drop the packets), or raise --connect-timeout',
    });
  }
  if (error.level === 'client-authentication') {
    return new EngineError(
      'SSH_AUTH',
      `${user}@${where} refused the login (${error.message}${agentError === undefined ? '' : `; the ssh-agent failed: ${agentError.message}`})`,
      {
        host: where,
        cause: error,
        hint: 'Check the user, the key or password, and that the host allows this login method',
      },
    );
  }
  return new EngineError('SSH_CONNECT', `SSH connection to ${where} failed: ${error.message}`, {
    host: where,
    cause: error,
    hint: connectHint(error),
  });
}

/** The connection a logged-in client is. */
function openConnection(
  client: Client,
  { options, port, user, where }: Target,
  hostKey: AcceptedHostKey,
  closed: Promise<void>,
  onAbort: () => void,
): SshConnection {
  let execCount = 0;
  return {
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
  };
}

/** What to check when the connection itself failed, by the system's reason. */
function connectHint(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'Check that sshd runs on the host and listens on that port (address and port in the inventory)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'Check the host name in the inventory: it does not resolve';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'Check the address in the inventory and the route to it';
    default:
      return 'Check the address and port in the inventory, and that sshd runs on the host';
  }
}
