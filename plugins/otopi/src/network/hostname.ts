/**
 * Host name checks at validation, warnings only: the name's syntax, whether it resolves
 * (through the system resolver, /etc/hosts included), and whether it resolves to this host.
 */
import { lookup } from 'node:dns/promises';
import { hostname, networkInterfaces } from 'node:os';
import { definePlugin } from '@otopi/core';
import { checkHostname } from '../_lib/network/hostname-check.js';

export default definePlugin({
  setup(plugin) {
    plugin.on({
      name: 'validation',
      stage: 'validation',
      run: async ({ log }) => {
        const name = hostname();
        const resolved = await lookup(name, { all: true }).then(
          (all) => all.map((a) => a.address),
          (error: Error) => error,
        );
        const local = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
        const warnings = checkHostname({ name, resolved, local });
        for (const w of warnings) log.warn(w);
        if (warnings.length === 0)
          log.debug(`Host name '${name}' resolves to ${(resolved as string[]).join(', ')}, an address of this host`);
      },
    });
  },
});
