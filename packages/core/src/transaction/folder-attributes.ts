/**
 * A folder's mode and owner as a transaction element (`~/.ssh` must be 0700 and belong to its
 * user, or sshd ignores the keys in it). Append it before the files that go into the folder:
 * their prepare creates a missing folder (root's), and this element's commit then gives it its
 * mode and owner; rollback puts back what an existing folder had.
 */
import { chmod, chown, lstat, mkdir } from 'node:fs/promises';
import type { TransactionElement } from './element.js';

export interface FolderAttrs {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export class FolderAttributes implements TransactionElement {
  readonly description: string;
  private before: FolderAttrs | null | undefined;
  private committed = false;

  constructor(
    readonly path: string,
    private readonly wanted: FolderAttrs,
    /** Only give a folder that did not exist these attributes; leave an existing one alone. */
    private readonly onlyIfNew = false,
  ) {
    this.description = `folder ${path} (mode ${wanted.mode.toString(8)}, owner ${wanted.uid}:${wanted.gid})`;
  }

  /** Whether the folder already has the wanted mode and owner. */
  async upToDate(): Promise<boolean> {
    const now = await attributes(this.path);
    return now !== null && same(now, this.wanted);
  }

  async prepare(): Promise<void> {
    this.before = await attributes(this.path);
  }

  async commit(): Promise<void> {
    if (this.onlyIfNew && this.before !== null) return;
    await mkdir(this.path, { recursive: true, mode: 0o755 });
    await chown(this.path, this.wanted.uid, this.wanted.gid);
    await chmod(this.path, this.wanted.mode);
    this.committed = true;
  }

  async rollback(): Promise<void> {
    if (!this.committed) return;
    this.committed = false;
    const before = this.before;
    // A folder that did not exist is removed by the file element that created it.
    if (before === null || before === undefined || (await attributes(this.path)) === null) return;
    await chown(this.path, before.uid, before.gid);
    await chmod(this.path, before.mode);
  }

  abort(): Promise<void> {
    return this.rollback();
  }

  async dryRun(): Promise<string> {
    const now = await attributes(this.path);
    if (now !== null && (this.onlyIfNew || same(now, this.wanted))) return '';
    const was = now === null ? 'missing' : `mode ${now.mode.toString(8)}, owner ${now.uid}:${now.gid}`;
    return `${this.path}: ${was} → mode ${this.wanted.mode.toString(8)}, owner ${this.wanted.uid}:${this.wanted.gid}\n`;
  }
}

async function attributes(path: string): Promise<FolderAttrs | null> {
  try {
    const s = await lstat(path);
    return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
  } catch {
    return null;
  }
}

function same(a: FolderAttrs, b: FolderAttrs): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}
