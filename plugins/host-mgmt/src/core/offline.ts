/**
 * OMGMT_CORE/offlinePackager: install nothing. Selects the base group's offline packager before
 * it is chosen, as ODEPLOY/offlinePackager does for host-deploy; set later (at the command
 * prompt) it is refused at validation instead of silently using the real packager.
 */
import { OtopiError, Priority, definePlugin } from '@otopi/core';
import { BASE_HANDLERS, BasePackagerEnv } from '../../../host-deploy/src/_lib/foreign.js';
import { PACKAGER } from '../../../host-deploy/src/_lib/tokens.js';
import { OmgmtCoreEnv } from '../_lib/keys.js';

export default definePlugin({
  env: [OmgmtCoreEnv],
  setup(plugin) {
    plugin.on({
      name: 'select',
      stage: 'setup',
      priority: Priority.FIRST,
      before: BASE_HANDLERS.packagerDetection,
      condition: ({ env }) => env.get(OmgmtCoreEnv.offlinePackager),
      run: ({ env, log }) => {
        env.set(BasePackagerEnv.packager, 'offline');
        log.info('Offline packager: no package is installed or upgraded, and no repository is consulted');
      },
    });
    plugin.on({
      name: 'check',
      stage: 'validation',
      priority: Priority.FIRST,
      condition: ({ env }) => env.get(OmgmtCoreEnv.offlinePackager),
      run: ({ providers }) => {
        const packager = providers.get(PACKAGER).name;
        if (packager !== 'offline')
          throw new OtopiError(
            'ENV_BAD_VALUE',
            `OMGMT_CORE/offlinePackager was set after the packager (${packager}) was chosen`,
            {
              key: OmgmtCoreEnv.offlinePackager.key,
              hint: 'Give it on the command line or in [environment:init] of /etc/ovirt-host-mgmt.conf.d/*.conf.',
            },
          );
      },
    });
  },
});
