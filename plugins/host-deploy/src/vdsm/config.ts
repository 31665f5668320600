/**
 * /etc/vdsm/vdsm.conf from the VDSM_CONFIG/<section>/<key> keys (VDSM/configOverride),
 * written in the main transaction with a backup of the previous file.
 */
import { FileTransaction, definePlugin } from '@otopi/core';
import { VdsmConfigFamily, VdsmEnv } from '../_lib/keys.js';
import { vdsmChanges } from '../_lib/tokens.js';
import { renderVdsmConf, vdsmConfigEntries, VDSM_CONF } from '../_lib/vdsm/conf.js';

export default definePlugin({
  env: [VdsmEnv, VdsmConfigFamily],
  setup(plugin) {
    plugin.on({
      name: 'validate',
      stage: 'validation',
      condition: ({ env }) => env.get(VdsmEnv.configOverride),
      // Refuses a malformed key before anything changes.
      run: ({ env }) => void vdsmConfigEntries(env),
    });
    plugin.on({
      name: 'write',
      stage: 'misc',
      condition: ({ env }) => env.get(VdsmEnv.configOverride),
      run: async ({ env, log, transaction, providers }) => {
        const entries = vdsmConfigEntries(env);
        if (entries.length === 0) {
          log.info(`No VDSM_CONFIG keys: ${VDSM_CONF} is left as it is`);
          return;
        }
        const element = new FileTransaction({
          path: VDSM_CONF,
          content: renderVdsmConf(entries),
          mode: 0o644,
          owner: 0,
          group: 0,
          log,
        });
        await transaction.append(element);
        vdsmChanges(providers).add({ what: 'vdsm.conf', changed: () => element.changed });
      },
    });
  },
});
