/** ODEPLOY/installIncomplete: the host needs a manual step before the engine can use it. */
import type { Environment } from '@otopi/core';
import { OdeployEnv } from './keys.js';

/** Adds a reason to ODEPLOY/installIncompleteReasons and marks the install incomplete. */
export function markIncomplete(env: Environment, reason: string): void {
  env.set(OdeployEnv.installIncomplete, true);
  const reasons = env.get(OdeployEnv.installIncompleteReasons);
  if (!reasons.includes(reason)) env.set(OdeployEnv.installIncompleteReasons, [...reasons, reason]);
}
