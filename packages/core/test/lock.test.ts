import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { OtopiError } from '@otopi/core';
import { RunLock, isOtopiError } from '@otopi/core';
import { recordFigure } from '../../../test/reliability/support/figures.js';
import { raceProcesses } from '../../../test/support/barrier.js';

const lockPath = (): string => join(mkdtempSync(join(tmpdir(), 'otopi-lock-')), 'sub', 'run.lock');

async function refusal(path: string): Promise<OtopiError> {
  try {
    await new RunLock(path).acquire();
  } catch (error) {
    if (isOtopiError(error)) return error;
    throw error;
  }
  throw new Error('the second acquire was not refused');
}

describe('RunLock', () => {
  it('refuses a second holder with RUN_LOCKED, naming the first; frees the lock on release', async () => {
    const path = lockPath();
    const first = new RunLock(path);
    expect((await first.acquire()).tookOverStale).toBeUndefined();
    const error = await refusal(path);
    expect(error.code).toBe('RUN_LOCKED');
    expect(error.message).toContain(`pid ${process.pid}`);
    first.release();
    expect(existsSync(path)).toBe(false);
    const again = new RunLock(path);
    await again.acquire();
    again.release();
  });

  it('reports the left-over holder file of a run that is gone, and of a reused pid', async () => {
    const path = lockPath();
    const first = new RunLock(path);
    await first.acquire();
    first.release();
    writeFileSync(path, JSON.stringify({ pid: 2 ** 22 + 99, start: '5', command: 'gone', since: 'x' }));
    const second = new RunLock(path);
    expect((await second.acquire()).tookOverStale?.pid).toBe(2 ** 22 + 99);
    second.release();
    // pid 1 runs, but not the process that wrote the file (another start time): it is gone.
    writeFileSync(path, JSON.stringify({ pid: 1, start: 'not-its-start-time', command: 'reused pid', since: 'x' }));
    const third = new RunLock(path);
    expect((await third.acquire()).tookOverStale?.command).toBe('reused pid');
    third.release();
  });

  it('does not take a live lock for a stale one when its holder file is empty or torn', async () => {
    const path = lockPath();
    const first = new RunLock(path);
    await first.acquire();
    for (const text of ['', '{"pid": 12']) {
      writeFileSync(path, text);
      const error = await refusal(path);
      expect(error.code).toBe('RUN_LOCKED');
      expect(error.message).toContain('a run that is starting');
    }
    first.release();
  });

  it('is never held by two of many processes started together', async () => {
    // Released together by a barrier, each process takes the lock at once and, if it got it,
    // holds it for 100 ms. Hold intervals are measured on the machine's one clock; no two overlap.
    const core = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    // Half the rounds start over the holder file of a killed run: the old lock's stale takeover
    // let two racers both remove it and both take the lock.
    const prelude = `const { RunLock } = await import(${JSON.stringify(core)});`;
    const script = `
      const now = () => performance.timeOrigin + performance.now();
      const lock = new RunLock(process.argv[1]);
      try { await lock.acquire(); } catch (e) { process.stdout.write(JSON.stringify({ code: e.code })); process.exit(0); }
      const from = now();
      await new Promise((r) => setTimeout(r, 100));
      const to = now();
      lock.release();
      process.stdout.write(JSON.stringify({ code: 'HELD', from, to }));`;
    const rounds = 12;
    const perRound = 5;
    let refused = 0;
    let overlaps = 0;
    for (let round = 0; round < rounds; round++) {
      const path = lockPath();
      if (round % 2 === 0) {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, JSON.stringify({ pid: 2 ** 22 + 99, start: '5', command: 'killed', since: 'x' }));
      }
      const results = (
        await raceProcesses(
          { prelude, script },
          Array.from({ length: perRound }, () => [path]),
        )
      ).map((text) => JSON.parse(text) as { code: string; from?: number; to?: number });
      refused += results.filter((r) => r.code === 'RUN_LOCKED').length;
      const holds = results
        .filter((r) => r.code === 'HELD')
        .map((r) => ({ from: r.from ?? NaN, to: r.to ?? NaN }))
        .sort((a, b) => a.from - b.from);
      expect(holds.length + results.filter((r) => r.code === 'RUN_LOCKED').length).toBe(perRound);
      for (let i = 1; i < holds.length; i++) if (holds[i]!.from < holds[i - 1]!.to) overlaps++;
    }
    recordFigure({
      item: 'concurrency',
      part: 'run lock',
      line: `concurrency (run lock): ${rounds * perRound} processes released together in rounds of ${perRound} (half of them over a killed run's lock file): ${overlaps} overlapping holders, ${refused} refused with RUN_LOCKED`,
      ok: overlaps === 0 ? 1 : 0,
      total: 1,
    });
    expect(overlaps).toBe(0);
    // The barrier made them compete: most attempts were refused.
    expect(refused).toBeGreaterThan(rounds * (perRound - 2));
  }, 300_000);

  it('names the lock file of a run in the refusal, never its statement values', async () => {
    const path = lockPath();
    const first = new RunLock(path);
    await first.acquire();
    const holder = JSON.parse(readFileSync(path, 'utf8')) as { command: string };
    expect(holder.command).not.toMatch(/=[^…]/);
    first.release();
  });
});
