/**
 * What a run changed on the host, or under dry run would change: one short line each
 * (`/etc/vdsm/vdsm.conf`, `start service vdsmd`), collected in `CORE/changes` so that a person
 * (the end of the run) and an engine (`env-get CORE/changes` at termination) can tell a run that
 * changed something from one that found everything in place. Transactions record the elements
 * whose commit changes something; providers that act at once (services) record what they do.
 */
import type { Environment } from '../env/environment.js';
import { CoreEnv } from './keys.js';

let current: Environment | undefined;

/** Set by the runtime for the length of its run. */
export function setChangeTarget(env: Environment | undefined): void {
  current = env;
}

/** Records a change this run made (or under dry run would make); a repeat of the same line is kept once. */
export function recordChange(what: string): void {
  if (current === undefined) return;
  const changes = current.get(CoreEnv.changes);
  if (!changes.includes(what)) current.set(CoreEnv.changes, [...changes, what]);
}
