/**
 * OpenSSH known_hosts files (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"): reading, matching a
 * presented key against them, and appending a key atomically.
 *
 * Supported: plain and wildcard host patterns (`*`, `?`, `!negation`), `[host]:port` for
 * ports other than 22, hashed names (`|1|salt|hmac`, HMAC-SHA1 keyed by the salt), and
 * the `@revoked` marker, which refuses its key for every host. `@cert-authority` lines are
 * kept out of matching: host certificates are not supported, so a CA line never vouches
 * for a plain key.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.js';
import { EngineError } from '../errors.js';
import { fingerprintOf, type HostKey } from './fingerprint.js';

export type KnownHostMarker = 'revoked' | 'cert-authority';

export interface KnownHostEntry {
  readonly marker: KnownHostMarker | undefined;
  /** The comma-separated patterns of the first field, or one hashed name. */
  readonly patterns: readonly string[];
  readonly key: HostKey;
  /** 1-based line in the file, for messages. */
  readonly line: number;
}

/** Parses a known_hosts text. Lines that cannot be read are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/[ \t]+/);
    let marker: KnownHostMarker | undefined;
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
    } else if (fields[0]?.startsWith('@') === true) {
      continue; // an unknown marker: never trust the line
    }
    const [hosts, type, data] = fields;
    if (hosts === undefined || type === undefined || data === undefined) continue;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) continue;
    entries.push({ marker, patterns: hosts.split(','), key: { type, blob: Buffer.from(data, 'base64') }, line: i + 1 });
  }
  return entries;
}

/** The name a host is recorded under: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function wildcardMatch(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const parts = pattern.split('|'); // ['', '1', salt, hmac]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const expected = parts[3] ?? '';
  return createHmac('sha1', salt).update(name).digest('base64') === expected;
}

/** Whether an entry's host field names `name` (already in `[host]:port` form when needed). */
export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  let matched = false;
  for (const pattern of entry.patterns) {
    if (pattern.startsWith('|')) {
      if (hashedMatch(pattern, name)) matched = true;
    } else if (pattern.startsWith('!')) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

const sameKey = (a: HostKey, b: HostKey): boolean => a.type === b.type && a.blob.equals(b.blob);

export type KnownHostVerdict =
  | { readonly kind: 'match'; readonly line: number }
  | { readonly kind: 'revoked'; readonly line: number }
  /** The host is recorded, with other keys: `expected` holds their fingerprints. */
  | { readonly kind: 'mismatch'; readonly expected: readonly { fingerprint: string; type: string; line: number }[] }
  | { readonly kind: 'unknown' };

/** Looks a presented key up for `host:port`. */
export function checkKnownHost(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  key: HostKey,
): KnownHostVerdict {
  const revoked = entries.find((e) => e.marker === 'revoked' && sameKey(e.key, key));
  if (revoked !== undefined) return { kind: 'revoked', line: revoked.line };
  const name = knownHostName(host, port);
  const forHost = entries.filter((e) => e.marker === undefined && entryMatchesHost(e, name));
  const match = forHost.find((e) => sameKey(e.key, key));
  if (match !== undefined) return { kind: 'match', line: match.line };
  if (forHost.length === 0) return { kind: 'unknown' };
  return {
    kind: 'mismatch',
    expected: forHost.map((e) => ({ fingerprint: fingerprintOf(e.key.blob), type: e.key.type, line: e.line })),
  };
}

/** The key types recorded for `host:port`, in file order, for preferring them in the handshake. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const name = knownHostName(host, port);
  const types = entries.filter((e) => e.marker === undefined && entryMatchesHost(e, name)).map((e) => e.key.type);
  return [...new Set(types)];
}

/** A known_hosts line for a key; with `hash`, the name is stored hashed as `ssh-keygen -H` does. */
export function formatKnownHostLine(
  host: string,
  port: number,
  key: HostKey,
  options: { hash?: boolean } = {},
): string {
  const name = knownHostName(host, port);
  let field = name;
  if (options.hash === true) {
    const salt = randomBytes(20);
    field = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  }
  return `${field} ${key.type} ${key.blob.toString('base64')}`;
}

/** Reads a known_hosts file; a missing file is an empty one. */
export function readKnownHostsFile(file: string): KnownHostEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new EngineError('KNOWN_HOSTS_UNREADABLE', `cannot read known_hosts file ${file}`, { cause: error });
  }
  return parseKnownHosts(text);
}

/**
 * Appends one line to a known_hosts file atomically: the whole new file is written beside
 * the old one, synced, and renamed over it, so a reader never sees half a line. The mode of
 * an existing file is kept; a new file is 0600.
 */
export function appendKnownHost(file: string, line: string): void {
  let old = '';
  let mode = 0o600;
  try {
    old = readFileSync(file, 'utf8');
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new EngineError('KNOWN_HOSTS_WRITE', `cannot read known_hosts file ${file}`, { cause: error });
    }
  }
  const text = `${old}${old === '' || old.endsWith('\n') ? '' : '\n'}${line}\n`;
  try {
    writeFileAtomic(file, text, mode);
  } catch (error) {
    throw new EngineError('KNOWN_HOSTS_WRITE', `cannot add the host key to ${file}`, { cause: error });
  }
}
