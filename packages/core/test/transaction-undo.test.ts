import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTransaction } from '../src/transaction/file-transaction.js';
import { recoverJournals } from '../src/transaction/journal-recovery.js';
import { Transaction, type TransactionElement } from '../src/transaction/transaction.js';

let root: string;
let state: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'undo-'));
  state = join(root, 'state');
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

interface JournalBody {
  phase: string;
  undo?: { description: string; commands: string[][] }[];
}

function journals(): string[] {
  return existsSync(state) ? readdirSync(state).filter((n) => n.endsWith('.journal')) : [];
}

function journalOf(): JournalBody {
  const names = journals();
  expect(names).toHaveLength(1);
  return JSON.parse(readFileSync(join(state, names[0] ?? ''), 'utf8')) as JournalBody;
}

/**
 * Like the packages element: `install()` (called while the transaction is prepared) records
 * its undo (`rm <marker>`), then creates the marker; abort removes it in-process.
 */
class MarkerElement implements TransactionElement {
  readonly description: string;
  constructor(
    private readonly tx: Transaction,
    readonly marker: string,
    private readonly abortFails = false,
  ) {
    this.description = `marker ${marker}`;
  }
  async install(): Promise<void> {
    await this.tx.recordUndo(this, { description: this.description, commands: [['rm', '-f', this.marker]] });
    writeFileSync(this.marker, 'installed');
  }
  prepare(): void {}
  commit(): void {}
  abort(): void {
    if (this.abortFails) throw new Error('undo failed');
    rmSync(this.marker, { force: true });
  }
  rollback(): void {
    this.abort();
  }
}

