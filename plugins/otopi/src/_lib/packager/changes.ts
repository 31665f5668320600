/**
 * What a package run changed, from snapshots of the installed packages before and after.
 * Comparing snapshots, rather than reading the package manager's output, also catches the
 * dependencies it pulled in and the packages it removed to make room.
 */
import { compareVersions, type VersionScheme } from '@otopi/core';
import type { InstalledSet, PackageChanges } from './types.js';

export function diffInstalled(scheme: VersionScheme, before: InstalledSet, after: InstalledSet): PackageChanges {
  const installed: { name: string; version: string }[] = [];
  const upgraded: { name: string; from: string; to: string }[] = [];
  const downgraded: { name: string; from: string; to: string }[] = [];
  const removed: { name: string; version: string }[] = [];
  for (const [name, version] of after) {
    const old = before.get(name);
    if (old === undefined) installed.push({ name, version });
    else if (old !== version) {
      (compareVersions(scheme, version, old) > 0 ? upgraded : downgraded).push({ name, from: old, to: version });
    }
  }
  for (const [name, version] of before) if (!after.has(name)) removed.push({ name, version });
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    installed: installed.sort(byName),
    upgraded: upgraded.sort(byName),
    downgraded: downgraded.sort(byName),
    removed: removed.sort(byName),
  };
}

export function isEmpty(changes: PackageChanges): boolean {
  return changes.installed.length + changes.upgraded.length + changes.downgraded.length + changes.removed.length === 0;
}

/** `installed vdsm-4.50.2-1, ovirt-host-4.5.0-1; upgraded …` or `no changes`. */
export function describeChanges(changes: PackageChanges): string {
  const parts: string[] = [];
  const list = (items: readonly { name: string; version: string }[]): string =>
    items.map((i) => `${i.name} ${i.version}`).join(', ');
  const moves = (items: readonly { name: string; from: string; to: string }[]): string =>
    items.map((i) => `${i.name} ${i.from} → ${i.to}`).join(', ');
  if (changes.installed.length > 0) parts.push(`installed ${list(changes.installed)}`);
  if (changes.upgraded.length > 0) parts.push(`upgraded ${moves(changes.upgraded)}`);
  if (changes.downgraded.length > 0) parts.push(`downgraded ${moves(changes.downgraded)}`);
  if (changes.removed.length > 0) parts.push(`removed ${list(changes.removed)}`);
  return parts.length === 0 ? 'no changes' : parts.join('; ');
}
