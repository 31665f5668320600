import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderAttributes } from '@otopi/core';

const mode = (path: string): number => statSync(path).mode & 0o7777;

describe('FolderAttributes', () => {
  it('gives a folder its mode and owner at commit, and puts the old ones back on rollback', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'otopi-folder-')), 'ssh');
    mkdirSync(dir, { mode: 0o755 });
    const element = new FolderAttributes(dir, { mode: 0o700, uid: 65534, gid: 65534 });
    expect(await element.upToDate()).toBe(false);
    expect(await element.dryRun()).toBe(`${dir}: mode 755, owner 0:0 → mode 700, owner 65534:65534\n`);
    await element.prepare();
    await element.commit();
    expect([mode(dir), statSync(dir).uid]).toEqual([0o700, 65534]);
    expect(await element.upToDate()).toBe(true);
    await element.rollback();
    expect([mode(dir), statSync(dir).uid]).toEqual([0o755, 0]);
  });

  it('leaves an existing folder alone when asked to set only new ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otopi-folder-'));
    const element = new FolderAttributes(dir, { mode: 0o700, uid: 65534, gid: 65534 }, true);
    await element.prepare();
    await element.commit();
    expect([mode(dir), statSync(dir).uid]).toEqual([0o700, 0]);
    expect(await element.dryRun()).toBe('');
  });
});
