/**
 * The packager provider: queues what plugins ask for and carries the queue out at the
 * packages stage inside a transaction element, so a failure later in the run undoes it.
 */
import {
  OtopiError,
  compareVersions,
  errorMessage,
  type Logger,
  type Transaction,
  type TransactionElement,
  type VersionScheme,
} from '@otopi/core';
import type { SystemAccess } from '../runner.js';
import { forgetAccounts, restoreAccounts, restoreAccountsCommand, saveAccounts } from './accounts.js';
import { describeChanges, diffInstalled, isEmpty } from './changes.js';
import { alreadySatisfied } from './satisfied.js';
import type {
  InstalledSnapshot,
  PackageChanges,
  PackageInfo,
  PackageRequest,
  Packager,
  PackagerBackend,
  PackagerName,
  QueryOptions,
  UpdateInfo,
} from './types.js';

export type Phase = 'internal' | 'main';

/** Where the element keeps a copy of the account files while its change may be undone (accounts.ts). */
export interface AccountsCopy {
  readonly sys: SystemAccess;
  readonly dir: string;
}

/**
 * The transaction element of one phase. Its commit is a no-op (the package manager already
 * ran at the packages stage); abort and rollback undo what that run changed. With a
 * journaled `transaction`, the undo is also journaled as commands (see `journalUndo`), so
 * recovery at the next start undoes the packages of a run that was killed.
 */
export class PackagesElement implements TransactionElement {
  readonly description: string;
  private changes: PackageChanges | undefined;
  private before: InstalledSnapshot | undefined;
  private marker: string | null = null;
  private simulation = '';

  constructor(
    private readonly backend: PackagerBackend,
    private readonly log: Logger,
    private readonly undoEnabled: () => boolean,
    phase: Phase,
    private readonly transaction?: Transaction,
    private readonly accounts?: AccountsCopy,
  ) {
    this.description = `${phase === 'internal' ? 'internal ' : ''}packages (${backend.name})`;
  }

  /** Whether the undo commands would go into a journal now (worth working them out). */
  get journaled(): boolean {
    return this.transaction?.journaled === true && this.undoEnabled();
  }

  /**
   * Journals the commands that undo this phase's package changes (null: leave the record as
   * it is; empty: nothing to undo). Does nothing when not journaled or undo is off.
   */
  async journalUndo(commands: readonly (readonly string[])[] | null): Promise<void> {
    if (commands === null || this.transaction === undefined || !this.journaled) return;
    if (commands.length === 0) await this.transaction.clearUndo(this);
    else {
      const repair = this.backend.repair;
      const accounts = this.accounts === undefined ? [] : [restoreAccountsCommand(this.accounts.dir)];
      await this.transaction.recordUndo(this, {
        description: `${this.description} changes`,
        commands: [...commands, ...accounts],
        ...(repair === undefined ? {} : { repair }),
      });
    }
  }

  /** Copies the account files before the package manager runs (when undo is on). */
  async saveAccounts(): Promise<void> {
    if (this.accounts !== undefined && this.undoEnabled()) await saveAccounts(this.accounts.sys, this.accounts.dir);
  }

  /** Drops the copy of the account files: the change stands (the run ended without error). */
  async forgetAccounts(): Promise<void> {
    if (this.accounts !== undefined) await forgetAccounts(this.accounts.sys, this.accounts.dir);
  }

  record(changes: PackageChanges, before: InstalledSnapshot, marker: string | null): void {
    this.changes = changes;
    this.before = before;
    this.marker = marker;
  }

  /** What the package manager would do; a simulation that changes nothing ('no package changes…') is kept as none. */
  setSimulation(text: string): void {
    this.simulation = text.split('\n').every((l) => l.startsWith('no package changes')) ? '' : text;
  }

  prepare(): void {}

  commit(): void {}

  async abort(): Promise<void> {
    const changes = this.changes;
    const before = this.before;
    this.changes = undefined;
    if (changes === undefined || before === undefined) return;
    if (isEmpty(changes)) return this.forgetAccounts();
    if (!this.undoEnabled()) {
      this.log.warn(
        `The run failed; its package changes stay (PACKAGER/rollback is False): ${describeChanges(changes)}`,
      );
      return;
    }
    this.log.info(`Undoing the package changes of this run: ${describeChanges(changes)}`);
    const notUndone = await this.backend.undo(changes, before, this.marker);
    if (this.accounts !== undefined) {
      const { said, problem } = await restoreAccounts(this.accounts.sys, this.accounts.dir);
      if (said !== '') this.log.info(said);
      if (problem !== undefined) notUndone.push(problem);
    }
    if (notUndone.length === 0) this.log.info('Package changes undone');
    else this.log.warn(`Some package changes could not be undone:\n${notUndone.join('\n')}`);
  }

  rollback(): Promise<void> {
    return this.abort();
  }

  /** Under dry run, what the package manager would do; in a real run, what it did at the packages stage. */
  dryRun(): string {
    if (this.simulation !== '') return `${this.simulation}\n`;
    return this.changes === undefined || isEmpty(this.changes) ? '' : `${describeChanges(this.changes)}\n`;
  }
}

