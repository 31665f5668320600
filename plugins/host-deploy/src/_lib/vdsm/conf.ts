/**
 * vdsm.conf from the VDSM_CONFIG/<section>/<key> keys. Like ovirt-host-deploy, the file is
 * built fresh from the keys (the engine wants a known state, not a merge); unlike it, a run
 * without any VDSM_CONFIG key leaves the file alone instead of emptying it. Sections and
 * keys are sorted, so the same keys always give the same bytes and a second run changes
 * nothing.
 */
import type { Environment } from '@otopi/core';
import { OtopiError } from '@otopi/core';

export const VDSM_CONF = '/etc/vdsm/vdsm.conf';
export const DEFAULT_TRUST_STORE = '/etc/pki/vdsm';
const PREFIX = 'VDSM_CONFIG/';

export interface ConfigEntry {
  readonly section: string;
  readonly key: string;
  readonly value: string;
}

/** The VDSM_CONFIG keys that hold a value. A key without a section is an error. */
export function vdsmConfigEntries(env: Environment): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  for (const name of env.keys()) {
    if (!name.startsWith(PREFIX)) continue;
    const value = env.getRaw(name);
    if (value === null || value === undefined) continue;
    const rest = name.slice(PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1)
      throw new OtopiError('ENV_BAD_VALUE', `'${name}' must name a section and a key: VDSM_CONFIG/<section>/<key>`, {
        key: name,
      });
    const text = Array.isArray(value) ? value.join(',') : String(value);
    if (/[\r\n]/.test(text))
      throw new OtopiError('ENV_BAD_VALUE', `'${name}' holds a line break, which vdsm.conf cannot carry`, {
        key: name,
      });
    out.push({ section: rest.slice(0, slash), key: rest.slice(slash + 1), value: text });
  }
  return out;
}

/** The file text: a header, then `[section]` blocks with `key = value` lines, all sorted. */
export function renderVdsmConf(entries: readonly ConfigEntry[]): string {
  const sections = new Map<string, Map<string, string>>();
  for (const e of entries) {
    const section = sections.get(e.section) ?? new Map<string, string>();
    section.set(e.key, e.value);
    sections.set(e.section, section);
  }
  const lines = ['# Written by ovirt-host-deploy (otopi-ts) from the VDSM_CONFIG keys; replaced by the next deploy.'];
  for (const name of [...sections.keys()].sort()) {
    lines.push('', `[${name}]`);
    const keys = sections.get(name)!;
    for (const key of [...keys.keys()].sort()) lines.push(`${key} = ${keys.get(key)!}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One value of an INI text as Python's configparser reads it (`=` or `:`, comments `#`/`;`). */
export function iniValue(text: string, section: string, key: string): string | null {
  let current: string | null = null;
  let found: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header !== null) {
      current = header[1]!.trim();
      continue;
    }
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (m !== null && current === section && m[1]!.toLowerCase() === key.toLowerCase()) found = m[2]!;
  }
  return found;
}

/**
 * Where vdsm keeps its certificates: `[vars] trust_store_path` of the configuration being
 * written, else of the existing file, else /etc/pki/vdsm.
 */
export function trustStorePath(entries: readonly ConfigEntry[], existing: string | null): string {
  const given = entries.find((e) => e.section === 'vars' && e.key === 'trust_store_path')?.value;
  const fromFile = existing === null ? null : iniValue(existing, 'vars', 'trust_store_path');
  const path = (given ?? fromFile ?? DEFAULT_TRUST_STORE).trim();
  return path.startsWith('/') ? path.replace(/\/+$/, '') || DEFAULT_TRUST_STORE : DEFAULT_TRUST_STORE;
}
