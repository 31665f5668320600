/**
 * The start of every run, under the run lock: finishes what a killed earlier run left
 * (`recoverJournals`), and says what it did, in the log and on the console: the outcome of
 * each interrupted transaction, the package changes undone, and the tools (dpkg, rpm) the
 * killed run had left interrupted, with how they were repaired. When one could not be undone,
 * the run stops (`RECOVERY_FAILED`) before it changes anything.
 */
import type { Dialog } from '../dialog/types.js';
import { OtopiError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { recoverJournals } from '../transaction/journal-recovery.js';

export async function recoverInterruptedRuns(journalDir: string, log: Logger, dialog: Dialog): Promise<void> {
  const failed: string[] = [];
  for (const report of await recoverJournals(journalDir, { log })) {
    const what = `${report.outcome} an interrupted transaction (${report.phase ?? 'unreadable'} phase)`;
    const repaired = report.repaired.length > 0 ? `; ${report.repaired.join('; ')}` : '';
    if (report.outcome === 'failed') {
      log.error(`Recovery ${what}${repaired}: ${report.errors.join('; ')}`);
      failed.push(...report.errors);
      continue;
    }
    log.warn(
      `Recovery: ${what}${repaired}; ${report.undone.length > 0 ? `undid ${report.undone.join(', ')}; ` : ''}` +
        `restored ${report.restored.length} and removed ${report.removed.length} files`,
    );
    const undid = report.undone.length > 0 ? `; undid ${report.undone.join(', ')}` : '';
    dialog.note(`Recovered from an interrupted earlier run: ${what}${repaired}${undid}.`);
  }
  // Changes made on top of a half-undone host could not be undone in turn (the journal's copies,
  // of account files for one, would be overwritten): the run stops before it changes anything.
  if (failed.length > 0)
    throw new OtopiError(
      'RECOVERY_FAILED',
      `An interrupted earlier run could not be undone, so this run changes nothing: ${failed.join('; ')}`,
      {
        hint:
          `The journal stays in ${journalDir}, and the next run tries again. Fix what the message names ` +
          '(the log has every command and its output); a journal that cannot be read at all is not left by a ' +
          'kill (journals are replaced whole), and can be moved away once the host is checked by hand.',
      },
    );
}
