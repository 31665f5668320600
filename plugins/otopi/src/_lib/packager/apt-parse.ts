/**
 * Parsers for what dpkg and apt print. Kept apart from the backend so unit tests can feed
 * them recorded output.
 */
import type { PackageInfo } from './types.js';

/** dpkg-query format used everywhere: name (with :arch for foreign packages), version, arch, status abbreviation. */
export const DPKG_FORMAT = '${binary:Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n';

export interface DpkgEntry {
  readonly name: string;
  readonly version: string;
  readonly arch: string;
  /** `installed` (files present: installed, unpacked, half-configured…), `config-files`, or `not-installed`. */
  readonly state: 'installed' | 'config-files' | 'not-installed';
}

/** Lines of `dpkg-query -W -f=DPKG_FORMAT`. */
export function parseDpkgQuery(text: string): DpkgEntry[] {
  const out: DpkgEntry[] = [];
  for (const line of text.split('\n')) {
    const [name, version, arch, abbrev] = line.split('\t');
    if (name === undefined || name === '' || version === undefined || abbrev === undefined) continue;
    // Second letter of the abbreviation is the current state (n, c, H, U, F, W, t, i).
    const current = abbrev.trim()[1] ?? 'n';
    const state = current === 'n' ? 'not-installed' : current === 'c' ? 'config-files' : 'installed';
    out.push({ name, version, arch: arch ?? '', state });
  }
  return out;
}

export interface PolicyEntry {
  readonly name: string;
  /** null when not installed. */
  readonly installed: string | null;
  /** null when apt has none to offer. */
  readonly candidate: string | null;
  /** Versions with the sources offering them (the dpkg status file excluded). */
  readonly versions: readonly { version: string; sources: readonly string[] }[];
}

/** `apt-cache policy <names>`. */
export function parseAptPolicy(text: string): PolicyEntry[] {
  const out: PolicyEntry[] = [];
  let current:
    | {
        name: string;
        installed: string | null;
        candidate: string | null;
        versions: { version: string; sources: string[] }[];
      }
    | undefined;
  let version: { version: string; sources: string[] } | undefined;
  const none = (v: string): string | null => (v === '(none)' || v === '' ? null : v);
  for (const line of text.split('\n')) {
    const header = /^(\S+):$/.exec(line);
    if (header !== null) {
      current = { name: header[1]!, installed: null, candidate: null, versions: [] };
      out.push(current);
      version = undefined;
      continue;
    }
    if (current === undefined) continue;
    let m = /^\s+Installed:\s*(\S*)/.exec(line);
    if (m !== null) {
      current.installed = none(m[1]!);
      continue;
    }
    m = /^\s+Candidate:\s*(\S*)/.exec(line);
    if (m !== null) {
      current.candidate = none(m[1]!);
      continue;
    }
    // A version line: 5 spaces (or ' *** ') then version and priority.
    m = /^ (?:\*\*\*| {3}) (\S+) (-?\d+)\s*$/.exec(line);
    if (m !== null) {
      version = { version: m[1]!, sources: [] };
      current.versions.push(version);
      continue;
    }
    m = /^\s{6,}-?\d+ (.+)$/.exec(line);
    if (m !== null && version !== undefined && !m[1]!.includes('/var/lib/dpkg/status'))
      version.sources.push(m[1]!.trim());
  }
  return out.map((p) => ({ ...p, versions: p.versions.filter((v) => v.sources.length > 0) }));
}

/** Available packages from policy entries: the candidate, or every offered version. */
export function availableFromPolicy(entries: readonly PolicyEntry[], allVersions: boolean): PackageInfo[] {
  const out: PackageInfo[] = [];
  for (const e of entries) {
    for (const v of e.versions) {
      if (!allVersions && v.version !== e.candidate) continue;
      out.push({ name: e.name, version: v.version, arch: archOf(v.sources[0] ?? ''), source: v.sources[0] ?? '' });
    }
  }
  return out;
}

function archOf(source: string): string {
  // "http://deb.debian.org/debian bookworm/main amd64 Packages"
  const words = source.split(/\s+/);
  return words.length >= 2 && words[words.length - 1] === 'Packages' ? (words[words.length - 2] ?? '') : '';
}

export interface SimulatedAction {
  readonly action: 'install' | 'upgrade' | 'downgrade' | 'reinstall' | 'remove' | 'purge';
  readonly name: string;
  /** Version being installed, or removed. */
  readonly version: string;
  /** The installed version an upgrade replaces. */
  readonly from?: string;
}

/**
 * The `Inst`/`Remv`/`Purg` lines of `apt-get -s`:
 *   Inst vdsm [4.50.1-1] (4.50.2-1 lab:./ [amd64])
 *   Inst hello (2.10-3 Debian:12.15/oldstable [amd64])
 *   Remv nano [7.2-1]
 * (`Conf` lines repeat the `Inst` ones.) Downgrades are told apart with the version rules.
 */
export function parseAptSimulation(text: string, compare: (a: string, b: string) => number): SimulatedAction[] {
  const out: SimulatedAction[] = [];
  for (const line of text.split('\n')) {
    let m = /^Inst (\S+)(?: \[([^\]]+)\])? \((\S+)/.exec(line);
    if (m !== null) {
      const [, name, from, version] = m as unknown as [string, string, string | undefined, string];
      if (from === undefined) out.push({ action: 'install', name, version });
      else {
        const c = compare(version, from);
        out.push({ action: c > 0 ? 'upgrade' : c < 0 ? 'downgrade' : 'reinstall', name, version, from });
      }
      continue;
    }
    m = /^(Remv|Purg) (\S+)(?: \[([^\]]+)\])?/.exec(line);
    if (m !== null) out.push({ action: m[1] === 'Purg' ? 'purge' : 'remove', name: m[2]!, version: m[3] ?? '' });
  }
  return out;
}

export function describeSimulation(actions: readonly SimulatedAction[]): string {
  if (actions.length === 0) return 'no package changes';
  return actions
    .map((a) =>
      a.from === undefined ? `${a.action} ${a.name} ${a.version}` : `${a.action} ${a.name} ${a.from} → ${a.version}`,
    )
    .join('\n');
}

/** Who holds the dpkg or apt lock, from apt's error text; null when the failure is something else. */
export function aptLockHolder(output: string): string | null {
  if (
    !/Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock (the administration|directory)/.test(
      output,
    )
  )
    return null;
  const m = /held by process (\d+)(?: \(([^)]+)\))?/.exec(output);
  if (m === null) return '';
  return m[2] === undefined ? `process ${m[1]}` : `process ${m[1]}, ${m[2]}`;
}
