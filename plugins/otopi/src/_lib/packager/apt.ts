/**
 * Debian and Ubuntu: apt-get to change, dpkg-query for what is installed, apt-cache policy
 * for what is available. Undo purges what this run newly installed (only removes it when
 * its conffiles were already there before), and puts earlier versions back where the
 * repositories still offer them; anything else is reported as not undone.
 */
import { compareDebVersions } from '@otopi/core';
import type { SystemAccess } from '../runner.js';
import { need } from '../runner.js';
import {
  DPKG_FORMAT,
  aptLockHolder,
  availableFromPolicy,
  describeSimulation,
  parseAptPolicy,
  parseAptSimulation,
  parseDpkgQuery,
  type SimulatedAction,
} from './apt-parse.js';
import { runTool, type ToolRunOptions } from './progress.js';
import { DPKG_REPAIR } from './repair.js';
import type {
  InstalledSnapshot,
  PackageChanges,
  PackageInfo,
  PackageRequest,
  PackagerBackend,
  QueryOptions,
  UpdateInfo,
} from './types.js';

export type ToolSettings = Pick<ToolRunOptions, 'sleep' | 'keepAliveS' | 'lockTimeoutS' | 'lockRetryS'> & {
  /** Whether `refresh()` refreshes at all. */
  readonly refresh: boolean;
};

const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive', APT_LISTCHANGES_FRONTEND: 'none', NEEDRESTART_MODE: 'a' };
const APT_OPTIONS = [
  '-y',
  '-q',
  '-o',
  'Dpkg::Options::=--force-confdef',
  '-o',
  'Dpkg::Options::=--force-confold',
  '-o',
  'Dpkg::Use-Pty=0',
];

export class AptBackend implements PackagerBackend {
  readonly name = 'apt';
  readonly versionScheme = 'deb';
  readonly repair = DPKG_REPAIR;
  private refreshed = false;

  constructor(
    private readonly sys: SystemAccess,
    private readonly settings: ToolSettings,
  ) {}

  async refresh(): Promise<void> {
    if (this.refreshed || !this.settings.refresh) return;
    this.refreshed = true;
    await this.aptGet(['update'], 'Refreshing the package lists');
  }

  async queryInstalled(patterns: readonly string[]): Promise<PackageInfo[]> {
    if (patterns.length === 0) return [];
    const r = await this.sys.run([need(this.sys, 'dpkg-query'), '-W', `-f=${DPKG_FORMAT}`, ...patterns], {
      log: this.sys.log,
      allowFailure: true,
    });
    return parseDpkgQuery(r.stdout)
      .filter((e) => e.state === 'installed')
      .map((e) => ({ name: e.name, version: e.version, arch: e.arch, source: 'installed' }));
  }

  async queryAvailable(patterns: readonly string[], options: QueryOptions = {}): Promise<PackageInfo[]> {
    if (patterns.length === 0) return [];
    await this.refresh();
    const entries = await this.policy(patterns);
    return availableFromPolicy(entries, options.allVersions ?? false);
  }

  async checkForUpdates(packages: readonly string[]): Promise<UpdateInfo[]> {
    await this.refresh();
    const names = packages.length > 0 ? packages : [...(await this.snapshot()).versions.keys()];
    const out: UpdateInfo[] = [];
    for (const e of await this.policy(names)) {
      if (e.installed !== null && e.candidate !== null && compareDebVersions(e.candidate, e.installed) > 0) {
        out.push({ name: e.name, installed: e.installed, available: e.candidate });
      }
    }
    return out;
  }

  async snapshot(): Promise<InstalledSnapshot> {
    const r = await this.sys.run([need(this.sys, 'dpkg-query'), '-W', `-f=${DPKG_FORMAT}`], { allowFailure: true });
    const entries = parseDpkgQuery(r.stdout);
    return {
      versions: new Map(entries.filter((e) => e.state === 'installed').map((e) => [e.name, e.version])),
      configOnly: new Set(entries.filter((e) => e.state === 'config-files').map((e) => e.name)),
    };
  }

