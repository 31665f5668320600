/**
 * Whether a phase's package requests are already met by what is installed, judged without the
 * package manager: then it does not run at all, so a converged host gets no package index
 * refresh and no simulated or real transaction.
 */
import type { PackageRequest } from '@otopi/core';

/** A plain package name: no version, architecture, path or pattern, which only the package manager can judge. */
const PLAIN = /^[a-z0-9][a-z0-9+._-]*$/i;

/**
 * True when every package to install is installed, none to remove is, and none to update is
 * installed (an update needs the repositories to know; one of a package that is not installed
 * is left alone, as apt's `--only-upgrade` and `dnf upgrade` do).
 */
export function alreadySatisfied(requests: readonly PackageRequest[], installed: ReadonlyMap<string, string>): boolean {
  const names = installedNames(installed);
  return requests.every((r) =>
    r.packages.every((name) => {
      if (!PLAIN.test(name)) return false;
      const has = names.has(name);
      return r.action === 'install' ? has : !has;
    }),
  );
}

const ARCHES = new Set(['noarch', 'x86_64', 'i686', 'aarch64', 'ppc64le', 's390x', 'armv7hl', 'src']);

/**
 * The package names of a snapshot, whose keys may carry an architecture: `name.arch` (dnf, which
 * keys by it for multilib and install-only packages) or `name:arch` (dpkg).
 */
function installedNames(installed: ReadonlyMap<string, string>): Set<string> {
  const names = new Set<string>();
  for (const key of installed.keys()) {
    names.add(key);
    const colon = key.lastIndexOf(':');
    if (colon > 0) names.add(key.slice(0, colon));
    const dot = key.lastIndexOf('.');
    if (dot > 0 && ARCHES.has(key.slice(dot + 1))) names.add(key.slice(0, dot));
  }
  return names;
}
