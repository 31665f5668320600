/**
 * Recovery of transactions a killed run left half done (the journal protocol is described in
 * `journal.ts`): those killed before their commit completed are rolled back, those killed
 * after are tidied up. Runs at startup, under the installer's lock.
 */
import { readFile, readdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorMessage } from '../errors.js';
import { errnoCode, fsyncDir, removeEmptyDirs, removeFile } from './fs-util.js';
import { silentLog, type TransactionLog } from './element.js';
import { JOURNAL_NAME, parseJournal, writeJournalFile, type JournalFile, type JournalPhase } from './journal-file.js';
import { runUndoCommand, runUndoRecord, type UndoCommandRunner } from './undo-records.js';

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
