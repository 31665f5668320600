import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transaction } from '@otopi/core';
import { describe, expect, it } from 'vitest';
import { CLI, demoArgs, runCli, tempDir } from './helpers.js';

async function waitFor(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function startCli(args: string[], dir: string) {
  return spawn(process.execPath, [CLI, ...args], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      OTOPI_CONFIG: join(dir, 'none.conf'),
      OTOPI_LOGDIR: dir,
      OTOPI_STATEDIR: join(dir, 'state'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('one run at a time, and recovery from a killed commit', () => {
  it('refuses a second run while one holds the lock, naming the holder', async () => {
    const dir = tempDir();
    const first = startCli(demoArgs('DEMO/sleepMs=int:3000'), dir);
    const exited = new Promise<number | null>((r) => first.on('exit', r));
    await waitFor(() => existsSync(join(dir, 'state', 'run.lock')), 'the first run to take the lock');
    const second = runCli(demoArgs(), { dir });
    expect(second.code).toBe(1);
    expect(second.stdout).toContain(`another run holds the lock ${join(dir, 'state', 'run.lock')}: pid ${first.pid}`);
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, 'state', 'run.lock'))).toBe(false);
    expect(runCli(demoArgs(), { dir }).code).toBe(0);
  });

  it('takes over a stale lock whose process is gone', () => {
    const dir = tempDir();
    const r0 = runCli(demoArgs(), { dir }); // creates the state folder
    expect(r0.code).toBe(0);
    writeFileSync(
      join(dir, 'state', 'run.lock'),
      JSON.stringify({ pid: 2 ** 22 + 12345, start: '1', command: 'ghost', since: 'then' }),
    );
    const r = runCli(demoArgs(), { dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Took over a stale run lock of pid');
  });

  it('rolls back a commit killed midway on the next run', async () => {
    const dir = tempDir();
    const out = join(dir, 'greetings.txt');
    writeFileSync(out, 'before the killed run\n');
    const marker = join(dir, 'committing');
    const child = startCli(demoArgs(`DEMO/outputFile=str:${out}`, `DEMO/hangInCommit=str:${marker}`), dir);
    const exited = new Promise((r) => child.on('exit', r));
    await waitFor(() => existsSync(marker), 'the commit to start');
    // The file element committed before the hanging one: the new content is in place now.
    expect(readFileSync(out, 'utf8')).toBe('hello world #1\n');
    child.kill('SIGKILL');
    await exited;
    expect(readdirSync(join(dir, 'state', 'journal')).some((f) => f.endsWith('.journal'))).toBe(true);
    const next = runCli(demoArgs(), { dir });
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('Recovered from an interrupted earlier run: rolled-back');
    expect(readFileSync(out, 'utf8')).toBe('before the killed run\n');
    expect(readdirSync(join(dir, 'state', 'journal')).filter((f) => f.endsWith('.journal'))).toEqual([]);
  });

  it('changes nothing when an interrupted run cannot be undone, keeps the journal, and recovers later', async () => {
    const dir = tempDir();
    const out = join(dir, 'greetings.txt');
    writeFileSync(out, 'before\n');
    const journals = join(dir, 'state', 'journal');
    // A journal whose undo cannot work yet: its command fails while the file `blocked` exists
    // (a package manager another process holds, a repository down).
    const blocked = join(dir, 'blocked');
    const undone = join(dir, 'undone');
    writeFileSync(blocked, '');
    const first = runCli(demoArgs(), { dir });
    expect(first.code).toBe(0);
    // The journal a run killed after its package step would leave (the runtime's own writer).
    const tx = new Transaction({ journalDir: journals });
    const element = { description: 'packages (test)', prepare() {}, commit() {}, abort() {} };
    await tx.append(element);
    await tx.prepare();
    await tx.recordUndo(element, {
      description: 'packages (test) changes',
      commands: [['/bin/sh', '-c', `[ ! -e '${blocked}' ] && touch '${undone}'`]],
    });
    const journal = readdirSync(journals).find((f) => f.endsWith('.journal'));
    expect(journal).toBeDefined();
    const stopped = runCli(demoArgs(`DEMO/outputFile=str:${out}`), { dir });
    expect(stopped.code, stopped.stdout).toBe(1);
    expect(stopped.stdout).toContain('An interrupted earlier run could not be undone, so this run changes nothing');
    expect(stopped.stdout).not.toContain('Recovered from an interrupted earlier run');
    expect(readFileSync(out, 'utf8')).toBe('before\n');
    expect(readdirSync(journals)).toContain(journal);
    // Once the cause is gone, the next run undoes it and goes on.
    rmSync(blocked);
    const next = runCli(demoArgs(`DEMO/outputFile=str:${out}`), { dir });
    expect(next.code, next.stdout).toBe(0);
    expect(existsSync(undone)).toBe(true);
    expect(readdirSync(journals)).not.toContain(journal);
    expect(readFileSync(out, 'utf8')).toBe('hello world #1\n');
  });
});
