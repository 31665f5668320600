/** The distribution must be one a virtualization host runs on (checked at validation). */
import { OtopiError, definePlugin } from '@otopi/core';
import { checkDistribution, supportedList } from '../_lib/vdsm/distro.js';
import { SYSTEM_INFO } from '../_lib/tokens.js';

export default definePlugin({
  setup(plugin) {
    plugin.on({
      name: 'distribution',
      stage: 'validation',
      run: ({ providers, log }) => {
        const verdict = checkDistribution(providers.get(SYSTEM_INFO).os);
        if (!verdict.supported)
          throw new OtopiError('HOST_UNSUPPORTED', verdict.message, { hint: `Supported: ${supportedList()}.` });
        log.debug(verdict.message);
      },
    });
  },
});
