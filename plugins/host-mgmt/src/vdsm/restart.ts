/**
 * vdsmd after an upgrade or a new certificate: configured, the services that load the
 * certificates restarted, and vdsmd restarted (host-deploy's closeup, `_lib/vdsm/start.ts`).
 * A run that changed nothing of vdsm (a check) leaves every service alone.
 */
import { Priority, definePlugin } from '@otopi/core';
import { COMMANDS, vdsmChanges } from '../../../host-deploy/src/_lib/tokens.js';
import { startVdsm } from '../../../host-deploy/src/_lib/vdsm/start.js';

export default definePlugin({
  setup(plugin) {
    plugin.on({
      name: 'programs',
      stage: 'setup',
      run: ({ providers }) => providers.get(COMMANDS).detect('vdsm-tool'),
    });
    plugin.on({
      name: 'started',
      stage: 'closeup',
      priority: Priority.LOW,
      condition: ({ providers, dryRun }) => !dryRun && vdsmChanges(providers).changed().length > 0,
      run: startVdsm,
    });
  },
});
