/**
 * ODEPLOY/offlinePackager: install nothing. Selects the base group's offline packager
 * (PACKAGER/packager=str:offline) before it is chosen, so vdsm and the other packages
 * must already be installed and are only checked.
 */
import { Priority, definePlugin } from '@otopi/core';
import { BASE_HANDLERS, BasePackagerEnv } from '../_lib/foreign.js';
import { OdeployEnv } from '../_lib/keys.js';

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
  },
});
