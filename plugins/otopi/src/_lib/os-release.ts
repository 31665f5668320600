/**
 * The distribution, from os-release(5): `ID`, `ID_LIKE`, `VERSION_ID`, `PRETTY_NAME`.
 * Decisions (which packager, where firewall rules persist) go by family, not by name, so
 * derivatives (Rocky, AlmaLinux, Ubuntu, Raspbian) land right.
 */
import { readFileSync } from 'node:fs';
import type { OsFamily, OsRelease } from '@otopi/core';

export type { OsFamily, OsRelease } from '@otopi/core';

export const UNKNOWN_OS: OsRelease = { id: 'unknown', idLike: [], versionId: '', prettyName: 'unknown' };

/** Parses os-release text: `KEY=value`, values optionally quoted with shell escapes. */
export function parseOsRelease(text: string): OsRelease {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m === null) continue;
    fields.set(m[1]!, unquote(m[2]!));
  }
  return {
    id: (fields.get('ID') ?? 'unknown').toLowerCase(),
    idLike: (fields.get('ID_LIKE') ?? '').toLowerCase().split(/\s+/).filter(Boolean),
    versionId: fields.get('VERSION_ID') ?? '',
    prettyName: fields.get('PRETTY_NAME') ?? fields.get('NAME') ?? 'unknown',
  };
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) {
    const inner = v.slice(1, -1);
    return v[0] === '"' ? inner.replace(/\\(["\\`$])/g, '$1') : inner;
  }
  return v;
}

/** Reads /etc/os-release, falling back to /usr/lib/os-release as the spec says. */
export function readOsRelease(files: readonly string[] = ['/etc/os-release', '/usr/lib/os-release']): OsRelease {
  for (const file of files) {
    try {
      return parseOsRelease(readFileSync(file, 'utf8'));
    } catch {
      // try the next one
    }
  }
  return UNKNOWN_OS;
}

export function osFamily(os: OsRelease): OsFamily {
  const names = [os.id, ...os.idLike];
  if (names.some((n) => n === 'debian' || n === 'ubuntu')) return 'debian';
  if (names.some((n) => ['rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'ol', 'amzn'].includes(n))) return 'rhel';
  if (names.some((n) => n === 'suse' || n.startsWith('opensuse') || n === 'sles')) return 'suse';
  if (os.id === 'alpine') return 'alpine';
  return 'unknown';
}
