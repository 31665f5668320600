/**
 * How a host's session is opened: by default one SSH connection (`connectSsh`, the host's key
 * policy) and one exec (`deployBundle`). The orchestrator only needs the shape below, so a
 * test can put a local process there instead.
 */
import { readFileSync } from 'node:fs';
import type { Artifact, RuntimeArtifact } from '../bundle/artifact.js';
import { deployBundle, type DeploySession } from '../deploy/deploy.js';
import { EngineError } from '../errors.js';
import type { InventoryHost } from '../inventory/inventory.js';
import { connectSsh, type SshAuth } from '../ssh/connect.js';
import type { AcceptedHostKey } from '../ssh/host-key-policy.js';

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

/** The credentials for ssh2; the only place a password or passphrase is revealed. */
export function sshAuth(host: InventoryHost): SshAuth {
  if (host.auth.kind === 'password') return { password: host.auth.password.reveal() };
  let privateKey: Buffer;
  try {
    privateKey = readFileSync(host.auth.identityFile);
  } catch (error) {
    throw new EngineError('SSH_AUTH', `cannot read the key ${host.auth.identityFile}: ${(error as Error).message}`, {
      host: host.name,
      cause: error,
    });
  }
  const passphrase = host.auth.passphrase?.reveal();
  return passphrase === undefined ? { privateKey } : { privateKey, passphrase };
}

export const openOverSsh: SessionOpener = async (host, request) => {
  let connection;
  try {
    connection = await connectSsh({
      host: host.address,
      port: host.port,
      user: host.user,
      auth: sshAuth(host),
      hostKey: host.hostKey,
      connectTimeoutMs: request.connectTimeoutMs,
      signal: request.signal,
    });
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
    });
    return { session, close: () => connection.close() };
  } catch (error) {
    connection.close();
    throw new OpenError('Bundle transfer', error);
  }
};
