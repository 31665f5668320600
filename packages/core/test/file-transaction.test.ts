import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isOtopiError, type OtopiError } from '../src/errors.js';
import { FileTransaction } from '../src/transaction/file-transaction.js';
import { Transaction, type TransactionElement } from '../src/transaction/transaction.js';

const NOBODY = 65534;
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'file-tx-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(root, { recursive: true, force: true });
});

function put(name: string, content: string, mode = 0o644): string {
  const path = join(root, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
}

function listing(dir = root): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

async function commitOne(tx: FileTransaction): Promise<void> {
  await tx.prepare();
  await tx.commit();
}

describe('FileTransaction content', () => {
  it.each([
    [['a', 'b'], 'a\nb\n'],
    [[], ''],
    ['x', 'x\n'],
    ['x\n', 'x\n'],
    ['', ''],
    [Buffer.from('raw'), 'raw'],
  ] as const)('encodes %j as %j', (content, expected) => {
    expect(new FileTransaction({ path: '/x', content }).content.toString()).toBe(expected);
  });

  it('rejects a relative path', () => {
    let error: unknown;
    try {
      new FileTransaction({ path: 'etc/hosts', content: 'x' });
    } catch (e) {
      error = e;
    }
    expect(isOtopiError(error, 'FILE_WRITE')).toBe(true);
    expect((error as OtopiError).place.file).toBe('etc/hosts');
  });
});

describe('FileTransaction', () => {
  it('does nothing when the content is already there', async () => {
    const path = put('same.conf', 'a\nb\n', 0o600);
    const before = statSync(path);
    const modified: string[] = [];
    const tx = new FileTransaction({ path, content: ['a', 'b'], modifiedFiles: modified, mode: 0o644 });
    await commitOne(tx);
    expect(tx.changed).toBe(false);
    expect(statSync(path).ino).toBe(before.ino);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
    expect(listing()).toEqual(['same.conf']);
    expect(modified).toEqual([]);
    expect(await tx.dryRun()).toBe('');
  });

  it('creates a new file and its missing directories, and abort removes both', async () => {
    const path = join(root, 'x/y/new.conf');
    const modified: string[] = [];
    const tx = new FileTransaction({ path, content: 'hello', dirMode: 0o750, modifiedFiles: modified });
    await tx.prepare();
    expect(tx.changed).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect(statSync(join(root, 'x')).mode & 0o7777).toBe(0o750);
    expect(listing()).toEqual(['x', 'x/y', expect.stringMatching(/^x\/y\/\.new\.conf\.[0-9a-f]{12}\.tmp$/)]);
    await tx.commit();
    expect(readFileSync(path, 'utf8')).toBe('hello\n');
    expect(statSync(path).mode & 0o7777).toBe(0o644);
    expect(modified).toEqual([path]);
    expect(listing()).toEqual(['x', 'x/y', 'x/y/new.conf']);
    await tx.abort();
    expect(listing()).toEqual([]);
    expect(modified).toEqual([]);
  });

  it('keeps the mode and owner of an existing file', async () => {
    const path = put('kept.conf', 'old\n', 0o640);
    chownSync(path, NOBODY, NOBODY);
    const tx = new FileTransaction({ path, content: 'new', mode: 0o600, owner: 0, group: 0, backup: false });
    await commitOne(tx);
    const st = statSync(path);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, NOBODY, NOBODY]);
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(listing()).toEqual(['kept.conf']);
  });

  it('applies mode and owner with enforcePermissions, even when the bytes are the same', async () => {
    const path = put('enforced.conf', 'same\n', 0o644);
    const tx = new FileTransaction({
      path,
      content: 'same',
      mode: 0o600,
      owner: 'nobody',
      group: NOBODY,
      enforcePermissions: true,
      backup: false,
    });
    expect(await tx.dryRun()).toBe(
      `old mode 0644\nnew mode 0600\nold owner 0:0\nnew owner ${NOBODY}:${NOBODY}\n--- a${path}\n+++ b${path}\n`,
    );
    await commitOne(tx);
    expect(tx.changed).toBe(true);
    const st = statSync(path);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o600, NOBODY, NOBODY]);
  });

  it('gives a new file the requested owner and mode', async () => {
    const path = join(root, 'owned.conf');
    await commitOne(new FileTransaction({ path, content: 'x', mode: 0o4750, owner: NOBODY, group: 'nogroup' }));
    const st = statSync(path);
    expect([st.mode & 0o7777, st.uid]).toEqual([0o4750, NOBODY]);
  });

  it('backs up the previous file as <path>.<YYYYmmddHHMMSS>, with a counter when taken', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(2024, 0, 2, 3, 4, 5));
    const path = put('b.conf', 'v1\n', 0o640);
    chownSync(path, NOBODY, 0);
    await commitOne(new FileTransaction({ path, content: 'v2' }));
    await commitOne(new FileTransaction({ path, content: 'v3' }));
    expect(listing()).toEqual(['b.conf', 'b.conf.20240102030405', 'b.conf.20240102030405.1']);
    expect(readFileSync(`${path}.20240102030405`, 'utf8')).toBe('v1\n');
    expect(readFileSync(`${path}.20240102030405.1`, 'utf8')).toBe('v2\n');
    const st = statSync(`${path}.20240102030405`);
    expect([st.mode & 0o7777, st.uid]).toEqual([0o640, NOBODY]);
    expect(readFileSync(path, 'utf8')).toBe('v3\n');
  });

  it('writes through a symbolic link instead of replacing it', async () => {
    const real = put('real.conf', 'old\n');
    const link = join(root, 'link.conf');
    symlinkSync(real, link);
    await commitOne(new FileTransaction({ path: link, content: 'new', backup: false }));
    expect(readFileSync(real, 'utf8')).toBe('new\n');
    expect(statSync(link).isFile()).toBe(true);
    expect(readdirSync(root).sort()).toEqual(['link.conf', 'real.conf']);
  });

  it('refuses to replace a directory', async () => {
    mkdirSync(join(root, 'd'));
    const error = await new FileTransaction({ path: join(root, 'd'), content: 'x' }).prepare().catch((e: unknown) => e);
    expect(isOtopiError(error, 'FILE_WRITE')).toBe(true);
    expect((error as OtopiError).message).toContain('not a regular file');
  });

  it('rolls back a committed file: the previous inode returns and the backup goes', async () => {
    const path = put('r.conf', 'old\n', 0o600);
    const ino = statSync(path).ino;
    const modified: string[] = [];
    const tx = new FileTransaction({ path, content: 'new', modifiedFiles: modified });
    await commitOne(tx);
    expect(listing()).toHaveLength(2);
    await tx.rollback();
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    expect(statSync(path).ino).toBe(ino);
    expect(listing()).toEqual(['r.conf']);
    expect(modified).toEqual([]);
  });

  it('rolls back without a backup from the saved bytes', async () => {
    const path = put('nb.conf', 'old\n', 0o600);
    chownSync(path, NOBODY, NOBODY);
    const tx = new FileTransaction({ path, content: 'new', backup: false });
    await commitOne(tx);
    await tx.abort();
    const st = statSync(path);
    expect([readFileSync(path, 'utf8'), st.mode & 0o7777, st.uid, st.gid]).toEqual(['old\n', 0o600, NOBODY, NOBODY]);
    expect(listing()).toEqual(['nb.conf']);
  });

  it('shows a unified diff with three lines of context', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    const path = put('diff.conf', `${lines.join('\n')}\n`);
    const next = [...lines];
    next[4] = 'line five';
    next.splice(15, 1);
    next.push('added');
    const tx = new FileTransaction({ path, content: next });
    expect(await tx.dryRun()).toBe(
      [
        `--- a${path}`,
        `+++ b${path}`,
        '@@ -2,7 +2,7 @@',
        ' line 2',
        ' line 3',
        ' line 4',
        '-line 5',
        '+line five',
        ' line 6',
        ' line 7',
        ' line 8',
        '@@ -13,8 +13,8 @@',
        ' line 13',
        ' line 14',
        ' line 15',
        '-line 16',
        ' line 17',
        ' line 18',
        ' line 19',
        ' line 20',
        '+added',
        '',
      ].join('\n'),
    );
    expect(listing()).toEqual(['diff.conf']);
  });

  it('diffs a new file against /dev/null', async () => {
    const path = join(root, 'fresh.conf');
    const tx = new FileTransaction({ path, content: ['a', 'b'], mode: 0o600, owner: NOBODY, group: NOBODY });
    expect(await tx.dryRun()).toBe(
      `new file mode 0600, owner ${NOBODY}:${NOBODY}\n--- /dev/null\n+++ b${path}\n@@ -0,0 +1,2 @@\n+a\n+b\n`,
    );
    expect(await new FileTransaction({ path, content: Buffer.from([0, 1, 2]) }).dryRun()).toBe(
      `new file mode 0644\nBinary files /dev/null and b${path} differ\n`,
    );
  });
});

