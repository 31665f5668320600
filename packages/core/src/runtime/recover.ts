/**
 * The start of every run, under the run lock: finishes what a killed earlier run left
 * (`recoverJournals`), and says what it did, in the log and on the console: the outcome of
 * each interrupted transaction, the package changes undone, and the tools (dpkg, rpm) the
 * killed run had left interrupted, with how they were repaired.
 */
import type { Dialog } from '../dialog/types.js';
import type { Logger } from '../log/logger.js';
import { recoverJournals } from '../transaction/journal-recovery.js';

export async function recoverInterruptedRuns(journalDir: string, log: Logger, dialog: Dialog): Promise<void> {
  for (const report of await recoverJournals(journalDir, { log })) {
    const what = `${report.outcome} an interrupted transaction (${report.phase ?? 'unreadable'} phase)`;
    const repaired = report.repaired.length > 0 ? `; ${report.repaired.join('; ')}` : '';
    if (report.outcome === 'failed') log.error(`Recovery ${what}${repaired}: ${report.errors.join('; ')}`);
    else
      log.warn(
        `Recovery: ${what}${repaired}; ${report.undone.length > 0 ? `undid ${report.undone.join(', ')}; ` : ''}` +
          `restored ${report.restored.length} and removed ${report.removed.length} files`,
      );
    const undid = report.undone.length > 0 ? `; undid ${report.undone.join(', ')}` : '';
    dialog.note(`Recovered from an interrupted earlier run: ${what}${repaired}${undid}.`);
  }
}