describe('undo records', () => {
  it('are run by recovery of an interrupted transaction, newest first', async () => {
    const tx = new Transaction({ journalDir: state });
    const a = new MarkerElement(tx, join(root, 'a'));
    const b = new MarkerElement(tx, join(root, 'b'));
    await tx.append(a);
    await tx.append(b);
    await tx.prepare();
    await a.install();
    await b.install();
    expect(journalOf().undo?.map((u) => u.description)).toEqual([a.description, b.description]);
    // The run dies here: no commit, no abort.
    const ran: string[][] = [];
    const reports = await recoverJournals(state, {
      runCommand: async (argv) => {
        ran.push([...argv]);
        rmSync(argv[2] ?? '', { force: true });
        return Promise.resolve({ code: 0, output: '' });
      },
    });
    expect(ran).toEqual([
      ['rm', '-f', b.marker],
      ['rm', '-f', a.marker],
    ]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ phase: 'prepare', outcome: 'rolled-back', errors: [] });
    expect(reports[0]?.undone).toEqual([b.description, a.description]);
    expect(existsSync(a.marker) || existsSync(b.marker)).toBe(false);
    expect(journals()).toEqual([]);
  });

  it('run real commands without a shell, along with the file rollback', async () => {
    const target = join(root, 'conf');
    writeFileSync(target, 'old');
    const tx = new Transaction({ journalDir: state });
    const m = new MarkerElement(tx, join(root, 'm'));
    await tx.append(new FileTransaction({ path: target, content: 'new' }));
    await tx.append(m);
    await tx.prepare();
    await m.install();
    await tx.commit();
    expect(journals()).toEqual([]);
    // A second transaction killed before its commit, with a real command recorded.
    const tx2 = new Transaction({ journalDir: state });
    const m2 = new MarkerElement(tx2, join(root, 'with space; touch pwned'));
    await tx2.append(new FileTransaction({ path: target, content: 'newer' }));
    await tx2.append(m2);
    await tx2.prepare();
    await m2.install();
    const reports = await recoverJournals(state);
    expect(reports[0]).toMatchObject({ outcome: 'rolled-back', errors: [] });
    expect(existsSync(m2.marker)).toBe(false);
    expect(existsSync(join(root, 'pwned'))).toBe(false);
    expect(readFileSync(target, 'utf8')).toBe('new\n');
    expect(existsSync(m.marker)).toBe(true); // committed earlier: stays
  });

  it('are cleared when the in-process abort succeeded', async () => {
    const tx = new Transaction({ journalDir: state });
    const m = new MarkerElement(tx, join(root, 'm'));
    const other = new MarkerElement(tx, join(root, 'other'));
    await tx.append(m);
    await tx.append(other);
    await tx.prepare();
    await m.install();
    await other.install();
    await tx.abort();
    expect(existsSync(m.marker)).toBe(false);
    expect(journals()).toEqual([]);
  });

  it('keep the journal when the in-process undo failed, and recovery retries until it works', async () => {
    const tx = new Transaction({ journalDir: state });
    const good = new MarkerElement(tx, join(root, 'good'));
    const bad = new MarkerElement(tx, join(root, 'bad'), true);
    await tx.append(good);
    await tx.append(bad);
    await tx.prepare();
    await good.install();
    await bad.install();
    await tx.abort();
    // Only the failed one is left to undo.
    expect(journalOf().undo?.map((u) => u.description)).toEqual([bad.description]);
    const failing = await recoverJournals(state, {
      runCommand: () => Promise.resolve({ code: 1, output: 'dpkg: locked\n' }),
    });
    expect(failing[0]).toMatchObject({ outcome: 'failed', undone: [] });
    expect(failing[0]?.errors.join()).toContain('exited 1: dpkg: locked');
    expect(journals()).toHaveLength(1);
    const again = await recoverJournals(state);
    expect(again[0]).toMatchObject({ outcome: 'rolled-back', undone: [bad.description], errors: [] });
    expect(existsSync(bad.marker)).toBe(false);
    expect(journals()).toEqual([]);
  });

  it('drop a record that ran cleanly even when another failed, so a rerun does not repeat it', async () => {
    const tx = new Transaction({ journalDir: state });
    const a = new MarkerElement(tx, join(root, 'a'));
    const b = new MarkerElement(tx, join(root, 'b'));
    await tx.append(a);
    await tx.append(b);
    await tx.prepare();
    await a.install();
    await b.install();
    const report = await recoverJournals(state, {
      runCommand: (argv) => Promise.resolve({ code: argv[2] === a.marker ? 2 : 0, output: '' }),
    });
    expect(report[0]).toMatchObject({ outcome: 'failed', undone: [b.description] });
    expect(journalOf().undo?.map((u) => u.description)).toEqual([a.description]);
  });

  it('are dropped by the commit and never run for a committed journal', async () => {
    const tx = new Transaction({ journalDir: state });
    const m = new MarkerElement(tx, join(root, 'm'));
    let ran = false;
    const spy: TransactionElement = {
      description: 'spy',
      prepare: () => undefined,
      commit: () => undefined,
      abort: () => undefined,
    };
    await tx.append(m);
    await tx.append(spy);
    await tx.prepare();
    await m.install();
    expect(journalOf().undo).toHaveLength(1);
    await tx.commit();
    expect(journals()).toEqual([]);
    // A committed journal left by a kill after the committed write: its records are not run.
    const { writeFile, mkdir } = await import('node:fs/promises');
    await mkdir(state, { recursive: true });
    await writeFile(
      join(state, 'transaction-x.journal'),
      JSON.stringify({
        format: 'otopi-transaction-journal/1',
        id: 'x',
        pid: 1,
        phase: 'committed',
        entries: [],
        undo: [{ description: 'd', commands: [['rm', '-f', m.marker]] }],
      }),
    );
    const reports = await recoverJournals(state, {
      runCommand: () => {
        ran = true;
        return Promise.resolve({ code: 0, output: '' });
      },
    });
    expect(ran).toBe(false);
    expect(reports[0]).toMatchObject({ outcome: 'completed', undone: [] });
    expect(existsSync(m.marker)).toBe(true);
  });

  it('are not recorded without a journal folder', async () => {
    const tx = new Transaction();
    const m = new MarkerElement(tx, join(root, 'm'));
    await tx.append(m);
    await tx.prepare();
    expect(await tx.recordUndo(m, { description: 'x', commands: [['true']] })).toBe(false);
  });
});
