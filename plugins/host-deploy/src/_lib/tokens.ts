/**
 * Providers shared by the plugins of this group, plus the base group's tokens from core.
 * `VDSM_CHANGES` collects what vdsm must be restarted for (its configuration, its
 * certificates): the packages plugin restarts vdsmd at closeup only when one changed.
 */
import { Providers, defineProvider, type ProviderRegistry } from '@otopi/core';

export const { COMMANDS, SYSTEM_INFO, PACKAGER, SERVICES, FIREWALL } = Providers;

export interface ChangeSource {
  readonly what: string;
  /** Whether the change happened; asked after the commit. */
  changed(): boolean;
}

export class VdsmChanges {
  private readonly sources: ChangeSource[] = [];
  add(source: ChangeSource): void {
    this.sources.push(source);
  }
  /** What changed, e.g. `['vdsm.conf', 'certificates']`. */
  changed(): string[] {
    return this.sources.filter((s) => s.changed()).map((s) => s.what);
  }
}

const VDSM_CHANGES = defineProvider<VdsmChanges>('host-deploy.vdsm.changes');

export function vdsmChanges(providers: ProviderRegistry): VdsmChanges {
  let changes = providers.find(VDSM_CHANGES);
  if (changes === undefined) {
    changes = new VdsmChanges();
    providers.provide(VDSM_CHANGES, changes);
  }
  return changes;
}
