/**
 * One meaning per exit code, for every command of the CLI (`otopi`, `ovirt-host-deploy`,
 * `otopi deploy`, `otopi ca sign`, `otopi config-query`); the README's table lists them.
 */
import type { ErrorCode } from '@otopi/core';

export const EXIT = {
  /** Done: every host installed, the run succeeded, the request was signed. */
  ok: 0,
  /** Something failed or was aborted (a host, a handler, a refused request). */
  failed: 1,
  /** Nothing was done: the input or the set-up is wrong (a plugin group, an inventory, the CA). */
  notRun: 2,
  /** It ran, but is not finished: a manual step (certificate enrollment) or a reboot remains. */
  incomplete: 3,
  /** The command line is wrong (an unknown option, a missing argument). */
  usage: 64,
  /** Interrupted (a second Ctrl-C). */
  interrupted: 130,
} as const;

/** The exit-code line every command's help ends with. */
export const EXIT_HELP =
  'Exit codes: 0 success, 1 failed or aborted, 2 nothing done (bad input or set-up), ' +
  '3 incomplete (a manual step or a reboot remains), 64 usage error, 130 interrupted.';

/**
 * The exit code an installer run (`otopi`, `ovirt-host-deploy`, `ovirt-host-mgmt`) ends with
 * for an error of each code (the README's table of error codes). A plugin group that does not
 * load stops the run before anything is read: `notRun`. Every other error is `failed`, before
 * the stages (a bad statement, an answer file) or in them, the user's mistakes as much as a
 * failure of the work, so that a manager that reads the exit code alone sees what it always saw;
 * the code tells them apart (the error line, `--events`).
 */
export const EXIT_FOR_ERROR: Readonly<Record<ErrorCode, number>> = {
  // planning: handlers that cannot be ordered
  PLAN_DUPLICATE_NAME: EXIT.failed,
  PLAN_CYCLE: EXIT.failed,
  PLAN_LATER_STAGE: EXIT.failed,
  PLAN_PRIORITY_CONFLICT: EXIT.failed,
  PLAN_UNKNOWN_REFERENCE: EXIT.failed,
  PLAN_BAD_HANDLER: EXIT.failed,
  // a plugin group that is missing or does not load
  PLUGIN_GROUP_MISSING: EXIT.notRun,
  PLUGIN_LOAD_FAILED: EXIT.notRun,
  PLUGIN_INVALID: EXIT.notRun,
  // the user's input: statements, answer files, values
  ENV_BAD_STATEMENT: EXIT.failed,
  ENV_MISSING_TYPE: EXIT.failed,
  ENV_UNKNOWN_TYPE: EXIT.failed,
  ENV_BAD_VALUE: EXIT.failed,
  ENV_UNKNOWN_KEY: EXIT.failed,
  ENV_BAD_KEY: EXIT.failed,
  ENV_SCHEMA: EXIT.failed,
  ENV_DUPLICATE_DECLARATION: EXIT.failed,
  CONFIG_SYNTAX: EXIT.failed,
  CONFIG_UNREADABLE: EXIT.failed,
  CONFIG_MISSING: EXIT.failed,
  // the host: what the run needs, what the host can do, another run
  PREREQUISITE_MISSING: EXIT.failed,
  HOST_UNSUPPORTED: EXIT.failed,
  RUN_LOCKED: EXIT.failed,
  LOCK_UNAVAILABLE: EXIT.failed,
  RECOVERY_FAILED: EXIT.failed,
  // the work
  TRANSACTION_STATE: EXIT.failed,
  TRANSACTION_PREPARE: EXIT.failed,
  TRANSACTION_COMMIT: EXIT.failed,
  FILE_WRITE: EXIT.failed,
  HANDLER_FAILED: EXIT.failed,
  COMMAND_MISSING: EXIT.failed,
  // the dialog, and aborts
  DIALOG_EOF: EXIT.failed,
  DIALOG_BAD_REPLY: EXIT.failed,
  DIALOG_NO_TERMINAL: EXIT.failed,
  DIALOG_INVALID_VALUE: EXIT.failed,
  ABORTED: EXIT.failed,
  USAGE: EXIT.failed,
  // a bug
  INTERNAL: EXIT.failed,
};
