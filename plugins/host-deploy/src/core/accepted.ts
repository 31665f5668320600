/**
 * Keys of features this group does not implement (Gluster, OpenStack, hosted engine, serial
 * console, realtime kernel, ovirt-host-mgmt): declared so an engine can set and read them,
 * and answered with a warning at validation when they ask for something.
 */
import { definePlugin } from '@otopi/core';
import { ACCEPTED_ENV, unsupportedRequests } from '../_lib/keys-accepted.js';

export default definePlugin({
  env: ACCEPTED_ENV,
  setup(plugin) {
    plugin.on({
      name: 'warn',
      stage: 'validation',
      run: ({ env, log }) => {
        for (const request of unsupportedRequests(env))
          log.warn(`${request} is not supported by this host-deploy and is ignored`);
      },
    });
  },
});
