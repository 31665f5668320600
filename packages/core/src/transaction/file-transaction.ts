/**
 * Writing one file as a transaction element: prepare writes the complete new file beside
 * the target, commit keeps the previous content and renames the new file into place, so
 * readers (and a killed run) only ever see the old file or the new one, never a mix.
 */
import { isAbsolute, normalize } from 'node:path';
import { lstat, realpath, rename } from 'node:fs/promises';
import { OtopiError, errorMessage } from '../errors.js';
import { silentLog, type TransactionElement, type TransactionLog } from './element.js';
import { describeChange, keepPrevious, readSnapshot, resolveId, samePermissions, type Snapshot } from './file-state.js';
import {
  backupStamp,
  createDirs,
  errnoCode,
  exists,
  fsyncDir,
  missingDirs,
  overwriteInPlace,
  removeEmptyDirs,
  removeFile,
  replaceFile,
  tempNameFor,
  writeNewFile,
  type Ownership,
} from './fs-util.js';
import type { JournalEntry, JournalParticipant } from './journal.js';

export interface FileTransactionOptions {
  /** Absolute path of the file. A symbolic link is followed: the file it points to is replaced. */
  readonly path: string;
  /**
   * New content. Lines are joined with `\n` and end with one (an empty list is an empty
   * file); a string gets a final `\n` if it lacks one (`''` stays empty); a Buffer is
   * written verbatim.
   */
  readonly content: string | Buffer | readonly string[];
  /** Mode of a new file, or of any file with `enforcePermissions`. Default `0o644`. */
  readonly mode?: number;
  /** Owner (uid or user name) of a new file, or of any file with `enforcePermissions`. Default: unchanged (the process's for a new file). */
  readonly owner?: number | string;
  /** Group (gid or name), as `owner`. */
  readonly group?: number | string;
  /** Mode of the parent directories this element creates. Default `0o755`. */
  readonly dirMode?: number;
  /** Apply `mode`/`owner`/`group` to an existing file too; otherwise it keeps its own. Default false. */
  readonly enforcePermissions?: boolean;
  /**
   * Keep the previous content of an existing file as `<path>.<YYYYmmddHHMMSS>` (`.1`, `.2`…
   * when taken) on commit. A rolled-back commit leaves none. Default true.
   */
  readonly backup?: boolean;
  /** Receives `path` when the commit changes the file (and loses it again on rollback). */
  readonly modifiedFiles?: string[];
  readonly log?: TransactionLog;
}

/** Where the element writes; fixed once, before prepare writes anything. */
interface Plan {
  /** `path` with a symbolic link resolved. */
  readonly target: string;
  readonly dir: string;
  readonly temp: string;
  /** Parent directories missing when planned, outermost first. */
  readonly dirs: readonly string[];
}

type Phase = 'new' | 'prepared' | 'committed' | 'aborted' | 'failed';

/**
 * Replaces (or creates) one file atomically. An existing file keeps its mode and owner
 * unless `enforcePermissions`; identical content is a no-op that touches nothing.
 */
export class FileTransaction implements TransactionElement, JournalParticipant {
  /** The path as given (normalised). */
  readonly path: string;
  readonly description: string;
  /** The bytes the file will hold. */
  readonly content: Buffer;
  private readonly options: FileTransactionOptions;
  private readonly log: TransactionLog;
  private phase: Phase = 'new';
  private changed_ = false;
  private plan: Plan | undefined;
  /** The live file when prepared; `null`: it did not exist. */
  private before: Snapshot | null = null;
  private perms: Ownership | undefined;
  private createdDirs: string[] = [];
  private tempWritten = false;
  private previous: { readonly path: string; readonly keep: boolean } | undefined;
  private previousMade = false;
  private renamed = false;
  /** The target was a mount point and was written in place (see commit). */
  private inPlace = false;
  private journaled = false;

  constructor(options: FileTransactionOptions) {
    const { path } = options;
    if (!isAbsolute(path) || path.endsWith('/')) {
      throw new OtopiError('FILE_WRITE', `Refusing to write '${path}': a file needs an absolute path`, {
        file: path,
        hint: 'Pass an absolute path, e.g. /etc/<name>.',
      });
    }
    this.path = normalize(path);
    this.options = options;
    this.log = options.log ?? silentLog;
    this.description = `file ${this.path}`;
    this.content = encodeContent(options.content);
  }

  /** Whether the commit will change the file; decided by `prepare()` (false before). */
  get changed(): boolean {
    return this.changed_;
  }

