/**
 * How a host's session is opened: by default one SSH connection (`connectSsh`, the host's key
 * policy; through its jump hosts, each checked the same way; tried again while it fails before
 * login) and one exec (`deployBundle`, through sudo when the host says `become`). The
 * orchestrator only needs the shape below, so a test can put a local process there instead.
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader does not see `utils` as a named export.
const { utils } = ssh2;
import type { Artifact, RuntimeArtifact } from '../bundle/artifact.js';
import { deployBundle, type DeploySession } from '../deploy/deploy.js';
import { EngineError } from '../errors.js';
import type { HostAuth, InventoryHost } from '../inventory/inventory.js';
import type { MultiAuth } from '../ssh/auth.js';
import type { AcceptedHostKey } from '../ssh/host-key-policy.js';
import { connectThrough, withConnectRetries, type HopOptions } from '../ssh/jump.js';

/** The part of a deploy session the orchestrator uses. */
export type HostSession = Pick<
  DeploySession,
  'lines' | 'send' | 'end' | 'abort' | 'done' | 'bytes' | 'shipped' | 'stderr'
>;

export interface OpenRequest {
  readonly bundle: Artifact;
  readonly runtime: RuntimeArtifact | undefined;
  readonly preferRuntime: boolean;
  /** Command-line statements for the installer. */
  readonly statements: readonly string[];
  readonly connectTimeoutMs: number;
  /** Tries again after a refused or reset connection before login, for hosts that set none. */
  readonly connectRetries?: number | undefined;
  /** Notes for the host's log (a retry, ...). */
  readonly onNote?: ((text: string) => void) | undefined;
  readonly inactivityTimeoutMs: number;
  readonly hardTimeoutMs: number;
  /** Aborts the connection attempt. */
  readonly signal: AbortSignal;
  /** Called once the host key is accepted and the login succeeded, before anything is shipped. */
  readonly onConnected: (hostKey: AcceptedHostKey) => void;
}

export interface OpenedHost {
  readonly session: HostSession;
  /** Ends the connection (gracefully: the host sees its input and output close and rolls back). */
  close(): void;
}

/** Where a failure to open happened, for the report's stage. */
export class OpenError extends Error {
  override readonly name = 'OpenError';
  constructor(
    readonly stage: 'SSH connection' | 'Bundle transfer',
    readonly error: unknown,
  ) {
    super(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

export type SessionOpener = (host: InventoryHost, request: OpenRequest) => Promise<OpenedHost>;

/**
 * The credentials for ssh2; the only place a password or passphrase is revealed. An encrypted
 * key without a passphrase is passed over when something else can log in (as OpenSSH would
 * ask, and we cannot), and is an error otherwise.
 */
export function sshAuth(auth: HostAuth, where: string): MultiAuth {
  const keys: { privateKey: Buffer; passphrase?: string; source: string }[] = [];
  let locked: string | undefined;
  for (const identity of auth.identities) {
    let privateKey: Buffer;
    try {
      privateKey = readFileSync(identity.file);
    } catch (error) {
      throw new EngineError('SSH_AUTH', `cannot read the key ${identity.file}: ${(error as Error).message}`, {
        host: where,
        cause: error,
      });
    }
    const passphrase = identity.passphrase?.reveal();
    if (passphrase === undefined && isEncryptedKey(privateKey)) {
      locked ??= identity.file;
      continue;
    }
    keys.push({ privateKey, source: identity.file, ...(passphrase === undefined ? {} : { passphrase }) });
  }
  if (keys.length === 0 && auth.agent === undefined && auth.password === undefined && locked !== undefined) {
    throw new EngineError('SSH_AUTH', `the key ${locked} is encrypted and no passphrase was given`, {
      host: where,
      hint: 'Give it with passphrase_env or passphrase_file, or run otopi deploy on a terminal to be asked',
    });
  }
  return {
    keys,
    ...(auth.agent === undefined ? {} : { agent: auth.agent }),
    ...(auth.password === undefined ? {} : { password: auth.password.reveal() }),
  };
}

/** Whether a private key needs a passphrase to be read. */
export function isEncryptedKey(data: Buffer): boolean {
  const parsed = utils.parseKey(data);
  return parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message);
}

export const openOverSsh: SessionOpener = async (host, request) => {
  const hops: HopOptions[] = host.jumps.map((j) => ({
    host: j.address,
    port: j.port,
    user: j.user,
    auth: sshAuth(j.auth, `${j.user}@${j.name}`),
    hostKey: j.hostKey,
    connectTimeoutMs: j.connectMs ?? request.connectTimeoutMs,
  }));
  const target: HopOptions = {
    host: host.address,
    port: host.port,
    user: host.user,
    auth: sshAuth(host.auth, `${host.user}@${host.name}`),
    hostKey: host.hostKey,
    connectTimeoutMs: request.connectTimeoutMs,
  };
  let connection;
  try {
    connection = await withConnectRetries(
      () => connectThrough(target, hops, request.signal),
      {
        retries: host.connectRetries ?? request.connectRetries,
        onRetry: (error, attempt, delayMs) =>
          request.onNote?.(
            `connection attempt ${attempt} failed before login (${error.message}); trying again in ${delayMs / 1000} s`,
          ),
      },
      request.signal,
    );
  } catch (error) {
    throw new OpenError('SSH connection', error);
  }
  request.onConnected(connection.hostKey);
  try {
    const session = await deployBundle(connection, {
      bundle: request.bundle,
      runtime: request.runtime,
      preferRuntime: request.preferRuntime,
      statements: request.statements,
      inactivityTimeoutMs: request.inactivityTimeoutMs,
      hardTimeoutMs: request.hardTimeoutMs,
      ...(host.become === undefined
        ? {}
        : { become: host.become.password === undefined ? {} : { password: host.become.password.reveal() } }),
    });
    return { session, close: () => connection.close() };
  } catch (error) {
    connection.close();
    throw new OpenError('Bundle transfer', error);
  }
};
