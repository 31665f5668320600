import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OtopiError, RunLock, isOtopiError } from '@otopi/core';

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
    // Each child loads the built core, says it is ready, waits on a barrier (its stdin), then
    // takes the lock at once and, if it got it, holds it for 100 ms. Hold intervals are measured
    // on the machine's one clock; no two may overlap.
    const core = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const child = `
      import { RunLock } from ${JSON.stringify(core)};
      const now = () => performance.timeOrigin + performance.now();
      process.stdin.once('data', async () => {
        const lock = new RunLock(process.argv[1]);
        try { await lock.acquire(); } catch (e) { process.stdout.write(JSON.stringify({ code: e.code })); process.exit(0); }
        const from = now();
        setTimeout(() => {
          const to = now();
          lock.release();
          process.stdout.write(JSON.stringify({ code: 'HELD', from, to }));
          process.exit(0);
        }, 100);
      });
      process.stdout.write('ready\\n');`;
    const rounds = 25;
    const perRound = 6;
    const holds: { from: number; to: number; round: number }[] = [];
    let refused = 0;
    for (let round = 0; round < rounds; round++) {
      const path = lockPath();
      const procs = Array.from({ length: perRound }, () =>
        spawn(process.execPath, ['--input-type=module', '-e', child, path], { stdio: ['pipe', 'pipe', 'inherit'] }),
      );
      const outputs = procs.map(
        (p) =>
          new Promise<{ ready: Promise<void>; out: Promise<string> }>((resolveAll) => {
            let out = '';
            let ready!: () => void;
            const readyP = new Promise<void>((r) => (ready = r));
            const outP = new Promise<string>((resolve) => {
              p.stdout.on('data', (d: Buffer) => {
                out += d.toString();
                if (out.startsWith('ready\n')) ready();
              });
              p.on('close', () => resolve(out.replace(/^ready\n/, '')));
            });
            resolveAll({ ready: readyP, out: outP });
          }),
      );
      const children = await Promise.all(outputs);
      await Promise.all(children.map((c) => c.ready));
      for (const p of procs) p.stdin.write('go\n');
      for (const text of await Promise.all(children.map((c) => c.out))) {
        const r = JSON.parse(text) as { code: string; from?: number; to?: number };
        if (r.code === 'HELD' && r.from !== undefined && r.to !== undefined) holds.push({ from: r.from, to: r.to, round });
        else if (r.code === 'RUN_LOCKED') refused++;
        else throw new Error(`unexpected child result ${text}`);
      }
    }
    // The barrier made them compete: most attempts were refused.
    expect(refused).toBeGreaterThan(rounds * (perRound - 2));
    for (let round = 0; round < rounds; round++) {
      const mine = holds.filter((h) => h.round === round).sort((a, b) => a.from - b.from);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.from).toBeGreaterThanOrEqual(mine[i - 1]!.to);
    }
  }, 120_000);

  it('names the lock file of a run in the refusal, never its statement values', async () => {
    const path = lockPath();
    const first = new RunLock(path);
    await first.acquire();
    const holder = JSON.parse(readFileSync(path, 'utf8')) as { command: string };
    expect(holder.command).not.toMatch(/=[^…]/);
    first.release();
  });
});
