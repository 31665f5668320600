/**
 * Deploys a bundle and runs the installer in one SSH exec: the bootstrap program says what
 * the host lacks, only that is streamed on standard input, and the same channel then
 * carries the machine dialog. docs/bundle.md describes the protocol.
 *
 * When the host gives up before the installer starts (a hash mismatch, a full disk, sudo
 * refusing), the error says what the host said, not that the session ended.
 */
import { createReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Artifact, RuntimeArtifact } from '../bundle/artifact.js';
import { EngineError } from '../errors.js';
import type { SshConnection } from '../ssh/connect.js';
import { knownHostName } from '../ssh/known-hosts.js';
import { treeDigest } from '../bundle/tree-digest.js';
import {
  BECOME_PASSWORD_LINE,
  BUNDLE_CACHED_LINE,
  BUNDLE_NEED_PREFIX,
  BUNDLE_STORED_LINE,
  bootstrapCommand,
  type ArtifactKind,
} from './bootstrap.js';
import { openLineSession, type LineSession, type LineSessionControl, type SessionLimits } from './session.js';

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
  /** Run the installer as root through sudo; `password` is fed to sudo on standard input when it asks. */
  readonly become?: { readonly password?: string | undefined } | undefined;
}

/** How long to wait for a host that gave up to finish saying why. */
const LAST_WORDS_MS = 5_000;
const ERROR_PREFIX = '***L:ERROR ';

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
    bundle: { ...options.bundle, treeSha256: treeDigest(options.bundle) },
    runtime: options.runtime,
    preferRuntime: options.preferRuntime,
    statements: options.statements,
    environment: options.environment,
    cacheRoot: options.cacheRoot,
    become: options.become === undefined ? undefined : { password: options.become.password !== undefined },
  });
  /** What the host said went wrong before the installer started. */
  const hostSaid: string[] = [];
  let phase: 'status' | 'become' | 'transfer' | 'running' = 'status';
  let failBecome: ((error: EngineError) => void) | undefined;
  const inBecome = (): boolean => phase === 'become';
  const channel = await connection.exec(command);
  const control = openLineSession(channel, {
    where,
    commandBytes: Buffer.byteLength(command),
    onLine: (line) => {
      if (phase !== 'running' && line.startsWith(ERROR_PREFIX)) hostSaid.push(line.slice(ERROR_PREFIX.length));
      options.onLine?.(line);
    },
    onStderr: (text) => {
      // sudo says "Sorry, try again." and waits for another line: stop there.
      if (phase === 'become') {
        failBecome?.(
          new EngineError('BECOME_FAILED', `sudo on ${where} refused: ${text.trim().split('\n')[0] ?? ''}`, {
            host: where,
            hint: 'Check become_password, and that the user may run commands as root with sudo',
          }),
        );
      }
    },
    inactivityTimeoutMs: options.inactivityTimeoutMs,
    hardTimeoutMs: options.hardTimeoutMs,
    signal: options.signal,
  });

  /** The host's own reason once it has ended (waited for a little), else `fallback`. */
  const reason = async (fallback: EngineError, code: 'BUNDLE_REJECTED' | 'BECOME_FAILED'): Promise<EngineError> => {
    await Promise.race([control.session.done.catch(() => undefined), sleep(LAST_WORDS_MS)]);
    const said = hostSaid.join('; ') || control.session.stderr.trim().split('\n').pop() || '';
    if (said === '') return fallback;
    return new EngineError(code, `${where}: ${said}`, { host: where, cause: fallback });
  };

  const status = new Promise<ArtifactKind[] | undefined>((resolve, reject) => {
    failBecome = reject;
    control.intercept = (line) => {
      if (line === BECOME_PASSWORD_LINE && phase === 'status') {
        const password = options.become?.password;
        if (password === undefined) {
          reject(
            new EngineError('BECOME_FAILED', `${where} asked for a sudo password that was not given`, { host: where }),
          );
        } else {
          phase = 'become';
          control.writeSecret(`${password}\n`);
        }
        return true;
      }
      let needed: ArtifactKind[] | undefined;
      try {
        needed = parseBundleStatus(line);
      } catch (error) {
        reject(error);
        return false;
      }
      if (needed === undefined) return false;
      control.intercept = undefined;
      phase = 'transfer';
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
    if (shipped !== undefined && shipped.length > 0) await stored(control, where);
  } catch (error) {
    let failure =
      error instanceof EngineError
        ? error
        : new EngineError('BUNDLE_PROTOCOL', String(error), { host: where, cause: error });
    // A host that hung up, or said why, is heard out; anything else is ended now.
    if (failure.code === 'SSH_CLOSED' || failure.code === 'BUNDLE_REJECTED' || hostSaid.length > 0) {
      failure = await reason(failure, inBecome() ? 'BECOME_FAILED' : 'BUNDLE_REJECTED');
    }
    phase = 'running';
    control.session.abort(failure);
    throw failure;
  }
  phase = 'running';
  return Object.assign(control.session, { shipped });
}

/** Waits for the host to say that what it received is checked and stored. */
function stored(control: LineSessionControl, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    control.intercept = (line) => {
      if (line !== BUNDLE_STORED_LINE) return false;
      control.intercept = undefined;
      resolve();
      return true;
    };
    control.session.done.then(
      () =>
        reject(
          new EngineError('BUNDLE_REJECTED', `${where} ended before it had stored what was sent`, { host: where }),
        ),
      (error: unknown) => reject(error),
    );
  });
}
