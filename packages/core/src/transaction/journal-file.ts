/**
 * The journal file of one transaction (`<dir>/transaction-<id>.journal`): its format, its
 * atomic write and its parse. `journal.ts` writes it as a transaction moves through its
 * phases; `journal-recovery.ts` reads it back after a killed run.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, randomToken } from './fs-util.js';
import { isUndoRecord, type UndoRecord } from './undo-records.js';

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

export interface JournalFile {
  readonly format: typeof FORMAT;
  readonly id: string;
  readonly pid: number;
  readonly phase: JournalPhase;
  readonly entries: readonly JournalEntry[];
  /** Undo records, oldest first; absent in journals written without any. */
  readonly undo?: readonly UndoRecord[];
}

export const FORMAT = 'otopi-transaction-journal/1';
export const JOURNAL_NAME = /^transaction-(.+)\.journal$/;

/** The journal file of transaction `id` in `dir`. */
export function journalFileName(dir: string, id: string): string {
  return join(dir, `transaction-${id}.journal`);
}

/** Temp, fsync, rename, fsync folder: a reader sees the old journal or the new one, never a torn one. */
export async function writeJournalFile(dir: string, file: string, id: string, body: JournalFile): Promise<void> {
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

export function parseJournal(text: string): JournalFile {
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