describe('FileTransaction in a Transaction', () => {
  it('a prepare failure aborts everything and leaves every file as it was', async () => {
    const a = put('a.conf', 'A\n');
    const b = put('b.conf', 'B\n', 0o600);
    put('blocker', 'a file where a directory should be\n');
    const before = listing();
    const t = new Transaction({
      elements: [
        new FileTransaction({ path: a, content: 'A2' }),
        new FileTransaction({ path: join(root, 'new/dir/c.conf'), content: 'C' }),
        new FileTransaction({ path: b, content: 'B2' }),
        new FileTransaction({ path: join(root, 'blocker/d.conf'), content: 'D' }),
        new FileTransaction({ path: join(root, 'e.conf'), content: 'E' }),
      ],
    });
    const error = await t.prepare().catch((e: unknown) => e);
    expect(isOtopiError(error, 'TRANSACTION_PREPARE')).toBe(true);
    expect((error as OtopiError).place.file).toBe(join(root, 'blocker/d.conf'));
    expect(listing()).toEqual(before);
    expect([readFileSync(a, 'utf8'), readFileSync(b, 'utf8')]).toEqual(['A\n', 'B\n']);
  });

  it('a commit failure midway rolls back the files already committed', async () => {
    const a = put('a.conf', 'A\n', 0o640);
    const b = put('b.conf', 'B\n');
    const inoA = statSync(a).ino;
    const before = listing();
    const modified: string[] = [];
    const failing: TransactionElement = {
      description: 'service restart',
      prepare: () => undefined,
      commit: () => {
        throw new Error('systemctl failed');
      },
      abort: () => undefined,
    };
    const t = new Transaction({
      elements: [
        new FileTransaction({ path: a, content: 'A2', modifiedFiles: modified }),
        new FileTransaction({ path: join(root, 'n/c.conf'), content: 'C', modifiedFiles: modified }),
        new FileTransaction({ path: b, content: 'B2', backup: false, modifiedFiles: modified }),
        failing,
        new FileTransaction({ path: join(root, 'late.conf'), content: 'L', modifiedFiles: modified }),
      ],
    });
    await t.prepare();
    const error = await t.commit().catch((e: unknown) => e);
    expect(isOtopiError(error, 'TRANSACTION_COMMIT')).toBe(true);
    expect((error as OtopiError).message).toBe(
      'Cannot commit service restart: systemctl failed (rolled back 3 committed element(s))',
    );
    expect(listing()).toEqual(before);
    expect([readFileSync(a, 'utf8'), readFileSync(b, 'utf8')]).toEqual(['A\n', 'B\n']);
    expect(statSync(a).ino).toBe(inoA);
    expect(modified).toEqual([]);
    expect(t.modifiedFiles).toEqual([]);
  });

  it('a file whose own commit fails is undone with the others', async () => {
    const a = put('a.conf', 'A\n');
    const b = put('b.conf', 'B\n');
    const before = listing();
    const second = new FileTransaction({ path: b, content: 'B2' });
    const t = new Transaction({ elements: [new FileTransaction({ path: a, content: 'A2' }), second] });
    await t.prepare();
    // Pull the prepared temp file away so the rename fails.
    for (const name of readdirSync(root)) if (name.startsWith('.b.conf.')) rmSync(join(root, name));
    const error = await t.commit().catch((e: unknown) => e);
    expect(isOtopiError(error, 'TRANSACTION_COMMIT')).toBe(true);
    expect(((error as OtopiError).cause as OtopiError).code).toBe('FILE_WRITE');
    expect((error as OtopiError).message).toMatch(
      /^Cannot replace .*\/b\.conf: ENOENT.*\(rolled back 1 committed element\(s\)\)$/,
    );
    expect(listing()).toEqual(before);
    expect(readFileSync(a, 'utf8')).toBe('A\n');
  });

  it('lists what the commit changed', async () => {
    const a = put('a.conf', 'A\n');
    const t = new Transaction({
      elements: [
        new FileTransaction({ path: a, content: 'A' }),
        new FileTransaction({ path: join(root, 'b.conf'), content: 'B' }),
      ],
    });
    await t.prepare();
    await t.commit();
    expect(t.modifiedFiles).toEqual([join(root, 'b.conf')]);
  });
});

