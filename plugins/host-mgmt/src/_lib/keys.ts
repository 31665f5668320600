/**
 * Environment keys of the host-mgmt group, byte-identical to ovirt-host-mgmt's (reference
 * host-deploy.md §2.14), and the keys it shares with host-deploy (the incomplete-install report
 * the engine reads at termination, the correlation id), as the same tokens, since both groups
 * are built from one source (`plugins/host-deploy/src/_lib`). The two groups are not loaded
 * in one run.
 */
import { defineEnv, key, keySchema } from '@otopi/core';
import { OdeployEnv, OvirtEngineEnv } from '../../../host-deploy/src/_lib/keys.js';

export const UPDATE_MODES = ['disabled', 'checkUpdate', 'update'] as const;
export type UpdateMode = (typeof UPDATE_MODES)[number];

export const OmgmtCoreEnv = defineEnv('OMGMT_CORE', {
  offlinePackager: key.bool({
    default: false,
    description:
      "Install nothing: the base group's offline packager is selected (PACKAGER/packager=str:offline); a check lists no update and an upgrade only checks that the packages are installed.",
  }),
});

export const OmgmtPackagesEnv = defineEnv('OMGMT_PACKAGES', {
  packagesUpdateMode: key.str({
    default: 'disabled',
    schema: keySchema.oneOf(UPDATE_MODES),
    description:
      "What to do with OMGMT_PACKAGES/packages: 'disabled' (nothing), 'checkUpdate' (list the updates in packagesInfo, change nothing) or 'update' (upgrade them; a failure rolls the packages back).",
  }),
  packages: key.multiStr({
    default: [],
    description:
      'Names of the packages to check or upgrade, one per line (only installed ones are considered: an upgrade installs nothing new).',
  }),
  packagesInfo: key.multiStr({
    default: [],
    description:
      "Set by the run: the updates found, one 'name-version' per line (e.g. vdsm-4.50.2-1); the engine reads it at termination.",
  }),
});

/** The host-deploy keys this group sets or reads, declared by it too. */
export const SharedOdeployKeys = {
  installIncomplete: OdeployEnv.installIncomplete,
  installIncompleteReasons: OdeployEnv.installIncompleteReasons,
};

export { OvirtEngineEnv };
