/**
 * Parsers for rpm, dnf (4 and 5) and yum output. The CLIs are the only stable interface
 * left (otopi's python API use broke with every dnf major release), so these accept the
 * layouts of all three, including dnf4's wrapping of long package names.
 */
import type { PackageInfo, UpdateInfo } from './types.js';

/** rpm query format: name, [epoch:]version-release, arch. */
export const RPM_FORMAT = '%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\n';

export function parseRpmQuery(text: string): PackageInfo[] {
  const out: PackageInfo[] = [];
  for (const line of text.split('\n')) {
    const [name, version, arch] = line.split('\t');
    // "package foo is not installed" lines have no tabs.
    if (name === undefined || version === undefined || arch === undefined || name === '') continue;
    out.push({ name, version, arch: arch.trim(), source: 'installed' });
  }
  return out;
}

/** `name.arch` → name and arch (names may contain dots; the arch is after the last one). */
function splitNameArch(text: string): { name: string; arch: string } | null {
  const dot = text.lastIndexOf('.');
  if (dot <= 0 || dot === text.length - 1) return null;
  return { name: text.slice(0, dot), arch: text.slice(dot + 1) };
}

const SECTION_RE = /^(available|installed|upgraded|updated|obsoleting|extra|recently added)\s+packages:?$/i;

interface ListedRow {
  readonly section: string;
  readonly name: string;
  readonly arch: string;
  readonly version: string;
  readonly repo: string;
}

/**
 * Rows of `dnf list` / `yum list` / `dnf check-update`: `name.arch  version  repo`, with
 * a row wrapped after a long `name.arch` joined back. Section headers (`Available Packages`)
 * name the section; rows before any header are in section ''.
 */
export function parsePackageRows(text: string): ListedRow[] {
  const out: ListedRow[] = [];
  let section = '';
  let pending: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const header = SECTION_RE.exec(line.trim());
    if (header !== null) {
      section = header[1]!.toLowerCase();
      pending = undefined;
      continue;
    }
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (pending !== undefined && /^\s/.test(line) && words.length === 2) {
      words.unshift(pending);
    }
    pending = undefined;
    if (words.length === 1 && !/^\s/.test(line) && splitNameArch(words[0]!) !== null) {
      pending = words[0];
      continue;
    }
    if (words.length !== 3) continue;
    const na = splitNameArch(words[0]!);
    // A version has a '-' (version-release); this keeps "Last metadata expiration…" and the like out.
    if (na === null || !/^[^\s]*\d[^\s]*-[^\s]+$/.test(words[1]!)) continue;
    out.push({ section, name: na.name, arch: na.arch, version: words[1]!, repo: words[2]!.replace(/^@/, '') });
  }
  return out;
}

export function availableFromList(text: string): PackageInfo[] {
  return parsePackageRows(text)
    .filter((r) => r.section === 'available' || r.section === '')
    .map((r) => ({ name: r.name, version: r.version, arch: r.arch, source: r.repo }));
}

/** `dnf check-update` rows (exit 100), matched with the installed versions. */
export function updatesFromCheck(text: string, installed: readonly PackageInfo[]): UpdateInfo[] {
  const have = new Map(installed.map((p) => [`${p.name}.${p.arch}`, p.version]));
  const out: UpdateInfo[] = [];
  for (const r of parsePackageRows(text)) {
    if (r.section === 'obsoleting' || r.section === 'installed') continue;
    const current = have.get(`${r.name}.${r.arch}`);
    if (current !== undefined) out.push({ name: r.name, installed: current, available: r.version });
  }
  return out;
}

/** Transaction ids from `dnf history list` / `yum history list` (pipe tables, or dnf5's plain columns). */
export function parseHistoryIds(text: string): number[] {
  const ids: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s*(?:\||\s\S)/.exec(line);
    if (m !== null) ids.push(Number(m[1]));
  }
  return ids;
}

export interface ResolvedAction {
  readonly action: string;
  readonly name: string;
  readonly arch: string;
  readonly version: string;
}