  undoMarker(): Promise<string | null> {
    return Promise.resolve(null);
  }

  async apply(requests: readonly PackageRequest[]): Promise<void> {
    await this.refresh();
    for (const [args, what] of this.commands(requests)) await this.aptGet(args, what);
  }

  async simulate(requests: readonly PackageRequest[]): Promise<string> {
    const lines: string[] = [];
    for (const [args] of this.commands(requests)) {
      const r = await this.sys.run([need(this.sys, 'apt-get'), '-s', ...args], {
        log: this.sys.log,
        allowFailure: true,
        env: APT_ENV,
      });
      if (r.code !== 0) {
        lines.push(`apt-get -s ${args.join(' ')} failed: ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`);
        continue;
      }
      lines.push(describeSimulation(parseAptSimulation(r.stdout, compareDebVersions)));
    }
    return lines.join('\n');
  }

  async undo(changes: PackageChanges, before: InstalledSnapshot, _marker: string | null): Promise<string[]> {
    const notUndone: string[] = [];
    const purge = changes.installed.filter((p) => !before.configOnly.has(p.name)).map((p) => p.name);
    const remove = changes.installed.filter((p) => before.configOnly.has(p.name)).map((p) => p.name);
    if (purge.length > 0)
      await this.tryAptGet(['purge', ...purge], 'Purging the packages this run installed', notUndone);
    if (remove.length > 0)
      await this.tryAptGet(['remove', ...remove], 'Removing the packages this run installed', notUndone);
    // Earlier versions go back only where a repository still has them.
    const back = [
      ...changes.upgraded.map((p) => ({ name: p.name, version: p.from, now: p.to })),
      ...changes.downgraded.map((p) => ({ name: p.name, version: p.from, now: p.to })),
      ...changes.removed.map((p) => ({ name: p.name, version: p.version, now: null })),
    ];
    if (back.length === 0) return notUndone;
    const offered = new Map(
      (await this.policy(back.map((b) => b.name))).map((e) => [e.name, new Set(e.versions.map((v) => v.version))]),
    );
    const restorable = back.filter((b) => offered.get(b.name)?.has(b.version) === true);
    for (const b of back) {
      if (restorable.includes(b)) continue;
      notUndone.push(
        b.now === null
          ? `${b.name} ${b.version} stays removed: no repository offers that version any more`
          : `${b.name} stays at ${b.now}: no repository offers ${b.version} any more`,
      );
    }
    if (restorable.length > 0) {
      await this.tryAptGet(
        ['install', '--allow-downgrades', ...restorable.map((b) => `${b.name}=${b.version}`)],
        'Putting back the earlier package versions',
        notUndone,
      );
    }
    return notUndone;
  }

  /** From a simulation of `requests`: what `undoCommands` would undo after `apply`. */
  async plannedUndo(requests: readonly PackageRequest[], before: InstalledSnapshot): Promise<string[][] | null> {
    // The simulation must see the lists apply() will use: with stale ones it found nothing
    // to install, and the journal got no undo record (a kill then left the packages).
    await this.refresh();
    const actions = new Map<string, SimulatedAction>();
    for (const [args] of this.commands(requests)) {
      const r = await this.sys.run([need(this.sys, 'apt-get'), '-s', ...args], {
        log: this.sys.log,
        allowFailure: true,
        env: APT_ENV,
      });
      // A failing simulation means apt-get would change nothing there.
      if (r.code !== 0) continue;
      for (const a of parseAptSimulation(r.stdout, compareDebVersions))
        if (!actions.has(a.name)) actions.set(a.name, a);
    }
    const installed: { name: string; version: string }[] = [];
    const upgraded: { name: string; from: string; to: string }[] = [];
    const downgraded: { name: string; from: string; to: string }[] = [];
    const removed: { name: string; version: string }[] = [];
    for (const a of actions.values()) {
      if (a.action === 'install') installed.push({ name: a.name, version: a.version });
      else if (a.action === 'upgrade' && a.from !== undefined)
        upgraded.push({ name: a.name, from: a.from, to: a.version });
      else if (a.action === 'downgrade' && a.from !== undefined)
        downgraded.push({ name: a.name, from: a.from, to: a.version });
      else if (a.action === 'remove' || a.action === 'purge') removed.push({ name: a.name, version: a.version });
    }
    const changes: PackageChanges = { installed, upgraded, downgraded, removed };
    return this.undoCommands(changes, before);
  }

