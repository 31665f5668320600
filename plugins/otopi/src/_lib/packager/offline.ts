/**
 * The offline packager: installs nothing. A request to install is a check that the
 * packages are already there; anything missing fails the run at the packages stage with
 * the list, so an image built without network access is validated rather than changed.
 */
import { OtopiError } from '@otopi/core';
import type {
  InstalledSnapshot,
  PackageChanges,
  PackageInfo,
  PackageRequest,
  PackagerBackend,
  UpdateInfo,
} from './types.js';

export class OfflineBackend implements PackagerBackend {
  readonly name = 'offline';

  /** `inner` answers the installed-package queries (dpkg or rpm), or none when neither exists. */
  constructor(private readonly inner: PackagerBackend | null) {}

  get versionScheme(): 'deb' | 'rpm' {
    return this.inner?.versionScheme ?? 'deb';
  }

  refresh(): Promise<void> {
    return Promise.resolve();
  }

  queryInstalled(patterns: readonly string[]): Promise<PackageInfo[]> {
    return this.inner?.queryInstalled(patterns) ?? Promise.resolve([]);
  }

  queryAvailable(): Promise<PackageInfo[]> {
    return Promise.resolve([]);
  }

  checkForUpdates(): Promise<UpdateInfo[]> {
    return Promise.resolve([]);
  }

  snapshot(): Promise<InstalledSnapshot> {
    return Promise.resolve({ versions: new Map(), configOnly: new Set() });
  }

  undoMarker(): Promise<string | null> {
    return Promise.resolve(null);
  }

  async apply(requests: readonly PackageRequest[]): Promise<void> {
    const missing = await this.missing(requests);
    if (missing.length > 0) {
      throw new OtopiError('PREREQUISITE_MISSING', `These packages are needed but not installed: ${missing.join(', ')}`, {
        hint: 'The offline packager installs nothing: install them in the image first, or choose a packager with PACKAGER/packager.',
      });
    }
  }

  async simulate(requests: readonly PackageRequest[]): Promise<string> {
    const missing = await this.missing(requests);
    return missing.length === 0
      ? 'no package changes (offline: every needed package is installed)'
      : `offline: missing ${missing.join(', ')}`;
  }

  undo(_changes: PackageChanges): Promise<string[]> {
    return Promise.resolve([]);
  }

  private async missing(requests: readonly PackageRequest[]): Promise<string[]> {
    const wanted = [
      ...new Set(requests.filter((r) => r.action === 'install').flatMap((r) => r.packages.map(bareName))),
    ];
    if (wanted.length === 0) return [];
    if (this.inner === null) return wanted;
    const present = new Set((await this.inner.queryInstalled(wanted)).map((p) => p.name));
    return wanted.filter((name) => !present.has(name));
  }
}

/** `vdsm=4.50.1-1`, `vdsm>=4.50` → `vdsm`. */
function bareName(spec: string): string {
  return spec.split(/[=<>]/)[0]!.trim();
}
