import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunLock, isOtopiError } from '@otopi/core';

const lockPath = (): string => join(mkdtempSync(join(tmpdir(), 'otopi-lock-')), 'sub', 'run.lock');

describe('RunLock', () => {
  it('refuses a second holder and names the first', () => {
    const path = lockPath();
    const first = new RunLock(path);
    expect(first.acquire().tookOverStale).toBeUndefined();
    let message = '';
    try {
      new RunLock(path).acquire();
    } catch (error) {
      if (isOtopiError(error)) message = error.message;
    }
    expect(message).toContain(`pid ${process.pid}`);
    first.release();
    expect(() => readFileSync(path)).toThrow();
  });

  it('takes over a lock whose pid is gone, or whose pid now runs another process', () => {
    const path = lockPath();
    new RunLock(path).acquire();
    writeFileSync(path, JSON.stringify({ pid: 2 ** 22 + 99, start: '5', command: 'gone', since: 'x' }));
    expect(new RunLock(path).acquire().tookOverStale?.pid).toBe(2 ** 22 + 99);
    writeFileSync(
      path,
      JSON.stringify({ pid: process.pid, start: 'not-our-start-time', command: 'reused pid', since: 'x' }),
    );
    expect(new RunLock(path).acquire().tookOverStale?.command).toBe('reused pid');
  });

  it('treats a torn lock file as stale', () => {
    const path = lockPath();
    new RunLock(path).acquire();
    writeFileSync(path, '{"pid": 12');
    expect(() => new RunLock(path).acquire()).not.toThrow();
  });
});
