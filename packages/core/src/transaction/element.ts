/**
 * What a transaction is made of. Kept apart from `transaction.ts` so the journal and the
 * file element can name these types without importing the transaction itself.
 */

/** Where transactions and their elements report; a pino logger fits. */
export interface TransactionLog {
  debug(msg: string): void;
  warn(msg: string): void;
}

/** The logger used when none is given. */
export const silentLog: TransactionLog = { debug: () => undefined, warn: () => undefined };

/**
 * One undoable change. The transaction calls `prepare()` on every element before it calls
 * `commit()` on any, so everything that can fail (validation, writing temporary files,
 * downloads) belongs in `prepare()` and `commit()` should only switch prepared state in.
 *
 * Elements must not call back into their own transaction's `prepare`/`commit`/`abort`
 * (appending is fine).
 */
export interface TransactionElement {
  /** One line naming the change, e.g. `file /etc/hosts`; used in logs, errors and dry runs. */
  readonly description: string;
  /** Gets everything ready without touching live state. Called once. */
  prepare(): void | Promise<void>;
  /** Makes the change live. Called once, only after every element prepared. */
  commit(): void | Promise<void>;
  /**
   * Undoes whatever `prepare()` (or a `commit()` that threw) left behind. Must be safe after
   * a failed or partial prepare or commit, and when called more than once.
   */
  abort(): void | Promise<void>;
  /**
   * Undoes a successful `commit()`, called when a later element's commit fails. Elements
   * without it stay committed (the transaction logs a warning).
   */
  rollback?(): void | Promise<void>;
  /** What `commit()` would do, for humans (a unified diff for files); `''` when nothing. */
  dryRun?(): string | Promise<string>;
  /**
   * Whether the commit changed anything, for elements that know it once committed (a file that
   * was already right, rules that were already loaded). Without it, `dryRun()` asked before the
   * commit decides (CORE/changes).
   */
  readonly changed?: boolean;
  /** Files the commit changed. Asked only after the whole transaction committed. */
  modifiedFiles?(): readonly string[];
}
