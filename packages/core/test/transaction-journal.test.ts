import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTransaction } from '../src/transaction/file-transaction.js';
import { recoverJournals } from '../src/transaction/journal-recovery.js';
import { Transaction, type TransactionElement } from '../src/transaction/transaction.js';

let root: string;
let state: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'journal-'));
  state = join(root, 'state');
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function put(name: string, content: string): string {
  const path = join(root, name);
  writeFileSync(path, content);
  return path;
}

/** Everything under `etc`, with each file's content. */
function tree(): Record<string, string> {
  const dir = join(root, 'etc');
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const path = join(dir, name);
    out[name] = statSync(path).isDirectory() ? '<dir>' : readFileSync(path, 'utf8');
  }
  return out;
}

function journalOf(): { phase: string; entries: { path: string; previous?: string | null }[] } {
  const names = readdirSync(state).filter((n) => n.endsWith('.journal'));
  expect(names).toHaveLength(1);
  return JSON.parse(readFileSync(join(state, names[0] ?? ''), 'utf8')) as ReturnType<typeof journalOf>;
}

/** An element whose commit never finishes: the run "dies" there. */
function hang(): TransactionElement {
  return {
    description: 'hang',
    prepare: () => undefined,
    commit: () => new Promise<void>(() => undefined),
    abort: () => undefined,
  };
}

function files(): FileTransaction[] {
  return [
    new FileTransaction({ path: join(root, 'etc/a.conf'), content: 'A2' }),
    new FileTransaction({ path: join(root, 'etc/new/deep/b.conf'), content: 'B' }),
    new FileTransaction({ path: join(root, 'etc/c.conf'), content: 'C2', backup: false }),
    new FileTransaction({ path: join(root, 'etc/same.conf'), content: 'S' }),
  ];
}

function oldTree(): Record<string, string> {
  mkdirSync(join(root, 'etc'));
  put('etc/a.conf', 'A\n');
  put('etc/c.conf', 'C\n');
  put('etc/same.conf', 'S\n');
  return tree();
}

