/**
 * One meaning per exit code, for every command of the CLI (`otopi`, `ovirt-host-deploy`,
 * `otopi deploy`, `otopi ca sign`, `otopi config-query`); the README's table lists them.
 */
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