const RESOLVE_SECTION_RE =
  /^(Installing|Installing dependencies|Installing weak dependencies|Upgrading|Updating|Downgrading|Reinstalling|Removing|Removing dependent packages|Removing unused dependencies|Erasing|Installing for dependencies|Updating for dependencies):$/;

/** The resolved transaction table dnf or yum prints before asking (`--assumeno`). */
export function parseResolution(text: string): ResolvedAction[] {
  const out: ResolvedAction[] = [];
  let section: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const head = RESOLVE_SECTION_RE.exec(line.trim());
    if (head !== null && !/^\s{2,}/.test(line)) {
      section = head[1]!.toLowerCase();
      continue;
    }
    if (section === undefined) continue;
    if (line.trim() === '' || /^(Transaction Summary|=+|-+)/.test(line.trim())) {
      if (/^Transaction Summary/.test(line.trim())) section = undefined;
      continue;
    }
    const words = line.trim().split(/\s+/);
    if (/^\s/.test(line) && words.length >= 4 && words[0] !== 'replacing') {
      out.push({ action: section, name: words[0]!, arch: words[1]!, version: words[2]! });
    }
  }
  return out;
}

/** The verb of a resolution section, as the apt packager says it: `Installing dependencies` → install. */
export function resolutionVerb(section: string): string {
  if (section.startsWith('install')) return 'install';
  if (section.startsWith('upgrad') || section.startsWith('updat')) return 'upgrade';
  if (section.startsWith('downgrad')) return 'downgrade';
  if (section.startsWith('reinstall')) return 'reinstall';
  return 'remove';
}

/**
 * A resolved transaction as the dry run shows it: `install vdsm-client.noarch 4.50.2-1`,
 * `upgrade vdsm.noarch 4.50.1-1 → 4.50.2-1` (the version before, from what rpm has installed).
 */
export function describeResolution(actions: readonly ResolvedAction[], installed: readonly PackageInfo[]): string {
  if (actions.length === 0) return 'no package changes';
  const have = new Map(installed.map((p) => [`${p.name}.${p.arch}`, p.version]));
  return actions
    .map((a) => {
      const verb = resolutionVerb(a.action);
      const from = verb === 'remove' ? undefined : have.get(`${a.name}.${a.arch}`);
      return `${verb} ${a.name}.${a.arch} ${from === undefined ? a.version : `${from} → ${a.version}`}`;
    })
    .join('\n');
}

/**
 * The major version from `dnf --version`: dnf 4 prints its version alone on the first line
 * (`4.14.0`), dnf 5 `dnf5 version 5.2.6`. null when neither.
 */
export function dnfMajorVersion(text: string): number | null {
  const first = text.trimStart().split('\n')[0] ?? '';
  const m = /^(?:dnf5 version )?(\d+)\.\d+/.exec(first.trim());
  return m === null ? null : Number(m[1]);
}

/** The names `rpm -q` reported as not installed (`package vdsm-client is not installed`). */
export function notInstalled(rpmOutput: string): Set<string> {
  const out = new Set<string>();
  for (const m of rpmOutput.matchAll(/^package (\S+) is not installed$/gm)) out.add(m[1]!);
  return out;
}

/** Who holds the rpm/dnf/yum lock, from the tool's error text; null when the failure is something else. */
export function rpmLockHolder(output: string): string | null {
  if (
    !/transaction lock|Failed to obtain.*lock|Could not obtain lock|Cannot lock|Another app is currently holding the yum lock|Waiting for process with pid|already locked by \d+/i.test(
      output,
    )
  ) {
    return null;
  }
  // dnf 4 with exit_on_lock: "RPMDB already locked by 1815" and "The application with PID 1815 is: sleep".
  const app = /The application with PID (\d+) is: (\S+)/.exec(output);
  if (app !== null) return `process ${app[1]}, ${app[2]}`;
  const m = /pid:? (\d+)|process (\d+)|locked by (\d+)/i.exec(output);
  return m === null ? '' : `process ${m[1] ?? m[2] ?? m[3]}`;
}
