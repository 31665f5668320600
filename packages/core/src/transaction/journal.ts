/**
 * Crash safety for multi-file transactions: a journal on disk that always says how to put
 * every target back as it was, so a run killed at any point (SIGKILL, OOM, power cut) can
 * be undone by {@link recoverJournals} on the next start.
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
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorMessage } from '../errors.js';
import { errnoCode, fsyncDir, randomToken, removeEmptyDirs, removeFile } from './fs-util.js';
import { silentLog, type TransactionLog } from './element.js';
import {
  isUndoRecord,
  runUndoCommand,
  runUndoRecord,
  type UndoCommandRunner,
  type UndoRecord,
} from './undo-records.js';

export type { UndoCommandRunner, UndoRecord, UndoRepair } from './undo-records.js';
export { runUndoCommand } from './undo-records.js';

export type JournalPhase = 'prepare' | 'commit' | 'committed';

/** One file of a journaled transaction. */
export interface JournalEntry {
  /** The target file (symbolic links resolved). */
  readonly path: string;
  /** The temp file prepared beside it; renamed onto `path` by the commit. */
  readonly temp: string;
  /** Directories the element may create, outermost first; removed on rollback if empty. */
  readonly dirs: readonly string[];
  /**
   * Set from the commit phase on: where the previous content is kept, `null` when the
   * target did not exist. Absent when the element changes nothing.
   */
  readonly previous?: string | null;
  /** Whether `previous` is the user's backup (kept on success) rather than a hidden undo link. */
  readonly keepPrevious?: boolean;
}

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

interface JournalFile {
  readonly format: typeof FORMAT;
  readonly id: string;
  readonly pid: number;
  readonly phase: JournalPhase;
  readonly entries: readonly JournalEntry[];
  /** Undo records, oldest first; absent in journals written without any. */
  readonly undo?: readonly UndoRecord[];
}

const FORMAT = 'otopi-transaction-journal/1';
const JOURNAL_NAME = /^transaction-(.+)\.journal$/;

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
    this.file = join(dir, `transaction-${id}.journal`);
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