export class PackagerService implements Packager {
  private readonly queues: Record<Phase, PackageRequest[]> = { internal: [], main: [] };
  private readonly done: Record<Phase, boolean> = { internal: false, main: false };

  constructor(
    readonly backend: PackagerBackend,
    readonly elements: Readonly<Record<Phase, PackagesElement>>,
    private readonly log: Logger,
  ) {}

  get name(): PackagerName {
    return this.backend.name;
  }

  get versionScheme(): VersionScheme {
    return this.backend.versionScheme;
  }

  install(packages: readonly string[], options: { internal?: boolean } = {}): void {
    this.queue('install', packages, options.internal === true);
  }

  update(packages: readonly string[], options: { internal?: boolean } = {}): void {
    this.queue('update', packages, options.internal === true);
  }

  remove(packages: readonly string[], options: { internal?: boolean } = {}): void {
    this.queue('remove', packages, options.internal === true);
  }

  queryInstalled(patterns: readonly string[]): Promise<PackageInfo[]> {
    return this.backend.queryInstalled(patterns);
  }

  queryAvailable(patterns: readonly string[], options?: QueryOptions): Promise<PackageInfo[]> {
    return this.backend.queryAvailable(patterns, options);
  }

  checkForUpdates(packages: readonly string[] = []): Promise<UpdateInfo[]> {
    return this.backend.checkForUpdates(packages);
  }

  compare(a: string, b: string): -1 | 0 | 1 {
    return compareVersions(this.backend.versionScheme, a, b);
  }

  /** What is queued for a phase (for logs and tests). */
  queued(phase: Phase): readonly PackageRequest[] {
    return this.queues[phase];
  }

  /** Carries out a phase's queue; under dry run only says what it would do. */
  async process(phase: Phase, dryRun: boolean): Promise<void> {
    this.done[phase] = true;
    const requests = this.queues[phase];
    if (requests.length === 0) return;
    const element = this.elements[phase];
    const summary = requests.map((r) => `${r.action} ${r.packages.join(' ')}`).join('; ');
    if (this.backend.name === 'offline' && requests.some((r) => r.action !== 'install')) {
      this.log.warn(`The offline packager neither updates nor removes packages: ${summary}`);
    }
    if (dryRun) {
      const text = await this.backend.simulate(requests);
      element.setSimulation(text);
      this.log.info(`Dry run: ${this.backend.name} would: ${text.replace(/\n/g, '; ')}`);
      return;
    }
    this.log.info(`Packages (${this.backend.name}): ${summary}`);
    const before = await this.backend.snapshot();
    if (alreadySatisfied(requests, before.versions)) {
      this.log.info('Packages: no changes (everything requested is already installed)');
      return;
    }
    const marker = await this.backend.undoMarker();
    await element.saveAccounts();
    // Journaled before the change, so a killed run is undone by recovery at the next start.
    if (element.journaled && this.backend.plannedUndo !== undefined)
      await element.journalUndo(await this.backend.plannedUndo(requests, before, marker));
    let failure: unknown;
    try {
      await this.backend.apply(requests);
    } catch (error) {
      failure = error;
    }
    // Recorded even when the package manager failed midway, so abort can undo the part that happened.
    const after = await this.backend.snapshot().catch((error: unknown) => {
      this.log.warn(
        `Cannot list the installed packages after the run, so its changes cannot be undone: ${errorMessage(error)}`,
      );
      return null;
    });
    if (after !== null) {
      const changes = diffInstalled(this.backend.versionScheme, before.versions, after.versions);
      element.record(changes, before, marker);
      // Now exact (dnf: known only now); a kill before this point leaves the planned record.
      const undoCommands = this.backend.undoCommands?.bind(this.backend);
      if (element.journaled && undoCommands !== undefined) {
        try {
          await element.journalUndo(isEmpty(changes) ? [] : await undoCommands(changes, before, marker));
        } catch (error) {
          this.log.warn(`Cannot journal the package undo; a killed run would keep the changes: ${errorMessage(error)}`);
        }
      }
      // After a failure "everything is in place" would be false: the run failed to put it there.
      this.log.info(
        !isEmpty(changes)
          ? `Packages: ${describeChanges(changes)}${failure === undefined ? '' : ' (before the failure)'}`
          : failure === undefined
            ? 'Packages: no changes (everything requested is already in place)'
            : `Packages: no changes (${this.backend.name} failed before changing anything)`,
      );
    }
    if (failure !== undefined) throw failure;
  }

  private queue(action: PackageRequest['action'], packages: readonly string[], internal: boolean): void {
    const phase: Phase = internal ? 'internal' : 'main';
    if (this.done[phase]) {
      throw new OtopiError(
        'INTERNAL',
        `Too late to ${action} ${packages.join(', ')}: the ${internal ? 'internal_packages' : 'packages'} stage has run`,
        {
          hint: `Queue packages before that stage (${internal ? 'setup' : 'validation or early_misc'}).`,
        },
      );
    }
    const clean = packages.map((p) => p.trim()).filter(Boolean);
    if (clean.length > 0) this.queues[phase].push({ action, packages: clean });
  }
}
