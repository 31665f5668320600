/**
 * What every packager backend offers. The public provider ({@link Packager}) queues
 * requests; the queue is carried out at the `packages` stage (or `internal_packages` for
 * `internal: true`) inside the transaction, by the backend's `apply`.
 */
import type { VersionScheme } from '../system/version.js';
import type { UndoRepair } from '../transaction/undo-records.js';

export type PackagerName = 'apt' | 'dnf' | 'yum' | 'offline';

export interface PackageInfo {
  readonly name: string;
  /** Full version: `[epoch:]version-release` (rpm), `[epoch:]upstream-revision` (deb). */
  readonly version: string;
  readonly arch: string;
  /** Where it comes from (a repository); `installed` for the installed copy. */
  readonly source: string;
}

export interface UpdateInfo {
  readonly name: string;
  /** The installed version. */
  readonly installed: string;
  /** The best version the repositories offer. */
  readonly available: string;
}

/** One queued request. */
export interface PackageRequest {
  readonly action: 'install' | 'update' | 'remove';
  readonly packages: readonly string[];
}

/** Installed packages by name → version (one entry per name; the highest for multi-version). */
export type InstalledSet = ReadonlyMap<string, string>;

/** The installed packages at one moment. */
export interface InstalledSnapshot {
  readonly versions: InstalledSet;
  /** Removed packages whose configuration files are still there (dpkg's `rc`): undo must not purge those files. */
  readonly configOnly: ReadonlySet<string>;
}

/** What a run of the package manager changed, from a before/after comparison. */
export interface PackageChanges {
  readonly installed: readonly { name: string; version: string }[];
  readonly upgraded: readonly { name: string; from: string; to: string }[];
  readonly downgraded: readonly { name: string; from: string; to: string }[];
  readonly removed: readonly { name: string; version: string }[];
}

export interface QueryOptions {
  /** Every version the repositories offer, not only the best. Default false. */
  readonly allVersions?: boolean;
}

/** A package manager, driven through its command-line tools. */
export interface PackagerBackend {
  readonly name: PackagerName;
  readonly versionScheme: VersionScheme;
  /** Refreshes the package lists, once per run; later calls do nothing. */
  refresh(): Promise<void>;
  queryInstalled(patterns: readonly string[]): Promise<PackageInfo[]>;
  queryAvailable(patterns: readonly string[], options?: QueryOptions): Promise<PackageInfo[]>;
  /** Updates available for the given packages (all installed ones when empty). */
  checkForUpdates(packages: readonly string[]): Promise<UpdateInfo[]>;
  /** Every installed package, for before/after comparisons. */
  snapshot(): Promise<InstalledSnapshot>;
  /**
   * For the crash journal: how recovery sees and repairs the package manager itself, left
   * interrupted by a killed run, before it runs the undo commands.
   */
  readonly repair?: UndoRepair;
  /** A marker for undo taken before `apply` (dnf: the last history id). */
  undoMarker(): Promise<string | null>;
  /** Carries the requests out. */
  apply(requests: readonly PackageRequest[]): Promise<void>;
  /** Text saying what `apply` would do, without doing it. */
  simulate(requests: readonly PackageRequest[]): Promise<string>;
  /**
   * Undoes what `apply` did. Returns what could not be undone, one line each (empty when
   * everything was).
   */
  undo(changes: PackageChanges, before: InstalledSnapshot, marker: string | null): Promise<string[]>;
  /**
   * For the crash journal, worked out before `apply`: commands (argv lists, no shell, no
   * environment of their own) that would undo applying `requests`. Absent, or null, when the
   * backend cannot tell beforehand.
   */
  plannedUndo?(
    requests: readonly PackageRequest[],
    before: InstalledSnapshot,
    marker?: string | null,
  ): Promise<string[][] | null>;
  /**
   * For the crash journal, worked out after `apply`: commands equivalent to `undo` with the
   * same arguments.
   */
  undoCommands?(changes: PackageChanges, before: InstalledSnapshot, marker: string | null): Promise<string[][]>;
}

/** The provider other plugins use (token `PACKAGER`). */
export interface Packager {
  readonly name: PackagerName;
  readonly versionScheme: VersionScheme;
  /** Queues packages to install (at the packages stage; `internal`: at internal_packages). */
  install(packages: readonly string[], options?: { internal?: boolean }): void;
  /** Queues updates of installed packages (not installed ones are left alone). */
  update(packages: readonly string[], options?: { internal?: boolean }): void;
  /** Queues removal. */
  remove(packages: readonly string[], options?: { internal?: boolean }): void;
  queryInstalled(patterns: readonly string[]): Promise<PackageInfo[]>;
  queryAvailable(patterns: readonly string[], options?: QueryOptions): Promise<PackageInfo[]>;
  checkForUpdates(packages?: readonly string[]): Promise<UpdateInfo[]>;
  /** -1, 0, 1 by this packager's version rules (dpkg or rpm). */
  compare(a: string, b: string): -1 | 0 | 1;
}
