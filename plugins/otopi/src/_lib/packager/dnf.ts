/**
 * EL and Fedora: dnf (4 or 5), or yum on legacy EL, through their command lines; rpm for
 * what is installed. Undo is `history undo` of every transaction recorded after the one
 * that was last before this run, newest first, so dependencies pulled in go too.
 *
 * dnf 4 waits for a held lock on its own, for as long as it takes: it gets `exit_on_lock`, so
 * PACKAGER/lockTimeout bounds the wait here as it does for apt. Checked against dnf 4.14 on a
 * Debian lab host (docs/lab.md, "dnf on a Debian host").
 */
import { compareRpmVersions } from '@otopi/core';
import type { SystemAccess } from '../runner.js';
import { need } from '../runner.js';
import {
  RPM_FORMAT,
  availableFromList,
  describeResolution,
  dnfMajorVersion,
  notInstalled,
  parseHistoryIds,
  parseResolution,
  parseRpmQuery,
  rpmLockHolder,
  updatesFromCheck,
} from './dnf-parse.js';
import { runTool, toolFailed } from './progress.js';
import { RPM_REPAIR } from './repair.js';
import type { ToolSettings } from './apt.js';
import type {
  InstalledSnapshot,
  PackageChanges,
  PackageInfo,
  PackageRequest,
  PackagerBackend,
  QueryOptions,
  UpdateInfo,
} from './types.js';

/**
 * `sh -c UNDO_SINCE sh MARKER DNF ARGS…`: `DNF ARGS… history undo <id>` of every history
 * transaction newer than MARKER, newest first (`history list` lists newest first).
 */
const UNDO_SINCE = `# undo every package transaction since the run began
m=$1; shift
ids=$("$1" history list 2>/dev/null | awk -v m="$m" '$1 ~ /^[0-9]+$/ && $1 + 0 > m + 0 { print $1 }') || exit 1
for id in $ids; do
  echo "undoing package transaction $id"
  "$@" history undo "$id" || exit 1
done
`;

export class DnfBackend implements PackagerBackend {
  readonly versionScheme = 'rpm';
  readonly repair = RPM_REPAIR;
  private refreshed = false;
  private major: Promise<number | null> | undefined;

  constructor(
    readonly name: 'dnf' | 'yum',
    private readonly sys: SystemAccess,
    private readonly settings: ToolSettings,
  ) {}

  private get tool(): string {
    return need(this.sys, this.name);
  }

  async refresh(): Promise<void> {
    if (this.refreshed || !this.settings.refresh) return;
    this.refreshed = true;
    await this.runTool(['makecache'], 'Refreshing the package metadata');
  }

  async queryInstalled(patterns: readonly string[]): Promise<PackageInfo[]> {
    if (patterns.length === 0) return [];
    const r = await this.sys.run([need(this.sys, 'rpm'), '-q', '--qf', RPM_FORMAT, ...patterns], {
      log: this.sys.log,
      allowFailure: true,
    });
    return parseRpmQuery(r.stdout);
  }

