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
 * The journal is deleted when the transaction ends (committed, rolled back or aborted).
 * Every rewrite is atomic (temp, fsync, rename, fsync folder), so a journal is never torn.
 * Per-file progress is not written: the file system already records it (temp gone ⇔
 * renamed), which saves an fsync per file.
 */
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorMessage } from '../errors.js';
import { errnoCode, fsyncDir, randomToken, removeEmptyDirs, removeFile } from './fs-util.js';
import { silentLog, type TransactionLog } from './element.js';

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
}

const FORMAT = 'otopi-transaction-journal/1';
const JOURNAL_NAME = /^transaction-(.+)\.journal$/;

/** The journal of one transaction; written by the transaction as it moves through phases. */
export class CommitJournal {
  readonly file: string;
  /** The entries last written. */
  entries: readonly JournalEntry[] = [];
  private written = false;

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

  /** Atomically replaces the journal with this phase and entries. */
  async write(phase: JournalPhase, entries: readonly JournalEntry[]): Promise<void> {
    if (!this.written) await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const body: JournalFile = { format: FORMAT, id: this.id, pid: process.pid, phase, entries };
    const temp = join(this.dir, `.transaction-${this.id}.${randomToken()}.tmp`);
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
    await rename(temp, this.file);
    await fsyncDir(this.dir);
    this.written = true;
    this.entries = entries;
  }

  /** Deletes the journal: the transaction is over. */
  async remove(): Promise<void> {
    if (!this.written) return;
    await removeFile(this.file);
    await fsyncDir(this.dir);
    this.written = false;
  }
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
  options: { log?: TransactionLog } = {},
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
    const report = await recoverOne(join(stateDir, name), match[1]);
    for (const error of report.errors) log.warn(`Recovering transaction ${report.id}: ${error}`);
    log.debug(
      `Recovered transaction ${report.id} (${report.phase ?? 'unreadable'}): ${report.outcome}, ` +
        `restored ${report.restored.length}, removed ${report.removed.length}`,
    );
    reports.push(report);
  }
  return reports;
}

async function recoverOne(file: string, id: string): Promise<RecoveryReport> {
  const restored: string[] = [];
  const removed: string[] = [];
  const errors: string[] = [];
  let journal: JournalFile;
  try {
    journal = parseJournal(await readFile(file, 'utf8'));
  } catch (error) {
    errors.push(`cannot read journal ${file}: ${errorMessage(error)}`);
    return { journal: file, id, phase: undefined, outcome: 'failed', restored, removed, errors };
  }
  const attempt = async (what: string, step: () => Promise<void>): Promise<void> => {
    try {
      await step();
    } catch (error) {
      errors.push(`${what}: ${errorMessage(error)}`);
    }
  };
  const rollBack = journal.phase !== 'committed';
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
  return { journal: file, id, phase: journal.phase, outcome, restored, removed, errors };
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