  async prepare(): Promise<void> {
    if (this.phase !== 'new') throw this.stateError('prepare');
    try {
      const plan = await this.makePlan();
      this.before = await readSnapshot(plan.target);
      this.perms = await this.wantedPermissions(this.before);
      if (this.before !== null && this.before.bytes.equals(this.content) && samePermissions(this.before, this.perms)) {
        this.log.debug(`${this.path} is already up to date`);
        this.phase = 'prepared';
        return;
      }
      this.changed_ = true;
      const dirMode = this.options.dirMode ?? 0o755;
      this.createdDirs = await createDirs(this.before === null ? await missingDirs(plan.dir) : [], dirMode);
      await writeNewFile(plan.temp, this.content, this.perms);
      this.tempWritten = true;
      this.phase = 'prepared';
      this.log.debug(`Prepared ${plan.temp} for ${this.path}`);
    } catch (error) {
      this.phase = 'failed';
      await this.cleanUp().catch((e: unknown) => this.log.warn(`Cleaning up after ${this.path}: ${errorMessage(e)}`));
      throw this.fileError('write', error);
    }
  }

  async commit(): Promise<void> {
    if (this.phase !== 'prepared') throw this.stateError('commit');
    const plan = this.plan;
    if (!this.changed_ || plan === undefined) {
      this.phase = 'committed';
      return;
    }
    try {
      if (this.before !== null && (this.options.backup !== false || this.journaled)) {
        this.previous ??= await this.choosePrevious(plan.target);
        const how = await keepPrevious(plan.target, this.previous.path, this.before);
        this.previousMade = true;
        this.log.debug(`Kept previous ${this.path} as ${this.previous.path} (${how})`);
      }
      try {
        await rename(plan.temp, plan.target);
      } catch (error) {
        // The target is a mount point (a bind-mounted file): written in place instead, the
        // previous content kept above as a copy.
        if (errnoCode(error) !== 'EBUSY' || this.perms === undefined) throw error;
        await overwriteInPlace(plan.target, this.content, this.perms);
        await removeFile(plan.temp);
        this.inPlace = true;
        this.log.debug(`${this.path} is a mount point: written in place`);
      }
      this.renamed = true;
      this.tempWritten = false;
      await fsyncDir(plan.dir);
    } catch (error) {
      this.phase = 'failed';
      throw this.fileError('replace', error);
    }
    this.phase = 'committed';
    const list = this.options.modifiedFiles;
    if (list !== undefined && !list.includes(this.path)) list.push(this.path);
  }

  /** Puts the previous file back after a commit (removes the file if there was none). */
  async rollback(): Promise<void> {
    const plan = this.plan;
    if (!this.renamed || plan === undefined) return;
    try {
      if (this.inPlace && this.before !== null) {
        await overwriteInPlace(plan.target, this.before.bytes, this.before);
        if (this.previousMade && this.previous !== undefined) await removeFile(this.previous.path);
        this.previousMade = false;
      } else if (this.previousMade && this.previous !== undefined) {
        // The previous inode goes back as it was; the backup is no longer needed since nothing changed.
        await rename(this.previous.path, plan.target);
        await removeFile(this.previous.path);
        this.previousMade = false;
      } else if (this.before !== null) {
        await replaceFile(plan.target, this.before.bytes, this.before);
      } else {
        await removeFile(plan.target);
      }
      await fsyncDir(plan.dir);
      this.renamed = false;
      await removeEmptyDirs(this.createdDirs);
      this.createdDirs = [];
    } catch (error) {
      throw this.fileError('roll back', error);
    }
    const list = this.options.modifiedFiles;
    const at = list?.indexOf(this.path) ?? -1;
    if (at >= 0) list?.splice(at, 1);
    this.phase = 'aborted';
    this.log.debug(`Rolled back ${this.path}`);
  }

  /** Removes what prepare wrote; after a (partial) commit, rolls it back first. */
  async abort(): Promise<void> {
    try {
      await this.rollback();
      await this.cleanUp();
    } catch (error) {
      throw this.fileError('clean up after', error);
    }
    this.phase = 'aborted';
  }

  /** A unified diff of what the commit would do, from the file as it is now; `''` for no change. */
  async dryRun(): Promise<string> {
    try {
      const plan = await this.makePlan();
      const before = await readSnapshot(plan.target);
      const perms = await this.wantedPermissions(before);
      if (before !== null && before.bytes.equals(this.content) && samePermissions(before, perms)) return '';
      return describeChange(this.path, before, perms, this.content);
    } catch (error) {
      throw this.fileError('read', error);
    }
  }

  modifiedFiles(): readonly string[] {
    return this.phase === 'committed' && this.changed_ ? [this.path] : [];
  }

  async journalIntent(): Promise<JournalEntry> {
    const plan = await this.makePlan().catch((error: unknown) => {
      throw this.fileError('write', error);
    });
    this.journaled = true;
    return { path: plan.target, temp: plan.temp, dirs: plan.dirs };
  }

