/**
 * Deploys a bundle and runs the installer in one SSH exec: the bootstrap program says what
 * the host lacks, only that is streamed on standard input, and the same channel then
 * carries the machine dialog. docs/bundle.md describes the protocol.
 */
import { createReadStream } from 'node:fs';
import type { Artifact, RuntimeArtifact } from '../bundle/artifact.js';
import { EngineError } from '../errors.js';
import type { SshConnection } from '../ssh/connect.js';
import { knownHostName } from '../ssh/known-hosts.js';
import { BUNDLE_CACHED_LINE, BUNDLE_NEED_PREFIX, bootstrapCommand, type ArtifactKind } from './bootstrap.js';
import { openLineSession, type LineSession, type SessionLimits } from './session.js';

export interface DeployOptions extends SessionLimits {
  /** The bundle to run (from `buildBundle` or `readManifest`). */
  readonly bundle: Artifact;
  /** A runtime for hosts without a suitable Node.js (the self-contained flavour). */
  readonly runtime?: RuntimeArtifact | undefined;
  /** Use the runtime even where the host has a suitable Node.js. Default false. */
  readonly preferRuntime?: boolean | undefined;
  /** Environment statements for the run (`KEY=type:value`), after the machine dialect ones. Not for secrets: they show in the host's process list. */
  readonly statements?: readonly string[] | undefined;
  /** Environment variables for the installer. */
  readonly environment?: Readonly<Record<string, string>> | undefined;
  /** The host's cache folder. Default `/var/cache/otopi`. */
  readonly cacheRoot?: string | undefined;
  /** Sees every standard output line as it arrives, the bootstrap's own included. */
  readonly onLine?: ((line: string) => void) | undefined;
}

export interface DeploySession extends LineSession {
  /** What the host asked for (`[]`: it had everything), or undefined when it stopped before saying. */
  readonly shipped: readonly ArtifactKind[] | undefined;
}

/** Parses the bootstrap's status line: the artifacts it needs, or undefined for another line. */
export function parseBundleStatus(line: string): ArtifactKind[] | undefined {
  if (line === BUNDLE_CACHED_LINE) return [];
  if (!line.startsWith(BUNDLE_NEED_PREFIX)) return undefined;
  const words = line.slice(BUNDLE_NEED_PREFIX.length).trim().split(/\s+/);
  if (words.some((w) => w !== 'bundle' && w !== 'runtime')) {
    throw new EngineError('BUNDLE_PROTOCOL', `unexpected bundle status line: '${line}'`);
  }
  return words as ArtifactKind[];
}

/**
 * Starts the one exec on `connection` and ships what the host lacks. Resolves once the
 * installer runs (its lines then come from the session), or once the host has stopped
 * before asking for anything (e.g. no suitable Node.js: its `***L:ERROR` line is in the
 * session and `done` has the exit code).
 */
export async function deployBundle(connection: SshConnection, options: DeployOptions): Promise<DeploySession> {
  const where = knownHostName(connection.host, connection.port);
  const command = bootstrapCommand({
    bundle: options.bundle,
    runtime: options.runtime,
    preferRuntime: options.preferRuntime,
    statements: options.statements,
    environment: options.environment,
    cacheRoot: options.cacheRoot,
  });
  const channel = await connection.exec(command);
  const control = openLineSession(channel, {
    where,
    commandBytes: Buffer.byteLength(command),
    onLine: options.onLine,
    inactivityTimeoutMs: options.inactivityTimeoutMs,
    hardTimeoutMs: options.hardTimeoutMs,
    signal: options.signal,
  });

  const status = new Promise<ArtifactKind[] | undefined>((resolve, reject) => {
    control.intercept = (line) => {
      let needed: ArtifactKind[] | undefined;
      try {
        needed = parseBundleStatus(line);
      } catch (error) {
        reject(error);
        return false;
      }
      if (needed === undefined) return false;
      control.intercept = undefined;
      resolve(needed);
      return true;
    };
    control.session.done.then(
      () => resolve(undefined),
      (error: unknown) => reject(error),
    );
  });

  let shipped: ArtifactKind[] | undefined;
  try {
    shipped = await status;
    for (const kind of shipped ?? []) {
      const artifact = kind === 'bundle' ? options.bundle : options.runtime;
      if (artifact === undefined)
        throw new EngineError('BUNDLE_PROTOCOL', `${where} asked for a ${kind} that was not offered`, { host: where });
      let sent = 0;
      for await (const chunk of createReadStream(artifact.file)) {
        sent += (chunk as Buffer).length;
        await control.writePayload(chunk as Buffer);
      }
      if (sent !== artifact.size) {
        throw new EngineError('BUNDLE_PROTOCOL', `${artifact.file} has ${sent} bytes, expected ${artifact.size}`, {
          host: where,
        });
      }
    }
  } catch (error) {
    const reason =
      error instanceof EngineError
        ? error
        : new EngineError('BUNDLE_PROTOCOL', String(error), { host: where, cause: error });
    control.session.abort(reason);
    throw reason;
  }
  return Object.assign(control.session, { shipped });
}
