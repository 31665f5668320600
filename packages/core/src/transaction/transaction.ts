/**
 * A group of changes that happen together or not at all: every element prepares before any
 * commits, and a failure anywhere undoes what was done so far.
 *
 * Differences from otopi, on purpose:
 * - Commit runs in **append order** (otopi went in reverse). Later elements often build on
 *   earlier ones (a directory's owner before a file in it, a package before its config),
 *   and the order a plugin appends in is the order a reader expects.
 * - A failing commit does not leave a half-applied system: elements not yet committed are
 *   aborted, already committed ones are rolled back (where they can be), newest first.
 * - With `journalDir`, file elements are journaled so a run killed mid-commit can be
 *   rolled back by `recoverJournals()` (see `journal.ts`).
 * - An element that changes the system before the commit (packages) can journal the
 *   commands that undo it first, with `recordUndo()`; recovery runs them.
 * - Every operation is serialised, so an `abort()` from an error handler cannot interleave
 *   with a running `commit()`.
 */
import { OtopiError, errorMessage, isOtopiError } from '../errors.js';
import { silentLog, type TransactionElement, type TransactionLog } from './element.js';
import { CommitJournal, isJournalParticipant, type JournalEntry, type UndoRecord } from './journal.js';
import { randomToken } from './fs-util.js';

export type { TransactionElement, TransactionLog } from './element.js';
export type { UndoRecord } from './journal.js';

/**
 * `new` → `preparing` → `prepared` → `committing` → `committed`; a failure in prepare or
 * commit ends in `failed` (already cleaned up); `abort()` before commit ends in `aborted`.
 */
export type TransactionState = 'new' | 'preparing' | 'prepared' | 'committing' | 'committed' | 'failed' | 'aborted';

export interface TransactionOptions {
  /** Elements to start with, as if appended in order. */
  readonly elements?: readonly TransactionElement[];
  /** Folder for the commit journal; see {@link Transaction.journalDir}. */
  readonly journalDir?: string;
  /** Names the journal file; default a fresh random id. */
  readonly id?: string;
  readonly log?: TransactionLog;
}

