import { describe, expect, it } from 'vitest';
import { isOtopiError } from '../src/errors.js';
import { RunLog, type ConsoleRecord } from '../src/log/logger.js';
import { Redactor } from '../src/log/redact.js';

const redactor = new Redactor({ secrets: () => [], protectedNames: () => [] });

// /dev/full fails every write with ENOSPC: a full disk (found by test/reliability).
describe('RunLog on a full disk', () => {
  it('refuses to open a log file it cannot write, with a coded error naming it', () => {
    const log = new RunLog({ redactor });
    log.logger.info('logged before the file opens');
    let error: unknown;
    try {
      log.open('/dev/full');
    } catch (e) {
      error = e;
    }
    expect(isOtopiError(error, 'FILE_WRITE')).toBe(true);
    expect((error as Error).message).toMatch(/^Cannot write the log file \/dev\/full: ENOSPC/);
  });

  it('gives the file up when a later write fails, keeps logging in memory, and says so once', () => {
    const shown: ConsoleRecord[] = [];
    const log = new RunLog({ redactor, console: (r) => shown.push(r) });
    log.open('/dev/full');
    log.logger.debug('first');
    log.logger.debug('second');
    expect(log.text()).toMatch(/first[\s\S]*second/);
    expect(shown.map((r) => r.level)).toEqual(['WARNING']);
    expect(shown[0]?.message).toMatch(/^The log file \/dev\/full can no longer be written \(ENOSPC/);
  });
});