/** Temp, fsync, rename, fsync folder: a reader sees the old journal or the new one, never a torn one. */
async function writeJournalFile(dir: string, file: string, id: string, body: JournalFile): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.transaction-${id}.${randomToken()}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(body, null, 1)}\n`);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, file);
  await fsyncDir(dir);
}

/** What recovery did about one journal. */
export interface RecoveryReport {
  readonly journal: string;
  readonly id: string;
  /** The phase the run was killed in; undefined when the journal could not be read. */
  readonly phase: JournalPhase | undefined;
  /** `rolled-back`: targets are as before the transaction; `completed`: the commit stands. */
  readonly outcome: 'rolled-back' | 'completed' | 'failed';
  /** Targets put back from their previous content. */
  readonly restored: readonly string[];
  /** Files and directories removed (temps, files the transaction created, undo links). */
  readonly removed: readonly string[];
  /** Undo records whose commands all ran cleanly (their descriptions), newest first. */
  readonly undone: readonly string[];
  /** Tools the killed run left interrupted, what was found and how they were repaired. */
  readonly repaired: readonly string[];
  /** What could not be done; the journal is kept so a later run tries again. */
  readonly errors: readonly string[];
}

/**
 * Finishes every transaction interrupted in `stateDir`: rolls back those killed before
 * their commit completed, tidies up those killed after. Call it only when no transaction
 * using this folder is running (at startup, under the installer's lock). A missing folder
 * means there is nothing to do.
 */
export async function recoverJournals(
  stateDir: string,
  options: { log?: TransactionLog; runCommand?: UndoCommandRunner } = {},
): Promise<RecoveryReport[]> {
  const log = options.log ?? silentLog;
  let names: string[];
  try {
    names = await readdir(stateDir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
  // Half-written journals from a kill during a journal write: the old journal (if any) is intact.
  for (const name of names.filter((n) => n.startsWith('.transaction-') && n.endsWith('.tmp'))) {
    await removeFile(join(stateDir, name));
  }
  const reports: RecoveryReport[] = [];
  for (const name of names.sort()) {
    const match = JOURNAL_NAME.exec(name);
    if (match?.[1] === undefined) continue;
    const report = await recoverOne(join(stateDir, name), match[1], log, options.runCommand ?? runUndoCommand);
    for (const error of report.errors) log.warn(`Recovering transaction ${report.id}: ${error}`);
    log.debug(
      `Recovered transaction ${report.id} (${report.phase ?? 'unreadable'}): ${report.outcome}, ` +
        `undone ${report.undone.length}, restored ${report.restored.length}, removed ${report.removed.length}`,
    );
    reports.push(report);
  }
  return reports;
}

async function recoverOne(
  file: string,
  id: string,
  log: TransactionLog,
  runCommand: UndoCommandRunner,
): Promise<RecoveryReport> {
  const restored: string[] = [];
  const removed: string[] = [];
  const undone: string[] = [];
  const repaired: string[] = [];
  const errors: string[] = [];
  let journal: JournalFile;
  try {
    journal = parseJournal(await readFile(file, 'utf8'));
  } catch (error) {
    errors.push(`cannot read journal ${file}: ${errorMessage(error)}`);
    return { journal: file, id, phase: undefined, outcome: 'failed', restored, removed, undone, repaired, errors };
  }
  const attempt = async (what: string, step: () => Promise<void>): Promise<void> => {
    try {
      await step();
    } catch (error) {
      errors.push(`${what}: ${errorMessage(error)}`);
    }
  };
  const rollBack = journal.phase !== 'committed';
  if (rollBack && (journal.undo?.length ?? 0) > 0) {
    // Newest record first; each one that ran cleanly leaves the journal, so a rerun skips it.
    let left = [...(journal.undo ?? [])];
    for (const record of [...left].reverse()) {
      const outcome = await runUndoRecord(record, log, runCommand);
      repaired.push(...outcome.repaired);
      errors.push(...outcome.errors);
      if (!outcome.ok) continue;
      undone.push(record.description);
      left = left.filter((r) => r !== record);
      const rest = left;
      await attempt(`cannot update journal ${file}`, () =>
        writeJournalFile(dirname(file), file, id, { ...journal, undo: rest }),
      );
    }
  }
  const touchedDirs = new Set<string>();
  for (const entry of [...journal.entries].reverse()) {
    touchedDirs.add(dirname(entry.path));
    await attempt(`cannot recover ${entry.path}`, async () => {
      const tempWasThere = await removeFile(entry.temp);
      if (tempWasThere) removed.push(entry.temp);
      if (entry.previous === undefined) return;
      if (!rollBack) {
        if (entry.previous !== null && entry.keepPrevious !== true && (await removeFile(entry.previous))) {
          removed.push(entry.previous);
        }
        return;
      }
      if (entry.previous === null) {
        if (!tempWasThere && (await removeFile(entry.path))) removed.push(entry.path);
        return;
      }
      await removeFile(`${entry.previous}.partial`);
      try {
        // When the rename never happened both names are links to one inode: rename is then
        // a no-op and the removal below drops the extra link.
        await rename(entry.previous, entry.path);
        if (!tempWasThere) restored.push(entry.path);
      } catch (error) {
        // Gone: never made (the target was not touched yet) or already put back.
        if (errnoCode(error) !== 'ENOENT') throw error;
      }
      await removeFile(entry.previous);
    });
  }
  if (rollBack) {
    const dirs = journal.entries.flatMap((e) => e.dirs);
    await attempt('cannot remove created directories', async () => {
      removed.push(...(await removeEmptyDirs(dirs)));
    });
    for (const dir of dirs) touchedDirs.add(dirname(dir));
  }
  for (const dir of touchedDirs) await attempt(`cannot flush ${dir}`, () => fsyncDir(dir).catch(ignoreMissing));
  if (errors.length === 0) {
    await attempt(`cannot delete journal ${file}`, async () => {
      await removeFile(file);
      await fsyncDir(dirname(file));
    });
  }
  const outcome = errors.length > 0 ? 'failed' : rollBack ? 'rolled-back' : 'completed';
  return { journal: file, id, phase: journal.phase, outcome, restored, removed, undone, repaired, errors };
}

function ignoreMissing(error: unknown): void {
  if (errnoCode(error) !== 'ENOENT') throw error;
}

function parseJournal(text: string): JournalFile {
  const data: unknown = JSON.parse(text);
  if (typeof data !== 'object' || data === null) throw new Error('not a journal');
  const j = data as Partial<JournalFile>;
  if (j.format !== FORMAT) throw new Error(`unknown journal format ${String(j.format)}`);
  if (j.phase !== 'prepare' && j.phase !== 'commit' && j.phase !== 'committed') throw new Error('bad phase');
  if (!Array.isArray(j.entries)) throw new Error('no entries');
  if (j.undo !== undefined) {
    if (!Array.isArray(j.undo)) throw new Error('bad undo records');
    if (!(j.undo as unknown[]).every(isUndoRecord)) throw new Error('malformed undo record');
  }
  for (const e of j.entries as unknown[]) {
    const entry = e as Partial<JournalEntry>;
    const ok =
      typeof entry.path === 'string' &&
      typeof entry.temp === 'string' &&
      Array.isArray(entry.dirs) &&
      (entry.previous === undefined || entry.previous === null || typeof entry.previous === 'string');
    if (!ok) throw new Error('malformed entry');
  }
  return j as JournalFile;
}