  async queryAvailable(patterns: readonly string[], options: QueryOptions = {}): Promise<PackageInfo[]> {
    if (patterns.length === 0) return [];
    await this.refresh();
    const args = [
      '-q',
      'list',
      '--available',
      ...(options.allVersions === true ? ['--showduplicates'] : []),
      ...patterns,
    ];
    const r = await this.sys.run([this.tool, ...args], { log: this.sys.log, allowFailure: true });
    // Exit 1 with "No matching Packages" is an empty answer, not an error.
    if (r.code !== 0 && !/No match|No matching/i.test(`${r.stderr}${r.stdout}`))
      throw toolFailed([this.tool, ...args], r);
    // Newest first, as apt answers (dnf lists oldest first).
    return availableFromList(r.stdout).sort(
      (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || compareRpmVersions(b.version, a.version),
    );
  }

  async checkForUpdates(packages: readonly string[]): Promise<UpdateInfo[]> {
    await this.refresh();
    const argv = [this.tool, '-q', 'check-update', ...packages];
    const r = await this.sys.run(argv, { log: this.sys.log, allowFailure: true });
    if (r.code !== 0 && r.code !== 100) throw toolFailed(argv, r);
    if (r.code === 0) return [];
    const installed = packages.length > 0 ? await this.queryInstalled(packages) : await this.allInstalled();
    return updatesFromCheck(r.stdout, installed);
  }

  async snapshot(): Promise<InstalledSnapshot> {
    // Keyed by name.arch: multilib and install-only packages (kernels) have several entries per name.
    const versions = new Map((await this.allInstalled()).map((p) => [`${p.name}.${p.arch}`, p.version]));
    return { versions, configOnly: new Set() };
  }

  async undoMarker(): Promise<string | null> {
    const ids = await this.historyIds();
    return ids.length === 0 ? '0' : String(Math.max(...ids));
  }

  async apply(requests: readonly PackageRequest[]): Promise<void> {
    await this.refresh();
    for (const [args, what] of await this.commands(requests)) await this.runTool(['-y', ...args], what);
  }

  async simulate(requests: readonly PackageRequest[]): Promise<string> {
    const lines: string[] = [];
    for (const [args] of await this.commands(requests)) {
      // --assumeno resolves and prints the transaction, then stops (exit 1 on dnf 4: "Operation aborted").
      const r = await this.sys.run([this.tool, '--assumeno', ...args], { log: this.sys.log, allowFailure: true });
      const actions = parseResolution(r.stdout);
      if (actions.length === 0 && /^Error|^Problem/m.test(`${r.stderr}\n${r.stdout}`)) {
        lines.push(`${this.name} ${args.join(' ')} would fail: ${r.stderr.trim().split('\n').slice(0, 3).join(' / ')}`);
      } else {
        const installed =
          actions.length === 0 ? [] : await this.queryInstalled([...new Set(actions.map((a) => a.name))]);
        lines.push(describeResolution(actions, installed));
      }
    }
    return lines.join('\n');
  }

  async undo(_changes: PackageChanges, _before: InstalledSnapshot, marker: string | null): Promise<string[]> {
    if (marker === null) return ['the package history was not readable before the run; nothing was undone'];
    const newer = (await this.historyIds()).filter((id) => id > Number(marker)).sort((a, b) => b - a);
    const problems: string[] = [];
    for (const id of newer) {
      try {
        await this.runTool(['-y', 'history', 'undo', String(id)], `Undoing package transaction ${id}`);
      } catch (error) {
        problems.push(`${this.name} history undo ${id} failed: ${(error as Error).message}`);
      }
    }
    return problems;
  }

  /**
   * Before `apply`, for the crash journal: `history undo` of every transaction newer than the
   * marker, newest first, found when recovery runs. A run killed while dnf runs leaves an
   * unfinished transaction in the history (and perhaps duplicates in the rpm database, which
   * the record's repair finishes first, `repair.ts`); its undo puts the earlier state back.
   */
  plannedUndo(
    _requests: readonly PackageRequest[],
    _before: InstalledSnapshot,
    marker?: string | null,
  ): Promise<string[][] | null> {
    if (marker === null || marker === undefined) return Promise.resolve(null);
    return Promise.resolve([['/bin/sh', '-c', UNDO_SINCE, 'sh', marker, this.tool, '-y']]);
  }

  /**
   * The commands of `undo`, for recovery to run: `history undo` of each transaction newer
   * than the marker, newest first. Known only once `apply` returned: a run killed while the
   * package manager runs leaves what dnf itself made of it (its history records the part
   * that completed, for `dnf history undo` by hand).
   */
  async undoCommands(_changes: PackageChanges, _before: InstalledSnapshot, marker: string | null): Promise<string[][]> {
    if (marker === null) return [];
    const newer = (await this.historyIds()).filter((id) => id > Number(marker)).sort((a, b) => b - a);
    return newer.map((id) => [this.tool, '-y', 'history', 'undo', String(id)]);
  }

  private async commands(requests: readonly PackageRequest[]): Promise<[string[], string][]> {
    const names = (action: PackageRequest['action']): string[] => [
      ...new Set(requests.filter((r) => r.action === action).flatMap((r) => r.packages)),
    ];
    // best: fail rather than silently install an older version than asked for (otopi set it too).
    const best = this.name === 'dnf' ? ['--best'] : [];
    const out: [string[], string][] = [];
    const install = names('install');
    const update = await this.installedOnly(names('update'));
    const remove = names('remove');
    if (install.length > 0) out.push([['install', ...best, ...install], `Installing ${install.join(', ')}`]);
    if (update.length > 0)
      out.push([[this.name === 'yum' ? 'update' : 'upgrade', ...best, ...update], `Updating ${update.join(', ')}`]);
    if (remove.length > 0) out.push([['remove', ...remove], `Removing ${remove.join(', ')}`]);
    return out;
  }

  /**
   * Updates leave packages that are not installed alone (as apt's --only-upgrade does):
   * `dnf upgrade x` fails with "No packages marked for upgrade" when x is not installed.
   */
  private async installedOnly(packages: readonly string[]): Promise<string[]> {
    // rpm -q takes no globs: those go to dnf as they are.
    const plain = packages.filter((p) => !/[*?[]/.test(p));
    if (plain.length === 0) return [...packages];
    const r = await this.sys.run([need(this.sys, 'rpm'), '-q', ...plain], { log: this.sys.log, allowFailure: true });
    const missing = notInstalled(r.stdout);
    if (missing.size > 0) this.sys.log.info(`Not installed, so not updated: ${[...missing].join(', ')}`);
    return packages.filter((p) => !missing.has(p));
  }

  /** dnf's major version, asked once; null for yum or when `dnf --version` says something else. */
  private majorVersion(): Promise<number | null> {
    if (this.name !== 'dnf') return Promise.resolve(null);
    this.major ??= this.sys
      .run([this.tool, '--version'], { log: this.sys.log, allowFailure: true })
      .then((r) => dnfMajorVersion(r.stdout))
      .catch(() => null);
    return this.major;
  }

  private async allInstalled(): Promise<PackageInfo[]> {
    const r = await this.sys.run([need(this.sys, 'rpm'), '-qa', '--qf', RPM_FORMAT], { allowFailure: true });
    return parseRpmQuery(r.stdout).sort((a, b) => compareRpmVersions(a.version, b.version));
  }

  private async historyIds(): Promise<number[]> {
    const r = await this.sys.run([this.tool, 'history', 'list'], { log: this.sys.log, allowFailure: true });
    return parseHistoryIds(r.stdout);
  }

  private async runTool(args: readonly string[], what: string): Promise<void> {
    // Without exit_on_lock dnf 4 waits for the lock itself, without end and without our retry messages.
    const lock = (await this.majorVersion()) === 4 ? ['--setopt=exit_on_lock=True'] : [];
    await runTool([this.tool, ...lock, ...args], {
      ...this.settings,
      run: this.sys.run,
      log: this.sys.log,
      what,
      lockHolder: rpmLockHolder,
    });
  }
}