describe('commit journal', () => {
  it('exists from prepare to the end of the commit', async () => {
    oldTree();
    const t = new Transaction({ journalDir: state, id: 'x1', elements: files() });
    await t.prepare();
    const j = journalOf();
    expect(j.phase).toBe('prepare');
    expect(j.entries.map((e) => e.path)).toEqual(
      ['a.conf', 'new/deep/b.conf', 'c.conf', 'same.conf'].map((n) => join(root, 'etc', n)),
    );
    await t.commit();
    expect(readdirSync(state)).toEqual([]);
    expect(Object.keys(tree())).toEqual([
      'a.conf',
      expect.stringMatching(/^a\.conf\.\d{14}$/),
      'c.conf',
      'new',
      'new/deep',
      'new/deep/b.conf',
      'same.conf',
    ]);
  });

  it('journals an element appended after prepare before preparing it', async () => {
    const before = oldTree();
    const t = new Transaction({ journalDir: state, elements: files() });
    await t.prepare();
    await t.append(new FileTransaction({ path: join(root, 'etc/late/x.conf'), content: 'X' }));
    expect(journalOf().entries.map((e) => e.path)).toContain(join(root, 'etc/late/x.conf'));
    expect(existsSync(join(root, 'etc/late'))).toBe(true);
    await recoverJournals(state);
    expect(tree()).toEqual(before);
  });

  it('keeps earlier appended elements to abort when the journal cannot take a later one', async () => {
    const t = new Transaction({ journalDir: state });
    await t.prepare();
    const first = join(root, 'etc/a.conf');
    mkdirSync(join(root, 'etc'), { recursive: true });
    await t.append(new FileTransaction({ path: first, content: 'A' }));
    // The journal folder turns into a file: the next journal write fails (a full disk, found by test/reliability).
    rmSync(state, { recursive: true });
    writeFileSync(state, '');
    await expect(t.append(new FileTransaction({ path: join(root, 'etc/b.conf'), content: 'B' }))).rejects.toThrow(
      /Cannot prepare the commit journal for file .*b\.conf/,
    );
    await t.abort();
    expect(readdirSync(join(root, 'etc'))).toEqual([]);
  });

  it('is removed after an abort and after a rolled-back commit', async () => {
    const before = oldTree();
    const t = new Transaction({ journalDir: state, elements: files() });
    await t.prepare();
    await t.abort();
    expect(readdirSync(state)).toEqual([]);
    const failing: TransactionElement = { ...hang(), commit: () => Promise.reject(new Error('boom')) };
    const t2 = new Transaction({ journalDir: state, elements: [...files(), failing] });
    await t2.prepare();
    await expect(t2.commit()).rejects.toMatchObject({ code: 'TRANSACTION_COMMIT' });
    expect(readdirSync(state)).toEqual([]);
    expect(tree()).toEqual(before);
  });

  it('recovery after a death between prepare and commit removes temps and created directories', async () => {
    const before = oldTree();
    const t = new Transaction({ journalDir: state, elements: files() });
    await t.prepare();
    expect(Object.keys(tree()).some((n) => n.endsWith('.tmp'))).toBe(true);
    const [report, ...more] = await recoverJournals(state);
    expect(more).toEqual([]);
    expect(report).toMatchObject({ phase: 'prepare', outcome: 'rolled-back', restored: [], errors: [] });
    expect(tree()).toEqual(before);
    expect(readdirSync(state)).toEqual([]);
    expect(await recoverJournals(state)).toEqual([]);
  });

  it('recovery after a death mid-commit puts every file back', async () => {
    const before = oldTree();
    const inode = statSync(join(root, 'etc/a.conf')).ino;
    const t = new Transaction({ journalDir: state, elements: [...files(), hang()] });
    await t.prepare();
    void t.commit();
    while (
      !existsSync(join(root, 'etc/new/deep/b.conf')) ||
      readFileSync(join(root, 'etc/c.conf'), 'utf8') !== 'C2\n'
    ) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(journalOf().phase).toBe('commit');
    const [report] = await recoverJournals(state);
    expect(report).toMatchObject({ phase: 'commit', outcome: 'rolled-back', errors: [] });
    expect(report?.restored).toEqual([join(root, 'etc/c.conf'), join(root, 'etc/a.conf')]);
    expect(report?.removed).toContain(join(root, 'etc/new/deep/b.conf'));
    expect(tree()).toEqual(before);
    expect(statSync(join(root, 'etc/a.conf')).ino).toBe(inode);
    expect(readdirSync(state)).toEqual([]);
  });

  it('recovery after a death once committed keeps the change and drops undo links', async () => {
    oldTree();
    class Stuck extends FileTransaction {
      override journalFinish(): Promise<void> {
        return new Promise<void>(() => undefined);
      }
    }
    const t = new Transaction({
      journalDir: state,
      elements: [...files(), new Stuck({ path: join(root, 'etc/z.conf'), content: 'Z' })],
    });
    await t.prepare();
    void t.commit();
    while (!existsSync(state) || readdirSync(state).length === 0 || journalOf().phase !== 'committed') {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const [report] = await recoverJournals(state);
    expect(report).toMatchObject({ phase: 'committed', outcome: 'completed', restored: [], errors: [] });
    const after = tree();
    expect(Object.keys(after).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(after).toMatchObject({ 'a.conf': 'A2\n', 'c.conf': 'C2\n', 'new/deep/b.conf': 'B\n', 'z.conf': 'Z\n' });
    expect(Object.keys(after).filter((n) => /^a\.conf\.\d{14}$/.test(n))).toHaveLength(1);
  });

  it('keeps a journal it cannot read and removes half-written ones', async () => {
    mkdirSync(state);
    writeFileSync(join(state, 'transaction-bad.journal'), '{"format":"something else"}');
    writeFileSync(join(state, '.transaction-x.abc.tmp'), '{"trunc');
    const [report] = await recoverJournals(state);
    expect(report).toMatchObject({ id: 'bad', outcome: 'failed', phase: undefined });
    expect(report?.errors[0]).toContain('unknown journal format');
    expect(readdirSync(state)).toEqual(['transaction-bad.journal']);
    expect(await recoverJournals(join(root, 'missing'))).toEqual([]);
  });
});
