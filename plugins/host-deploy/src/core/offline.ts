/**
 * ODEPLOY/offlinePackager: install nothing. Selects the base group's offline packager
 * (PACKAGER/packager=str:offline) before it is chosen, so vdsm and the other packages
 * must already be installed and are only checked. Set later (at the command prompt, or by an
 * `[environment:override]` file) it would come after the packager was chosen: that is refused
 * at validation instead of silently installing packages.
 */
import { OtopiError, Priority, definePlugin } from '@otopi/core';
import { BASE_HANDLERS, BasePackagerEnv } from '../_lib/foreign.js';
import { OdeployEnv } from '../_lib/keys.js';
import { PACKAGER } from '../_lib/tokens.js';

export default definePlugin({
  setup(plugin) {
    plugin.on({
      name: 'select',
      stage: 'setup',
      priority: Priority.FIRST,
      before: BASE_HANDLERS.packagerDetection,
      condition: ({ env }) => env.get(OdeployEnv.offlinePackager),
      run: ({ env, log }) => {
        const was = env.get(BasePackagerEnv.packager);
        if (was !== 'offline' && was !== 'auto')
          log.warn(`ODEPLOY/offlinePackager is True: PACKAGER/packager '${was}' is replaced by 'offline'`);
        env.set(BasePackagerEnv.packager, 'offline');
        log.info('Offline packager: no package is installed; the packages needed must already be there');
      },
    });
    plugin.on({
      name: 'check',
      stage: 'validation',
      priority: Priority.FIRST,
      condition: ({ env }) => env.get(OdeployEnv.offlinePackager),
      run: ({ providers }) => {
        const packager = providers.get(PACKAGER).name;
        if (packager !== 'offline')
          throw new OtopiError(
            'ENV_BAD_VALUE',
            `ODEPLOY/offlinePackager was set after the packager (${packager}) was chosen`,
            {
              key: OdeployEnv.offlinePackager.key,
              hint: 'Give it on the command line or in [environment:init] of /etc/ovirt-host-deploy.conf.d/*.conf, not at the command prompt.',
            },
          );
      },
    });
  },
});
