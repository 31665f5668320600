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
  return requests.every((r) =>
    r.packages.every((name) => {
      if (!PLAIN.test(name)) return false;
      const has = installed.has(name);
      return r.action === 'install' ? has : !has;
    }),
  );
}
