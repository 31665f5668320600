/**
 * Package version comparison by the distributions' own rules: dpkg's for Debian and Ubuntu,
 * rpm's for EL and Fedora. Neither is semver (`1.0~rc1` is older than `1.0` for both;
 * `1.0^post` newer than `1.0` for rpm; epochs beat everything).
 *
 * Results are -1, 0 or 1.
 */

export type VersionScheme = 'deb' | 'rpm';

export function compareVersions(scheme: VersionScheme, a: string, b: string): -1 | 0 | 1 {
  return scheme === 'deb' ? compareDebVersions(a, b) : compareRpmVersions(a, b);
}

const sign = (n: number): -1 | 0 | 1 => (n < 0 ? -1 : n > 0 ? 1 : 0);

// ---- dpkg ----

interface DebVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

export function parseDebVersion(text: string): DebVersion {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(trimmed.slice(0, colon)) ? Number(trimmed.slice(0, colon)) : 0;
  const rest = colon > 0 && /^\d+$/.test(trimmed.slice(0, colon)) ? trimmed.slice(colon + 1) : trimmed;
  const dash = rest.lastIndexOf('-');
  return dash >= 0
    ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) }
    : { epoch, upstream: rest, revision: '' };
}

export function compareDebVersions(a: string, b: string): -1 | 0 | 1 {
  const va = parseDebVersion(a);
  const vb = parseDebVersion(b);
  if (va.epoch !== vb.epoch) return sign(va.epoch - vb.epoch);
  return sign(debPartCompare(va.upstream, vb.upstream) || debPartCompare(va.revision, vb.revision));
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean => c !== undefined && /[A-Za-z]/.test(c);

/** dpkg's character order: `~` before the end, the end before letters, letters before the rest. */
function debOrder(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (isAlpha(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

function debPartCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = debOrder(a[i]);
      const bc = debOrder(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

// ---- rpm ----

interface RpmVersion {
  readonly epoch: number;
  readonly version: string;
  readonly release: string | undefined;
}

/** `[epoch:]version[-release]`. */
export function parseRpmVersion(text: string): RpmVersion {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const hasEpoch = colon > 0 && /^\d+$/.test(trimmed.slice(0, colon));
  const rest = hasEpoch ? trimmed.slice(colon + 1) : trimmed;
  const dash = rest.lastIndexOf('-');
  return {
    epoch: hasEpoch ? Number(trimmed.slice(0, colon)) : 0,
    version: dash >= 0 ? rest.slice(0, dash) : rest,
    release: dash >= 0 ? rest.slice(dash + 1) : undefined,
  };
}

export function compareRpmVersions(a: string, b: string): -1 | 0 | 1 {
  const va = parseRpmVersion(a);
  const vb = parseRpmVersion(b);
  if (va.epoch !== vb.epoch) return sign(va.epoch - vb.epoch);
  const byVersion = rpmvercmp(va.version, vb.version);
  if (byVersion !== 0 || va.release === undefined || vb.release === undefined) return byVersion;
  return rpmvercmp(va.release, vb.release);
}

const isAlnum = (c: string | undefined): boolean => isDigit(c) || isAlpha(c);

/** rpm's segment comparison, including `~` (sorts before anything) and `^` (after the base). */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = isDigit(a[i]);
    const take = numeric ? isDigit : isAlpha;
    const si = i;
    const sj = j;
    while (i < a.length && take(a[i])) i++;
    while (j < b.length && take(b[j])) j++;
    let segA = a.slice(si, i);
    let segB = b.slice(sj, j);
    // A numeric segment is newer than an alphabetic one.
    if (segB.length === 0) return numeric ? 1 : -1;
    if (numeric) {
      segA = segA.replace(/^0+/, '');
      segB = segB.replace(/^0+/, '');
      if (segA.length !== segB.length) return segA.length > segB.length ? 1 : -1;
    }
    if (segA !== segB) return segA < segB ? -1 : 1;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}