  /**
   * The commands of `undo`, for recovery to run: purge (or remove) what was installed, and
   * put back the earlier versions a repository still offers. They carry their environment
   * through `/usr/bin/env`, since a journal's commands have none of their own.
   */
  async undoCommands(changes: PackageChanges, before: InstalledSnapshot): Promise<string[][]> {
    const aptGet = (verb: string, args: readonly string[]): string[] => [
      '/usr/bin/env',
      ...Object.entries(APT_ENV).map(([k, v]) => `${k}=${v}`),
      need(this.sys, 'apt-get'),
      verb,
      ...APT_OPTIONS,
      ...args,
    ];
    const out: string[][] = [];
    const purge = changes.installed.filter((p) => !before.configOnly.has(p.name)).map((p) => p.name);
    const remove = changes.installed.filter((p) => before.configOnly.has(p.name)).map((p) => p.name);
    if (purge.length > 0) out.push(aptGet('purge', purge));
    if (remove.length > 0) out.push(aptGet('remove', remove));
    const back = [
      ...changes.upgraded.map((p) => ({ name: p.name, version: p.from })),
      ...changes.downgraded.map((p) => ({ name: p.name, version: p.from })),
      ...changes.removed.map((p) => ({ name: p.name, version: p.version })),
    ];
    if (back.length > 0) {
      const offered = new Map(
        (await this.policy(back.map((b) => b.name))).map((e) => [e.name, new Set(e.versions.map((v) => v.version))]),
      );
      const restorable = back.filter((b) => offered.get(b.name)?.has(b.version) === true);
      if (restorable.length > 0)
        out.push(aptGet('install', ['--allow-downgrades', ...restorable.map((b) => `${b.name}=${b.version}`)]));
    }
    return out;
  }

  /** One apt-get call per kind of request, in order install, update, remove. */
  private commands(requests: readonly PackageRequest[]): [string[], string][] {
    const names = (action: PackageRequest['action']): string[] => [
      ...new Set(requests.filter((r) => r.action === action).flatMap((r) => r.packages)),
    ];
    const out: [string[], string][] = [];
    const install = names('install');
    const update = names('update');
    const remove = names('remove');
    if (install.length > 0) out.push([['install', ...install], `Installing ${install.join(', ')}`]);
    if (update.length > 0) out.push([['install', '--only-upgrade', ...update], `Updating ${update.join(', ')}`]);
    if (remove.length > 0) out.push([['remove', ...remove], `Removing ${remove.join(', ')}`]);
    return out;
  }

  private async policy(names: readonly string[]): Promise<ReturnType<typeof parseAptPolicy>> {
    if (names.length === 0) return [];
    const r = await this.sys.run([need(this.sys, 'apt-cache'), 'policy', ...names], { allowFailure: true });
    return parseAptPolicy(r.stdout);
  }

  private async aptGet(args: readonly string[], what: string): Promise<void> {
    const [verb, ...rest] = args;
    await runTool([need(this.sys, 'apt-get'), verb ?? '', ...APT_OPTIONS, ...rest], {
      ...this.settings,
      run: this.sys.run,
      log: this.sys.log,
      what,
      env: APT_ENV,
      lockHolder: aptLockHolder,
    });
  }

  private async tryAptGet(args: readonly string[], what: string, problems: string[]): Promise<void> {
    try {
      await this.aptGet(args, what);
    } catch (error) {
      problems.push(`${what} failed: ${(error as Error).message}`);
    }
  }
}
