/**
 * The host-deploy group's contract with its engine-side program (`docs/plugins.md`, "A group's
 * engine program"): the environment keys an engine sets and reads, and the names of the
 * dialog's questions and shown values. The group's plugins and the engine's host-deploy program
 * (`packages/engine/src/host-deploy/`) both import this module, so a key or a question that one
 * side misspells, or a value of the wrong type, fails the type check instead of a deploy.
 *
 * It imports only `@otopi/core` and the group's key declarations: host bundles carry it, the
 * engine inlines it.
 */
import { dialogName } from '@otopi/core';

export {
  KdumpEnv,
  KernelEnv,
  NetworkCompatEnv,
  OdeployEnv,
  OvirtEngineEnv,
  TuneEnv,
  VdsmConfigFamily,
  VdsmEnv,
  VirtEnv,
} from './keys.js';
export { GlusterEnv } from './keys-accepted.js';

/** Asked at init: whether to go on with the deploy (the engine answers yes). */
export const DEPLOY_PROCEED = dialogName.confirm('DEPLOY_PROCEED');
/** The host's certificate request, PEM lines, shown when it enrolls (VDSM/certificateEnrollment). */
export const CERTIFICATE_REQUEST = dialogName.displayMultiString('VDSM_CERTIFICATE_REQUEST');
/** Asked after the request: the signed chain, PEM lines, CA first. */
export const CERTIFICATE_CHAIN = dialogName.queryMultiString('VDSM_CERTIFICATE_CHAIN');
