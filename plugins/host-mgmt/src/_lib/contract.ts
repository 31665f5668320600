/**
 * The host-mgmt group's contract with its engine-side program (as host-deploy's,
 * `plugins/host-deploy/src/_lib/contract.ts`): the keys an engine sets and reads, and the
 * dialog names of the re-enrollment, which are host-deploy's (one enrollment plugin serves both).
 */
export { OmgmtCoreEnv, OmgmtPackagesEnv, SharedOdeployKeys, UPDATE_MODES, type UpdateMode } from './keys.js';
export { CERTIFICATE_CHAIN, CERTIFICATE_REQUEST, VdsmEnv } from '../../../host-deploy/src/_lib/contract.js';
