/**
 * What the built-in handlers (`builtins.ts`, the dialog's `dialog/plugins.ts`) see of the
 * runner. The `Runtime` is one; the built-ins name this view instead of the class, so the
 * runner, which registers them, is not imported back by them.
 */
import type { Dialog } from '../dialog/types.js';
import type { Environment } from '../env/environment.js';
import type { Logger, RunLog } from '../log/logger.js';
import type { Plan } from '../sequence/plan.js';
import type { Transaction } from '../transaction/transaction.js';
import type { RunEventListener } from './events.js';

export interface RuntimeView {
  readonly env: Environment;
  /** The dialog attached now (the CLI replaces the first one once it knows the dialect). */
  readonly dialog: Dialog;
  readonly runLog: RunLog;
  readonly log: Logger;
  /** The plan, built on first use. */
  readonly plan: Plan;
  /** The first error of the run, if any. */
  readonly error: unknown;
  /** Whether the run has failed (`BASE/error`). */
  readonly failed: boolean;
  readonly mainTransaction: Transaction;
  readonly internalTransaction: Transaction;
  /** Adds a listener for run events. */
  on(listener: RunEventListener): void;
}
