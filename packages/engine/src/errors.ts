/**
 * The engine's one error type. Every failure of a connection or a deploy has a code from
 * {@link ENGINE_ERROR_CODES}, the host it concerns and, where the user can act, a one-line
 * hint; the underlying error is kept as `cause`.
 */

export const ENGINE_ERROR_CODES = [
  // host keys
  'HOSTKEY_POLICY_MISSING',
  'HOSTKEY_UNKNOWN',
  'HOSTKEY_MISMATCH',
  'HOSTKEY_REVOKED',
  'HOSTKEY_BAD_FINGERPRINT',
  'KNOWN_HOSTS_UNREADABLE',
  'KNOWN_HOSTS_WRITE',
  // the connection
  'SSH_CONNECT',
  'SSH_AUTH',
  'SSH_CONNECT_TIMEOUT',
  'SSH_EXEC',
  'SSH_INACTIVITY_TIMEOUT',
  'SSH_HARD_TIMEOUT',
  'SSH_CLOSED',
  'SSH_CONFIG_INVALID',
  // running as root through sudo on a host reached as another user
  'BECOME_FAILED',
  // bundles and runtimes
  'BUNDLE_INPUT_MISSING',
  'BUNDLE_BAD_MANIFEST',
  'BUNDLE_PROTOCOL',
  'BUNDLE_REJECTED',
  'RUNTIME_UNAVAILABLE',
  // inventories, answer files and many-host deploys
  'INVENTORY_UNREADABLE',
  'INVENTORY_SYNTAX',
  'INVENTORY_INVALID',
  'INVENTORY_INSECURE',
  'SECRET_UNAVAILABLE',
  'ANSWERS_INVALID',
  'SETTING_UNKNOWN_KEY',
  'SETTING_INVALID',
  // a plugin group's engine-side program (its package.json's otopi.engineProgram)
  'GROUP_PROGRAM_INVALID',
  // host-deploy: the engine CA and the registry of vdsm ids
  'CA_UNAVAILABLE',
  'VDSM_ID_REGISTRY',
  'USAGE',
] as const;

export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

export interface EngineErrorOptions {
  cause?: unknown;
  /** One line telling the user what to do about it. */
  hint?: string;
  /** `host` or `host:port` the error is about. */
  host?: string;
  /** The file the error is about (an inventory, an answer file), with `line` when known. */
  file?: string;
  line?: number;
  /** The field (inventory key, environment key) the error is about. */
  field?: string;
}

export class EngineError extends Error {
  override readonly name = 'EngineError';
  readonly code: EngineErrorCode;
  readonly hint: string | undefined;
  readonly host: string | undefined;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly field: string | undefined;

  constructor(code: EngineErrorCode, message: string, options: EngineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.host = options.host;
    this.file = options.file;
    this.line = options.line;
    this.field = options.field;
  }
}

export function isEngineError(value: unknown, code?: EngineErrorCode): value is EngineError {
  return value instanceof EngineError && (code === undefined || value.code === code);
}
