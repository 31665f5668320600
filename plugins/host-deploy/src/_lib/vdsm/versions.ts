/**
 * The vdsm version check: the best version the host has or can get must reach the minimum,
 * by the packager's own rules (dpkg or rpm), not Python's LooseVersion as before.
 */
import type { PackageInfo } from '@otopi/core';

export type Compare = (a: string, b: string) => -1 | 0 | 1;

/** The highest version among the packages given, or null. */
export function bestVersion(packages: readonly PackageInfo[], compare: Compare): string | null {
  let best: string | null = null;
  for (const p of packages) if (best === null || compare(p.version, best) > 0) best = p.version;
  return best;
}

export interface MinimumVerdict {
  readonly ok: boolean;
  readonly version: string | null;
  readonly message: string;
}

export function checkMinimum(
  name: string,
  candidates: readonly PackageInfo[],
  minimum: string | null,
  compare: Compare,
): MinimumVerdict {
  const version = bestVersion(candidates, compare);
  if (version === null)
    return { ok: false, version, message: `Cannot locate ${name} package, possible cause is incorrect channels` };
  if (minimum !== null && minimum.trim() !== '' && compare(version, minimum.trim()) < 0)
    return { ok: false, version, message: `${name} ${version} is older than the minimum ${minimum.trim()}` };
  return { ok: true, version, message: `${name} ${version}${minimum === null ? '' : ` (minimum ${minimum})`}` };
}
