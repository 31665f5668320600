/**
 * otopi's 18 stages, in run order, and the numeric priorities handlers use within a stage.
 * The tuple order is the run order; per-stage facts live in a `Record<Stage, …>` so the
 * compiler forces every stage to be covered.
 */

export const STAGES = [
  'boot',
  'init',
  'setup',
  'internal_packages',
  'programs',
  'late_setup',
  'customization',
  'validation',
  'transaction_begin',
  'early_misc',
  'packages',
  'misc',
  'transaction_end',
  'closeup',
  'cleanup',
  'pre_terminate',
  'terminate',
  'reboot',
] as const;

export type Stage = (typeof STAGES)[number];

export interface StageInfo {
  /** Position in the run, 0..17. */
  readonly index: number;
  /** The id otopi prints in logs and on the machine dialog (`STAGE <id>`). */
  readonly wireId: string;
  /** Banner text: `Stage: <description>`. */
  readonly description: string;
  /** When true the stage is skipped once the run has an error. */
  readonly onlyOnSuccess: boolean;
}

const info = (index: number, wireId: string, description: string, onlyOnSuccess: boolean): StageInfo => ({
  index,
  wireId,
  description,
  onlyOnSuccess,
});

/**
 * Wire ids are otopi's, including its quirk that the transaction commit reports itself as
 * `cleanup` (an engine parsing `**%EventStart STAGE cleanup` expects that); our own logs and
 * plan dumps use the unambiguous stage names instead.
 */
export const STAGE_INFO: Readonly<Record<Stage, StageInfo>> = {
  boot: info(0, 'boot', 'Booting', true),
  init: info(1, 'init', 'Initializing', false),
  setup: info(2, 'setup', 'Environment setup', true),
  internal_packages: info(3, 'internal_packages', 'Environment packages setup', true),
  programs: info(4, 'programs', 'Programs detection', true),
  late_setup: info(5, 'late_setup', 'Environment setup (late)', true),
  customization: info(6, 'customization', 'Environment customization', true),
  validation: info(7, 'validation', 'Setup validation', true),
  transaction_begin: info(8, 'transaction-prepare', 'Transaction setup', true),
  early_misc: info(9, 'early_misc', 'Misc configuration (early)', true),
  packages: info(10, 'packages', 'Package installation', true),
  misc: info(11, 'misc', 'Misc configuration', true),
  transaction_end: info(12, 'cleanup', 'Transaction commit', true),
  closeup: info(13, 'closeup', 'Closing up', true),
  cleanup: info(14, 'cleanup', 'Clean up', false),
  pre_terminate: info(15, 'pre-terminate', 'Pre-termination', false),
  terminate: info(16, 'terminate', 'Termination', false),
  reboot: info(17, 'reboot', 'Reboot', true),
};

/** otopi's named priorities; lower runs earlier. Any integer is accepted. */
export const Priority = {
  FIRST: 1000,
  HIGH: 2000,
  MEDIUM: 3000,
  DEFAULT: 5000,
  POST: 7000,
  LOW: 9000,
  LAST: 90000,
} as const;