  async journalCommit(): Promise<JournalEntry> {
    const plan = this.plan;
    if (this.phase !== 'prepared' || plan === undefined) throw this.stateError('journal');
    if (!this.changed_) return { path: plan.target, temp: plan.temp, dirs: [] };
    this.journaled = true;
    if (this.before === null) return { path: plan.target, temp: plan.temp, dirs: this.createdDirs, previous: null };
    this.previous ??= await this.choosePrevious(plan.target);
    const { path, keep } = this.previous;
    return { path: plan.target, temp: plan.temp, dirs: this.createdDirs, previous: path, keepPrevious: keep };
  }

  async journalFinish(): Promise<void> {
    if (!this.previousMade || this.previous === undefined || this.previous.keep) return;
    await removeFile(this.previous.path);
    this.previousMade = false;
  }

  /** Resolves the target once; later calls (prepare after a journal intent) reuse it. */
  private async makePlan(): Promise<Plan> {
    if (this.plan !== undefined) return this.plan;
    let target = this.path;
    let stats = await lstat(target).catch(ignoreMissing);
    if (stats?.isSymbolicLink() === true) {
      target = await realpath(this.path).catch((error: unknown) => {
        throw errnoCode(error) === 'ENOENT' ? new Error('it is a dangling symbolic link') : error;
      });
      stats = await lstat(target);
    }
    if (stats !== undefined && !stats.isFile()) throw new Error('it exists and is not a regular file');
    const dir = target.slice(0, target.lastIndexOf('/')) || '/';
    const dirs = stats === undefined ? await missingDirs(dir) : [];
    this.plan = { target, dir, temp: tempNameFor(target, 'tmp'), dirs };
    return this.plan;
  }

  private async wantedPermissions(before: Snapshot | null): Promise<Ownership> {
    const { enforcePermissions = false, owner, group, mode = 0o644 } = this.options;
    if (before !== null && !enforcePermissions) return { mode: before.mode, uid: before.uid, gid: before.gid };
    return {
      mode: mode & 0o7777,
      uid: owner === undefined ? (before?.uid ?? -1) : await resolveId('passwd', owner),
      gid: group === undefined ? (before?.gid ?? -1) : await resolveId('group', group),
    };
  }

  /** `<path>.<stamp>` (`.1`, `.2`… if taken) for a backup, else a hidden undo link. */
  private async choosePrevious(target: string): Promise<{ path: string; keep: boolean }> {
    if (this.options.backup === false) return { path: tempNameFor(target, 'orig'), keep: false };
    const base = `${target}.${backupStamp(new Date())}`;
    let candidate = base;
    for (let n = 1; await exists(candidate); n++) candidate = `${base}.${n}`;
    return { path: candidate, keep: true };
  }

  /** Removes the temp file, a previous copy that never got used, and the directories we made. */
  private async cleanUp(): Promise<void> {
    if (this.tempWritten && this.plan !== undefined) await removeFile(this.plan.temp);
    this.tempWritten = false;
    if (this.previousMade && this.previous !== undefined) await removeFile(this.previous.path);
    this.previousMade = false;
    await removeEmptyDirs(this.createdDirs);
    this.createdDirs = [];
  }

  private fileError(action: string, error: unknown): OtopiError {
    if (error instanceof OtopiError) return error;
    const hint = hintFor(errnoCode(error), this.plan?.dir ?? this.path);
    return new OtopiError('FILE_WRITE', `Cannot ${action} ${this.path}: ${errorMessage(error)}`, {
      file: this.path,
      cause: error,
      ...(hint === undefined ? {} : { hint }),
    });
  }

  private stateError(action: string): OtopiError {
    return new OtopiError('TRANSACTION_STATE', `Cannot ${action} ${this.description}: it is ${this.phase}`, {
      file: this.path,
    });
  }
}

function encodeContent(content: string | Buffer | readonly string[]): Buffer {
  if (Buffer.isBuffer(content)) return Buffer.from(content);
  if (typeof content === 'string')
    return Buffer.from(content === '' || content.endsWith('\n') ? content : `${content}\n`);
  return Buffer.from(content.length === 0 ? '' : `${content.join('\n')}\n`);
}

function hintFor(code: string | undefined, dir: string): string | undefined {
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `Free some space on the file system holding ${dir}.`;
    case 'EACCES':
    case 'EPERM':
      return `Check the permissions of ${dir}; installers usually run as root.`;
    case 'EROFS':
      return `${dir} is on a read-only file system.`;
    default:
      return undefined;
  }
}

function ignoreMissing(error: unknown): undefined {
  if (errnoCode(error) === 'ENOENT') return undefined;
  throw error;
}