export class Transaction {
  /** Names this transaction's journal: `<journalDir>/transaction-<id>.journal`. */
  readonly id: string;
  /**
   * Folder for the commit journal, or undefined for none. Read when `prepare()` starts;
   * journaling elements (file elements) then survive a killed run. Default none.
   */
  journalDir: string | undefined;
  private readonly log: TransactionLog;
  private readonly list: TransactionElement[] = [];
  /** Elements whose prepare started, so abort knows whom to clean up. */
  private readonly touched: TransactionElement[] = [];
  private state_: TransactionState = 'new';
  private journal: CommitJournal | undefined;
  private readonly intents = new Map<TransactionElement, JournalEntry>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: TransactionOptions = {}) {
    this.id = options.id ?? `${Date.now().toString(36)}-${randomToken()}`;
    if (!/^[\w.-]+$/.test(this.id))
      throw new OtopiError('INTERNAL', `Bad transaction id '${this.id}': use letters, digits, '.', '-', '_'`);
    this.journalDir = options.journalDir;
    this.log = options.log ?? silentLog;
    this.list.push(...(options.elements ?? []));
  }

  get state(): TransactionState {
    return this.state_;
  }

  get elements(): readonly TransactionElement[] {
    return this.list;
  }

  /** Whether undo records would be journaled now (see {@link recordUndo}). */
  get journaled(): boolean {
    return (
      this.journal !== undefined &&
      (this.state_ === 'preparing' || this.state_ === 'prepared' || this.state_ === 'committing')
    );
  }

  /** Files changed by the commit, in commit order; empty until the transaction committed. */
  get modifiedFiles(): readonly string[] {
    if (this.state_ !== 'committed') return [];
    return this.list.flatMap((el) => el.modifiedFiles?.() ?? []);
  }

  /**
   * Adds an element. Once the transaction is prepared the element is prepared right away;
   * if that fails it is aborted, not added, and the error (`TRANSACTION_PREPARE`) is thrown
   * while the rest of the transaction stays prepared. After commit or abort: `TRANSACTION_STATE`.
   */
  async append(element: TransactionElement): Promise<void> {
    // While preparing, the running loop picks the element up (an element may append others).
    if (this.state_ === 'new' || this.state_ === 'preparing') {
      this.list.push(element);
      return;
    }
    // Fail fast rather than queue behind a running commit (an element appending from its commit would deadlock).
    if (this.state_ !== 'prepared') throw this.stateError(`append ${element.description}`);
    await this.exclusive(async () => {
      if (this.state_ !== 'prepared') throw this.stateError(`append ${element.description}`);
      let journaled = false;
      try {
        if (await this.collectIntent(element)) await this.writeIntents();
        journaled = true;
        this.touched.push(element);
        await element.prepare();
      } catch (cause) {
        // Only this element is given up: the ones prepared before stay touched, so an abort
        // still cleans them up (indexOf is -1 when the journal failed before the push).
        const at = this.touched.indexOf(element);
        if (at >= 0) this.touched.splice(at, 1);
        this.intents.delete(element);
        await this.abortEach([element]);
        const what = journaled ? element.description : `the commit journal for ${element.description}`;
        throw wrap('TRANSACTION_PREPARE', `Cannot prepare ${what}`, cause);
      }
      this.list.push(element);
    });
  }

  /**
   * Prepares every element in order. The first failure aborts those prepared so far (newest
   * first), leaves later ones untouched, and throws `TRANSACTION_PREPARE` naming the element.
   */
  async prepare(): Promise<void> {
    await this.exclusive(async () => {
      if (this.state_ !== 'new') throw this.stateError('prepare');
      this.state_ = 'preparing';
      let current: TransactionElement | undefined;
      try {
        if (this.journalDir !== undefined) {
          this.journal = new CommitJournal(this.journalDir, this.id);
          for (current of this.list) await this.collectIntent(current);
          current = undefined;
          await this.writeIntents();
        }
        for (let i = 0; i < this.list.length; i++) {
          current = this.list[i];
          if (current === undefined) continue;
          // Appended by an element while preparing: journal it before it writes anything.
          if (await this.collectIntent(current)) await this.writeIntents();
          this.touched.push(current);
          await current.prepare();
          this.log.debug(`Prepared ${current.description}`);
        }
      } catch (cause) {
        this.state_ = 'failed';
        await this.abortEach([...this.touched].reverse());
        await this.dropJournal();
        const what = current === undefined ? 'the commit journal' : current.description;
        throw wrap('TRANSACTION_PREPARE', `Cannot prepare ${what}`, cause);
      }
      this.state_ = 'prepared';
    });
  }

  /**
   * Commits every element in append order. If one fails, it and the ones after it are
   * aborted, the ones before it rolled back (newest first), and `TRANSACTION_COMMIT` is
   * thrown. Not prepared (or failed): `TRANSACTION_STATE`.
   */
  async commit(): Promise<void> {
    await this.exclusive(async () => {
      if (this.state_ !== 'prepared') throw this.stateError('commit');
      this.state_ = 'committing';
      let index = -1;
      try {
        await this.journalCommitPhase();
        for (index = 0; index < this.list.length; index++) {
          const element = this.list[index];
          if (element === undefined) continue;
          await element.commit();
          this.log.debug(`Committed ${element.description}`);
        }
      } catch (cause) {
        this.state_ = 'failed';
        throw await this.undoCommit(index, cause);
      }
      await this.finishJournal();
      this.state_ = 'committed';
    });
  }

  /**
   * Aborts a transaction that has not committed: every element whose prepare ran is
   * aborted, newest first. Errors are logged, not thrown. Idempotent; after commit or a
   * failure (already cleaned up) it does nothing.
   */
  async abort(): Promise<void> {
    await this.exclusive(async () => {
      if (this.state_ === 'committed' || this.state_ === 'failed' || this.state_ === 'aborted') return;
      await this.abortEach([...this.touched].reverse());
      this.touched.length = 0;
      await this.dropJournal();
      this.state_ = 'aborted';
    });
  }

  /**
   * Journals the commands that undo a change `element` is about to make outside the commit
   * (packages installed while the transaction is prepared), so recovery undoes it after a
   * killed run. Call it before making the change; a later call replaces the element's record.
   * Returns false (and records nothing) when the transaction is not journaled or not between
   * prepare and the end of its commit. Not serialised with the other operations, so an
   * element may call it from its own `prepare()` or `commit()`.
   */
  async recordUndo(element: TransactionElement, record: UndoRecord): Promise<boolean> {
    const journal = this.journal;
    if (journal === undefined || !this.journaled) return false;
    await journal.setUndo(element, record);
    return true;
  }

  /** Drops `element`'s undo record (its change was undone, or is to stay); rewrites the journal. */
  async clearUndo(element: TransactionElement): Promise<void> {
    await this.journal?.clearUndo(element);
  }

  /** Element descriptions in commit order. */
  describe(): string[] {
    return this.list.map((el) => el.description);
  }

  /**
   * The elements whose commit would change something, with what (`text`, a unified diff for a
   * file). An element that cannot say (no `dryRun`) counts as changing, with no text.
   */
  async pendingChanges(): Promise<
    { readonly element: TransactionElement; readonly description: string; readonly text: string }[]
  > {
    const out: { element: TransactionElement; description: string; text: string }[] = [];
    for (const element of this.list) {
      const text = element.dryRun === undefined ? '' : await element.dryRun();
      if (element.dryRun !== undefined && text === '') continue;
      out.push({ element, description: element.description, text });
    }
    return out;
  }

  /** After a commit: the elements that changed something (their own `changed`, else `dryRun()` before the commit). */
  committedChanges(pending: readonly { readonly element: TransactionElement }[]): string[] {
    return this.list
      .filter((element) => element.changed ?? pending.some((p) => p.element === element))
      .map((element) => element.description);
  }

  /** What the commit would do: a `# description` section per element that would change something; `''` when none. */
  async dryRun(): Promise<string> {
    const sections: string[] = [];
    for (const element of this.list) {
      const text = element.dryRun === undefined ? undefined : await element.dryRun();
      if (text === '') continue;
      sections.push(text === undefined ? `# ${element.description}\n` : `# ${element.description}\n${text}`);
    }
    return sections.join('');
  }

  /** `[a, b]`, as otopi printed transactions in environment dumps. */
  toString(): string {
    return `[${this.describe().join(', ')}]`;
  }

  /** Runs `step` after every operation queued before it, whatever their outcome. */
  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = this.tail.then(step, step);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Undoes a commit that failed at element `failed` (-1: writing the journal); returns the error to throw. */
  private async undoCommit(failed: number, cause: unknown): Promise<OtopiError> {
    const element = this.list[failed];
    const notCommitted = this.list.slice(Math.max(failed, 0)).reverse();
    const committed = this.list.slice(0, Math.max(failed, 0)).reverse();
    let problems = await this.abortEach(notCommitted);
    for (const done of committed) {
      if (done.rollback === undefined) {
        this.log.warn(`Cannot roll back ${done.description}: it does not support rollback; it stays committed`);
        continue;
      }
      try {
        await done.rollback();
        this.log.debug(`Rolled back ${done.description}`);
        await this.undoDone(done);
      } catch (error) {
        problems++;
        this.log.warn(`Rolling back ${done.description} failed: ${errorMessage(error)}`);
      }
    }
    let hint: string | undefined;
    if (problems === 0) await this.dropJournal();
    else if (this.journal !== undefined)
      hint = `The journal ${this.journal.file} was kept; recovery will finish the rollback.`;
    const what = element?.description ?? 'the commit journal';
    const summary = `rolled back ${committed.length} committed element(s)${problems > 0 ? `, ${problems} undo step(s) failed` : ''}`;
    return wrap('TRANSACTION_COMMIT', `Cannot commit ${what}`, cause, ` (${summary})`, hint);
  }

  /**
   * Aborts each element in the order given; returns how many failed (they are logged). An
   * element whose abort succeeded loses its undo record (recovery must not undo it again).
   */
  private async abortEach(elements: readonly TransactionElement[]): Promise<number> {
    let failures = 0;
    for (const element of elements) {
      try {
        await element.abort();
        this.log.debug(`Aborted ${element.description}`);
        await this.undoDone(element);
      } catch (error) {
        failures++;
        this.log.warn(`Aborting ${element.description} failed: ${errorMessage(error)}`);
      }
    }
    return failures;
  }

  /** The element's in-process undo succeeded: its undo record goes (a failed rewrite is only logged). */
  private async undoDone(element: TransactionElement): Promise<void> {
    try {
      await this.journal?.clearUndo(element);
    } catch (error) {
      this.log.warn(`Could not update the journal after undoing ${element.description}: ${errorMessage(error)}`);
    }
  }

  /** Asks a journaling element where it will write; says whether there is something new to journal. */
  private async collectIntent(element: TransactionElement): Promise<boolean> {
    if (this.journal === undefined || !isJournalParticipant(element) || this.intents.has(element)) return false;
    this.intents.set(element, await element.journalIntent());
    return true;
  }

  private async writeIntents(): Promise<void> {
    if (this.intents.size > 0) await this.journal?.write('prepare', [...this.intents.values()]);
  }

  /** Before the first commit: each file's previous-content location, so recovery can roll back. */
  private async journalCommitPhase(): Promise<void> {
    if (this.journal?.active !== true) return;
    const entries: JournalEntry[] = [];
    for (const element of this.list) if (isJournalParticipant(element)) entries.push(await element.journalCommit());
    await this.journal.write('commit', entries);
  }

  /**
   * The commit stands: mark the journal so, drop undo data, delete the journal. Failures
   * here are only logged; the order keeps the journal from ever undoing a finished commit.
   */
  private async finishJournal(): Promise<void> {
    const journal = this.journal;
    this.journal = undefined;
    if (journal?.active !== true) return;
    // The change stands: the committed journal carries no undo records.
    journal.dropUndo();
    try {
      await journal.write('committed', journal.entries);
    } catch (error) {
      // Left in the commit phase it would have this commit rolled back at the next start.
      this.log.warn(`Committed, but could not mark the journal ${journal.file}: ${errorMessage(error)}`);
      const removed = await journal.remove().then(
        () => true,
        (e: unknown) => this.log.warn(`Delete ${journal.file} by hand before recovery: ${errorMessage(e)}`),
      );
      if (removed !== true) return;
    }
    for (const element of this.list) {
      if (!isJournalParticipant(element)) continue;
      await element
        .journalFinish()
        .catch((e: unknown) => this.log.warn(`Tidying ${element.description}: ${errorMessage(e)}`));
    }
    await journal.remove().catch((e: unknown) => this.log.warn(`Could not delete ${journal.file}: ${errorMessage(e)}`));
  }

  /**
   * Deletes the journal, unless it still holds undo records (an element's in-process undo
   * failed): it then stays for recovery to finish the undo at the next start.
   */
  private async dropJournal(): Promise<void> {
    if (this.journal?.hasUndo === true) {
      this.log.warn(`The journal ${this.journal.file} was kept; recovery at the next start will finish the undo.`);
      this.journal = undefined;
      return;
    }
    try {
      await this.journal?.remove();
    } catch (error) {
      this.log.warn(`Could not delete the journal ${this.journal?.file ?? ''}: ${errorMessage(error)}`);
    }
    this.journal = undefined;
  }

  private stateError(action: string): OtopiError {
    const why: Record<TransactionState, string> = {
      new: 'it was not prepared',
      preparing: 'it is being prepared',
      prepared: 'it is already prepared',
      committing: 'it is being committed',
      committed: 'it was already committed',
      failed: 'it failed and was rolled back',
      aborted: 'it was aborted',
    };
    return new OtopiError('TRANSACTION_STATE', `Cannot ${action}: ${why[this.state_]}`);
  }
}

/**
 * `<subject>: <cause><suffix>`; an element error that already names its file stands alone
 * (`Cannot write /etc/x: ENOSPC…`), so messages do not say the same thing twice.
 */
function wrap(
  code: 'TRANSACTION_PREPARE' | 'TRANSACTION_COMMIT',
  subject: string,
  cause: unknown,
  suffix = '',
  hint?: string,
): OtopiError {
  const inner = isOtopiError(cause) ? cause : undefined;
  const finalHint = hint ?? inner?.hint;
  const text = inner?.place.file === undefined ? `${subject}: ${errorMessage(cause)}` : inner.message;
  return new OtopiError(code, `${text}${suffix}`, {
    cause,
    ...(inner?.place.file === undefined ? {} : { file: inner.place.file }),
    ...(finalHint === undefined ? {} : { hint: finalHint }),
  });
}
