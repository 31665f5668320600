/**
 * Keys no loaded group declares. otopi's environment takes any key: answer files carry keys of
 * other plugins and other tools (`OVESETUP_*`), and a newer engine sends keys an older host
 * has never heard of. So does ours; a key is refused only when it is not well formed.
 *
 * The typo protection that remains: a key in a namespace (the part before the first `/`) that
 * a loaded group owns, but that matches none of its declared keys, is most likely a typo
 * (`VDSM/engineHots`). The runtime warns about it once, naming the closest declared key, or
 * refuses it when `BASE/strictKeys` is on. A key in a namespace no group owns passes silently.
 */
/** What the check needs of the declared keys (the environment's `EnvRegistry`). */
export interface DeclaredKeys {
  /** The declaration or family that governs `key`, if any. */
  lookup(key: string): unknown;
  declared(): readonly { readonly key: string }[];
  familyList(): readonly { readonly prefix: string }[];
}

/** A well-formed key: a namespace, then one or more `/`-separated parts (`QUESTION/1/DIALOG_CONFIRM/GPG_KEY`). */
export const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z0-9_.-]+)+$/;

/** Key names that hold a secret by the look of them, for keys no group declares (so none says they are sensitive). */
const SECRET_NAME_RE = /pass(?:word|wd|phrase)?|secret|token|private|credential/i;

/** Whether an undeclared key's value is treated as a secret: redacted, and left out of answer files. */
export function looksSecret(key: string): boolean {
  return SECRET_NAME_RE.test(key.slice(key.indexOf('/') + 1));
}

/** The namespace of a key: the part before the first `/`. */
export function namespaceOf(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? key : key.slice(0, slash);
}

/** What is known about a key no group declares, in a namespace a loaded group owns. */
export interface UndeclaredKey {
  readonly key: string;
  readonly namespace: string;
  /** The declared key (or `PREFIX/*` family) of the namespace closest to `key`. */
  readonly closest: string;
  /** `closest` is near enough to be what was meant. */
  readonly likelyTypo: boolean;
}

/**
 * Checks a key against the declared ones: `undefined` when it is declared (or belongs to a
 * family), or when its namespace belongs to no loaded group.
 */
export function checkUndeclared(registry: DeclaredKeys, key: string): UndeclaredKey | undefined {
  if (registry.lookup(key) !== undefined) return undefined;
  const namespace = namespaceOf(key);
  const candidates = [
    ...registry
      .declared()
      .map((k) => k.key)
      .filter((k) => namespaceOf(k) === namespace),
    ...registry
      .familyList()
      .map((f) => `${f.prefix}/*`)
      .filter((k) => namespaceOf(k) === namespace),
  ];
  if (candidates.length === 0) return undefined;
  const lower = key.toLowerCase();
  let best = candidates[0]!;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates.sort()) {
    const d = editDistance(candidate.toLowerCase(), lower);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return { key, namespace, closest: best, likelyTypo: bestDistance <= typoDistance(key) };
}

/** How many edits still make a likely typo: 2, or a quarter of the key's length when longer. */
export function typoDistance(key: string): number {
  return Math.max(2, Math.floor(key.length / 4));
}

/** The warning (or, in strict runs, error) text for an undeclared key. */
export function undeclaredMessage(notice: UndeclaredKey, from: string): string {
  const closest = notice.likelyTypo
    ? `did you mean ${notice.closest}?`
    : `the closest declared one is ${notice.closest}`;
  return `'${notice.key}' (from ${from}): no loaded group declares this ${notice.namespace}/ key; ${closest}`;
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
