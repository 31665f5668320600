/**
 * The keys a set of plugin groups declares, and who declares each: for the environment
 * reference (`otopi env-doc`) and for checking keys before anything runs (`otopi deploy`
 * checks inventory and command-line keys before it connects to a host).
 */
import type { EnvFamily, EnvKey } from '../env/declare.js';
import type { EnvRegistry } from '../env/environment.js';
import type { ReferenceSection } from '../env/reference.js';
import { importGroups, type GroupLocation } from '../plugin/load.js';
import { Runtime } from './runtime.js';

export interface KeyCatalogue {
  /** Every declared key and family. */
  readonly registry: EnvRegistry;
  /** By owner: the runtime, then each group in the order loaded. */
  readonly sections: readonly ReferenceSection[];
  /** Who declares `key` (or the family it belongs to): `runtime` or a group's name. */
  ownerOf(key: string): string | undefined;
}

const ABOUT_RUNTIME = 'Keys of the runtime itself (stages, log, config files, transactions, dialogs): always there.';

/**
 * Loads the groups (each location once, in order) into a runtime that never runs, and records
 * which keys each declares.
 *
 * @throws OtopiError `PLUGIN_*` when a group does not load.
 */
export async function loadKeyCatalogue(
  locations: readonly GroupLocation[],
  about: (group: string) => string = (group) =>
    group === 'otopi' ? 'The base group, always loaded.' : `Loaded with BASE/pluginGroups (or --group ${group}).`,
): Promise<KeyCatalogue> {
  const runtime = new Runtime();
  const registry = runtime.env.registry;
  const seenKeys = new Set<string>();
  const seenFamilies = new Set<string>();
  const owners = new Map<string, string>();
  const take = (owner: string, text: string): ReferenceSection => {
    const keys: EnvKey<unknown>[] = registry.declared().filter((k) => !seenKeys.has(k.key));
    const families: EnvFamily<unknown>[] = registry.familyList().filter((f) => !seenFamilies.has(f.prefix));
    for (const k of keys) {
      seenKeys.add(k.key);
      owners.set(k.key, owner);
    }
    for (const f of families) {
      seenFamilies.add(f.prefix);
      owners.set(`${f.prefix}/*`, owner);
    }
    return { owner, about: text, keys, families };
  };
  const sections = [take('runtime', ABOUT_RUNTIME)];
  for (const location of locations) {
    for (const { plugin, defaultName } of await importGroups([location])) runtime.register(plugin, defaultName);
    sections.push(take(location.group, about(location.group)));
  }
  return {
    registry,
    sections,
    ownerOf(key) {
      const spec = registry.lookup(key);
      if (spec === undefined) return undefined;
      return 'prefix' in spec ? owners.get(`${String(spec.prefix)}/*`) : owners.get(key);
    },
  };
}
