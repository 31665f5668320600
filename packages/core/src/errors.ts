/**
 * One error type for the whole runtime. Every failure a user can cause has a code from
 * {@link ERROR_CODES}; the CLI maps codes to exit codes (`exitCodeFor` in the CLI's
 * `exit-codes.ts`) and prints `message` plus `hint`, never a bare stack trace.
 *
 * A mistake the user must put right has a code of its own, so that it reads apart from a
 * failure of the host: a value that does not work (`ENV_BAD_VALUE`), something the run needs
 * that is not there (`PREREQUISITE_MISSING`), a host that cannot do what is asked
 * (`HOST_UNSUPPORTED`), another run holding the host (`RUN_LOCKED`). `HANDLER_FAILED` is for
 * what went wrong while doing the work: a command that failed, a service that did not start.
 */

export const ERROR_CODES = [
  // planning
  'PLAN_DUPLICATE_NAME',
  'PLAN_CYCLE',
  'PLAN_LATER_STAGE',
  'PLAN_PRIORITY_CONFLICT',
  'PLAN_UNKNOWN_REFERENCE',
  'PLAN_BAD_HANDLER',
  // plugin loading
  'PLUGIN_GROUP_MISSING',
  'PLUGIN_LOAD_FAILED',
  'PLUGIN_INVALID',
  // environment and its codec
  'ENV_BAD_STATEMENT',
  'ENV_MISSING_TYPE',
  'ENV_UNKNOWN_TYPE',
  'ENV_BAD_VALUE',
  'ENV_UNKNOWN_KEY',
  'ENV_BAD_KEY',
  'ENV_SCHEMA',
  'ENV_DUPLICATE_DECLARATION',
  // config files
  'CONFIG_SYNTAX',
  'CONFIG_UNREADABLE',
  'CONFIG_MISSING',
  // transactions
  'TRANSACTION_STATE',
  'TRANSACTION_PREPARE',
  'TRANSACTION_COMMIT',
  'FILE_WRITE',
  // dialogs
  'DIALOG_EOF',
  'DIALOG_BAD_REPLY',
  'DIALOG_NO_TERMINAL',
  'DIALOG_INVALID_VALUE',
  // run
  'ABORTED',
  'HANDLER_FAILED',
  'COMMAND_MISSING',
  'USAGE',
  // the user's to put right: something the run needs is not there (packages, a file, an earlier
  // step); the host cannot do what is asked (its distribution, hardware, set-up)
  'PREREQUISITE_MISSING',
  'HOST_UNSUPPORTED',
  // the run lock: another run holds it; it cannot be made at all
  'RUN_LOCKED',
  'LOCK_UNAVAILABLE',
  // an interrupted earlier run could not be recovered: this run changes nothing
  'RECOVERY_FAILED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Where an error happened; any part may be unknown. */
export interface ErrorPlace {
  /** Plugin whose handler failed, e.g. `otopi.core.log`. */
  plugin?: string;
  /** Full handler name, e.g. `otopi.core.log.init`. */
  handler?: string;
  /** Stage id, e.g. `customization`. */
  stage?: string;
  /** Environment key the error is about. */
  key?: string;
  /** File the error is about, with `line` when known. */
  file?: string;
  line?: number;
}

export interface OtopiErrorOptions extends ErrorPlace {
  cause?: unknown;
  /** One line telling the user what to do about it. */
  hint?: string;
}

export class OtopiError extends Error {
  override readonly name = 'OtopiError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly place: ErrorPlace;

  constructor(code: ErrorCode, message: string, options: OtopiErrorOptions = {}) {
    const { cause, hint, ...place } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.hint = hint;
    this.place = place;
  }

  /** `file:line: ` prefix when the error is about a file. */
  get location(): string {
    if (this.place.file === undefined) return '';
    return this.place.line === undefined ? `${this.place.file}: ` : `${this.place.file}:${this.place.line}: `;
  }
}

export function isOtopiError(value: unknown, code?: ErrorCode): value is OtopiError {
  return value instanceof OtopiError && (code === undefined || value.code === code);
}

/** Raised by a handler (or the dialog) to stop the run as an abort rather than a failure. */
export class AbortError extends OtopiError {
  constructor(message = 'Aborted by user', options: OtopiErrorOptions = {}) {
    super('ABORTED', message, options);
  }
}

/** Where a handler runs: what {@link handlerError} stamps on the error it throws. */
export interface HandlerPlace {
  readonly plugin: string;
  /** Full handler name. */
  readonly handler: string;
  readonly stage: string;
}

/**
 * The error a handler (or its condition) threw, stamped with the plugin, handler and stage it
 * came from, once, where handlers are called (as rollup's `logPluginError`). An `OtopiError`
 * keeps its code, its message and any place it already names; anything else becomes
 * `HANDLER_FAILED` with the same message and the error as its `cause`.
 */
export function handlerError(error: unknown, where: HandlerPlace): OtopiError {
  if (error instanceof OtopiError) {
    error.place.plugin ??= where.plugin;
    error.place.handler ??= where.handler;
    error.place.stage ??= where.stage;
    return error;
  }
  return new OtopiError('HANDLER_FAILED', errorMessage(error), { cause: error, ...where });
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
