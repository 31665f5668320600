/**
 * Elements that change live state in their commit (firewall rules, services) journal the
 * commands that undo it before they make the change (`Transaction.recordUndo`), so a run
 * killed right after is put back by the next run's recovery, as the files are. The plugin
 * that appends them hands them its transaction (`useJournal`).
 */
import type { Transaction } from '@otopi/core';

export interface JournalsUndo {
  useJournal(transaction: Transaction): void;
}

export function journalsUndo(value: object): value is JournalsUndo {
  return typeof (value as Partial<JournalsUndo>).useJournal === 'function';
}
