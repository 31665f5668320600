/**
 * The oVirt host firewall (NETWORK/iptablesEnable). The engine's rules (NETWORK/iptablesRules,
 * placeholders filled in) or, without them, the oVirt default rules are handed to the base
 * group's firewall plugin, which checks them against SSH, applies and persists them in the
 * main transaction and rolls them back on failure. Without engine rules the default follows
 * the host: firewalld ports when firewalld runs (or is asked for), an nft table when
 * NETWORK/firewallManager is nftables, else iptables.
 */
import { Priority, definePlugin, exec } from '@otopi/core';
import { BASE_HANDLERS, BaseNetworkEnv } from '../_lib/foreign.js';
import {
  defaultFirewalld,
  defaultIptables,
  defaultNftables,
  fillPlaceholders,
  sshPortOf,
  type TemplateInput,
} from '../_lib/firewall-template.js';
import { NetworkCompatEnv, VirtEnv } from '../_lib/keys.js';
import { COMMANDS, SERVICES } from '../_lib/tokens.js';

export default definePlugin({
  env: [NetworkCompatEnv, VirtEnv],
  setup(plugin) {
    plugin.on({
      name: 'rules',
      stage: 'validation',
      priority: Priority.HIGH,
      before: BASE_HANDLERS.firewallValidation,
      condition: ({ env }) => env.get(NetworkCompatEnv.iptablesEnable),
      run: async ({ env, log, providers }) => {
        const port = Number(env.getRaw('VDSM_CONFIG/addresses/management_port') ?? 54321);
        const input: TemplateInput = {
          vdsmPort: Number.isInteger(port) && port > 0 ? port : 54321,
          sshPort: sshPortOf(process.env['SSH_CONNECTION']),
          virt: env.get(VirtEnv.enable),
        };
        const manager = env.get(BaseNetworkEnv.firewallManager);
        const given = env.get(BaseNetworkEnv.iptablesRules);
        if (given !== null && given.length > 0) {
          env.set(BaseNetworkEnv.iptablesRules, fillPlaceholders(given, input));
          // Rules from the engine mean iptables, as they always did: firewalld is stopped for them.
          if (manager === 'auto') env.set(BaseNetworkEnv.firewallManager, 'iptables');
          log.info('Firewall: the rules given by the engine (iptables)');
          return;
        }
        const firewalldRunning =
          providers.get(COMMANDS).find('firewall-cmd') !== null && (await providers.get(SERVICES).isRunning('firewalld'));
        if (manager === 'firewalld' || (manager === 'auto' && firewalldRunning)) {
          const tool = providers.get(COMMANDS).find('firewall-cmd');
          const listed = tool === null ? null : await exec([tool, '--get-services'], { log, allowFailure: true });
          const known = new Set(listed?.code === 0 ? listed.stdout.split(/\s+/) : []);
          const plan = defaultFirewalld(input, known);
          env.set(BaseNetworkEnv.firewalldServices, [
            ...new Set([...env.get(BaseNetworkEnv.firewalldServices), ...plan.services]),
          ]);
          env.set(BaseNetworkEnv.firewalldPorts, [
            ...new Set([...env.get(BaseNetworkEnv.firewalldPorts), ...plan.ports]),
          ]);
          log.info(
            `Firewall: the oVirt default through firewalld: services ${plan.services.join(', ') || 'none'}; ports ${plan.ports.join(', ')}`,
          );
        } else if (manager === 'nftables') {
          env.set(BaseNetworkEnv.nftablesRules, defaultNftables(input));
          log.info('Firewall: the oVirt default rules, as an nft table');
        } else {
          env.set(BaseNetworkEnv.iptablesRules, defaultIptables(input));
          if (manager === 'auto') env.set(BaseNetworkEnv.firewallManager, 'iptables');
          log.info('Firewall: the oVirt default rules (iptables)');
        }
      },
    });
  },
});