describe('FileTransaction on a full file system', () => {
  it('fails cleanly with ENOSPC and leaves the previous file byte-identical', async () => {
    const mnt = join(root, 'mnt');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    try {
      const path = join(mnt, 'app.conf');
      const old = Buffer.from('old content\n'.repeat(100));
      writeFileSync(path, old, { mode: 0o640 });
      // Fill what is left, a page at a time.
      const page = Buffer.alloc(4096, 120);
      try {
        for (let i = 0; i < 64; i++) appendFileSync(join(mnt, 'filler'), page);
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      const before = readdirSync(mnt).sort();
      const t = new Transaction({
        journalDir: join(root, 'state'),
        elements: [new FileTransaction({ path, content: 'new content\n'.repeat(1000) })],
      });
      const error = await t.prepare().catch((e: unknown) => e);
      expect(isOtopiError(error, 'TRANSACTION_PREPARE')).toBe(true);
      const cause = (error as OtopiError).cause as OtopiError;
      expect(cause.code).toBe('FILE_WRITE');
      expect(((cause.cause ?? {}) as NodeJS.ErrnoException).code).toBe('ENOSPC');
      expect((error as OtopiError).hint).toBe(`Free some space on the file system holding ${mnt}.`);
      expect((error as OtopiError).message).toMatch(
        new RegExp(`^Cannot write ${path}: ENOSPC: no space left on device`),
      );
      expect(readFileSync(path).equals(old)).toBe(true);
      expect(statSync(path).mode & 0o7777).toBe(0o640);
      expect(readdirSync(mnt).sort()).toEqual(before);
      expect(readdirSync(join(root, 'state'))).toEqual([]);
      await expect(t.commit()).rejects.toMatchObject({ code: 'TRANSACTION_STATE' });

      // With room again the same change goes through.
      rmSync(join(mnt, 'filler'));
      const retry = new Transaction({
        elements: [new FileTransaction({ path, content: 'new content\n'.repeat(1000) })],
      });
      await retry.prepare();
      await retry.commit();
      expect(readFileSync(path, 'utf8')).toBe('new content\n'.repeat(1000));
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
