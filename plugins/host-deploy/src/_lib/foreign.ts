/**
 * Keys this group reads or sets but does not own: the base group `otopi` declares them.
 * Plugin groups cannot import each other on a host, so these are typed references made
 * with `defineEnv` and never listed in a plugin's `env` (which would declare them twice);
 * `env.get`/`env.set` work on the key name, and the owner's schema still checks values
 * that come from outside.
 */
import { defineEnv, key } from '@otopi/core';

export const BaseSystemEnv = defineEnv('SYSTEM', {
  reboot: key.bool({ default: false, description: 'Owned by the base group.' }),
});

export const BasePackagerEnv = defineEnv('PACKAGER', {
  packager: key.str({ default: 'auto', description: 'Owned by the base group.' }),
});

export const BaseNetworkEnv = defineEnv('NETWORK', {
  firewallManager: key.str({ default: 'auto', description: 'Owned by the base group.' }),
  iptablesRules: key.optionalMultiStr({ default: null, description: 'Owned by the base group.' }),
  nftablesRules: key.optionalMultiStr({ default: null, description: 'Owned by the base group.' }),
  firewalldServices: key.multiStr({ default: [], description: 'Owned by the base group.' }),
  firewalldPorts: key.multiStr({ default: [], description: 'Owned by the base group.' }),
});

/** Full names of base-group handlers this group orders itself against. */
export const BASE_HANDLERS = {
  packagerDetection: 'otopi.packagers.packager.detection',
  firewallValidation: 'otopi.network.firewall.validation',
  firewallConfigure: 'otopi.network.firewall.configure',
  dialogCustomization: 'otopi.dialog.cli.customization',
} as const;
