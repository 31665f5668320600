/**
 * Crash safety for multi-file transactions: a journal on disk that always says how to put
 * every target back as it was, so a run killed at any point (SIGKILL, OOM, power cut) can
 * be undone on the next start (`recoverJournals`, journal-recovery.ts). This module is the
 * writing side; the file format is in journal-file.ts.
 *
 * Protocol, for a transaction with a journal folder (`<dir>/transaction-<id>.journal`):
 *
 * 1. **prepare** — before any element prepares, the journal is written listing, per file,
 *    the target, the temp file it will write and the directories it may create. Nothing
 *    live has changed yet; recovery removes those temps and (empty) directories.
 * 2. **commit** — after every element prepared and before the first element commits, the
 *    journal is rewritten adding, per changed file, where its previous content will be
 *    kept (`previous`: the user's backup `<path>.<stamp>` or a hidden undo link) or `null`
 *    when the file did not exist. Each file then commits as: hard link (or durable copy)
 *    of the live file to `previous`, fsync; rename temp over the target; fsync the folder.
 *    Recovery rolls back: a target whose `previous` exists gets it renamed back (this is
 *    the very inode that was live before, so bytes, mode, owner and labels are exact); a
 *    target that did not exist is removed once its temp is gone (its temp still being
 *    there means the rename never happened). Every step is idempotent, so recovery can
 *    itself be killed and rerun.
 * 3. **committed** — written after every element committed: the change stands. Recovery
 *    only deletes the hidden undo links and leftovers.
 *
 * **Undo records** (`undo`): an element that changes the system before the commit (the
 * packages stage runs while the transaction is prepared) records, through
 * `Transaction.recordUndo`, the commands that undo its change before it makes it. A record
 * is argv lists run without a shell, in order; it rides along in every later rewrite of the
 * journal (whatever the phase). Recovery of a journal not `committed` runs the records,
 * newest first, before the file rollback; each record that ran cleanly is dropped from the
 * journal at once (so a rerun does not repeat it), and a failing command keeps the journal
 * for the next run. A `committed` journal drops its records unrun. The transaction clears
 * an element's record when its in-process abort or rollback succeeded, and writes
 * `committed` without records, so nothing is undone twice. The journal exists from the
 * first intent or record on; the state of a command killed midway is whatever its tool
 * leaves (dnf and dpkg keep their own), and its undo runs again from the start.
 *
 * The journal is deleted when the transaction ends (committed, rolled back or aborted),
 * except when an element holding an undo record failed its in-process undo: it then stays
 * for recovery at the next start.
 * Every rewrite is atomic (temp, fsync, rename, fsync folder), so a journal is never torn.
 * Per-file progress is not written: the file system already records it (temp gone ⇔
 * renamed), which saves an fsync per file.
 */
import { fsyncDir, removeFile } from './fs-util.js';
import { FORMAT, journalFileName, writeJournalFile, type JournalEntry, type JournalPhase } from './journal-file.js';
import type { UndoRecord } from './undo-records.js';

export type { JournalEntry, JournalPhase } from './journal-file.js';
export type { UndoCommandRunner, UndoRecord, UndoRepair } from './undo-records.js';
export { runUndoCommand } from './undo-records.js';

/** Implemented by elements that take part in the journal (today: `FileTransaction`). */
export interface JournalParticipant {
  /** Fixes target, temp name and directories; called before `prepare()`, writes nothing. */
  journalIntent(): Promise<JournalEntry>;
  /** Fixes where the previous content goes; called after `prepare()`, before any commit. */
  journalCommit(): Promise<JournalEntry>;
  /** Drops undo data once the whole transaction committed. */
  journalFinish(): Promise<void>;
}

export function isJournalParticipant(value: object): value is JournalParticipant {
  const v = value as Partial<JournalParticipant>;
  return (
    typeof v.journalIntent === 'function' &&
    typeof v.journalCommit === 'function' &&
    typeof v.journalFinish === 'function'
  );
}

/** The journal of one transaction; written by the transaction as it moves through phases. */
export class CommitJournal {
  readonly file: string;
  /** The entries last written. */
  entries: readonly JournalEntry[] = [];
  /** The phase last written. */
  phase: JournalPhase = 'prepare';
  /** Undo records by owner, in recording order; written with every rewrite. */
  private readonly undo = new Map<object, UndoRecord>();
  private written = false;
  /** Rewrites run one at a time (an undo record may come while the transaction writes). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    readonly id: string,
  ) {
    this.file = journalFileName(dir, id);
  }

  /** Whether the journal is on disk. */
  get active(): boolean {
    return this.written;
  }

  /** Whether some undo record is held. */
  get hasUndo(): boolean {
    return this.undo.size > 0;
  }

  /** Atomically replaces the journal with this phase and entries (and the undo records held). */
  write(phase: JournalPhase, entries: readonly JournalEntry[]): Promise<void> {
    return this.serial(async () => {
      const undo = [...this.undo.values()];
      await writeJournalFile(this.dir, this.file, this.id, {
        format: FORMAT,
        id: this.id,
        pid: process.pid,
        phase,
        entries,
        ...(undo.length > 0 ? { undo } : {}),
      });
      this.written = true;
      this.entries = entries;
      this.phase = phase;
    });
  }

  /** Sets (or replaces) the undo record of `owner` and rewrites the journal in its current phase. */
  async setUndo(owner: object, record: UndoRecord): Promise<void> {
    // A new record goes last (newest), so recovery runs it first.
    this.undo.delete(owner);
    this.undo.set(owner, {
      description: record.description,
      commands: record.commands.map((c) => [...c]),
      ...(record.repair === undefined ? {} : { repair: record.repair }),
    });
    await this.write(this.phase, this.entries);
  }

  /** Drops the undo record of `owner` (its change was undone or stands); rewrites when there was one. */
  async clearUndo(owner: object): Promise<void> {
    if (!this.undo.delete(owner) || !this.written) return;
    await this.write(this.phase, this.entries);
  }

  /** Forgets every undo record without writing (the next write, e.g. `committed`, leaves them out). */
  dropUndo(): void {
    this.undo.clear();
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Deletes the journal: the transaction is over. */
  remove(): Promise<void> {
    return this.serial(async () => {
      if (!this.written) return;
      await removeFile(this.file);
      await fsyncDir(this.dir);
      this.written = false;
    });
  }
}
