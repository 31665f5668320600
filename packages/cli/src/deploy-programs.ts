/**
 * The dialog programs `otopi deploy` runs for plugin groups beyond the base group, by group
 * name. A group without an entry gets only the base program (its settings, then `install`, and
 * the standard termination). A group that talks to the engine during the deploy (host-deploy:
 * unique host id, certificate signing, ...) registers a `DeployProgramFactory` here; it is
 * called once per host when that host's deploy starts.
 */
import type { DeployProgramFactory } from '@otopi/engine';

export function deployPrograms(): Readonly<Record<string, DeployProgramFactory>> {
  return {};
}
