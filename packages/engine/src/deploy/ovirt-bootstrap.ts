/**
 * oVirt's own way in, unchanged: the engine's `BootstrapCommand` (reference host-deploy.md
 * §6.3), with a plain tar of the engine layout (`buildEngineLayout`) on standard input and the
 * machine dialog on the same channel after it. This is what an oVirt engine does with this
 * project's `interface-3` folder; `runOvirtBootstrap` does the same from here, so the path is
 * shown end to end without an engine. `otopi deploy` uses the cached one-exec bootstrap
 * instead (`deployBundle`), which sends the runtime once rather than on every run.
 */
import { createReadStream } from 'node:fs';
import { EngineError } from '../errors.js';
import type { SshConnection } from '../ssh/connect.js';
import { knownHostName } from '../ssh/known-hosts.js';
import { openLineSession, type LineSession, type SessionLimits } from './session.js';

/**
 * The engine's `BootstrapCommand` value, on one line as the engine sends it, `@ENVIRONMENT@`
 * already replaced by nothing as the engine does. `@ENTRY@` is the program.
 */
export const OVIRT_BOOTSTRAP_COMMAND =
  'umask 0077; MYTMP="$(TMPDIR="${OVIRT_TMPDIR}" mktemp -d -t ovirt-XXXXXXXXXX)"; ' +
  'trap "chmod -R u+rwX \\"${MYTMP}\\" > /dev/null 2>&1; rm -fr \\"${MYTMP}\\" > /dev/null 2>&1" 0; ' +
  'tar --warning=no-timestamp -C "${MYTMP}" -x &&  "${MYTMP}"/@ENTRY@ DIALOG/dialect=str:machine DIALOG/customization=bool:True';

/** The programs an engine runs. */
export const OVIRT_ENTRIES = ['ovirt-host-deploy', 'ovirt-host-mgmt'] as const;
export type OvirtEntry = (typeof OVIRT_ENTRIES)[number];

/** The command for `entry`, exactly as the engine builds it. */
export function ovirtBootstrapCommand(entry: OvirtEntry): string {
  return OVIRT_BOOTSTRAP_COMMAND.replace('@ENTRY@', entry);
}

export interface OvirtBootstrapOptions extends SessionLimits {
  readonly entry: OvirtEntry;
  /** The tar of the engine layout (uncompressed, as the engine's `CachedTar` writes it). */
  readonly tarFile: string;
  /** Sees every standard output line. */
  readonly onLine?: ((line: string) => void) | undefined;
}

/**
 * Runs the engine's command on `connection` and streams the tar into it. Resolves once the
 * tar is written; the session's lines are then the installer's machine dialog, to be driven
 * with `driveDialog`. As with the engine, any byte on standard error means failure.
 */
export async function runOvirtBootstrap(
  connection: SshConnection,
  options: OvirtBootstrapOptions,
): Promise<LineSession> {
  const where = knownHostName(connection.host, connection.port);
  const command = ovirtBootstrapCommand(options.entry);
  const channel = await connection.exec(command);
  const control = openLineSession(channel, {
    where,
    commandBytes: Buffer.byteLength(command),
    onLine: options.onLine,
    inactivityTimeoutMs: options.inactivityTimeoutMs,
    hardTimeoutMs: options.hardTimeoutMs,
    signal: options.signal,
  });
  try {
    for await (const chunk of createReadStream(options.tarFile)) await control.writePayload(chunk as Buffer);
  } catch (error) {
    const reason =
      error instanceof EngineError
        ? error
        : new EngineError('BUNDLE_PROTOCOL', `cannot send ${options.tarFile}: ${String(error)}`, {
            host: where,
            cause: error,
          });
    control.session.abort(reason);
    throw reason;
  }
  return control.session;
}
