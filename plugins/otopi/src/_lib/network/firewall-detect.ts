/**
 * Which firewall this run configures. `auto` follows what the host runs and what the user
 * gave: firewalld when it is running (only services and ports then), else the manager
 * whose rules are set. Pure, so each branch is unit-tested.
 */
import { OtopiError } from '@otopi/core';
import type { FirewallChoice } from '../tokens.js';

export interface FirewallFacts {
  readonly requested: string;
  readonly firewalldRunning: boolean;
  readonly has: (program: string) => boolean;
  readonly iptablesRules: boolean;
  readonly nftablesRules: boolean;
  /** firewalld services or ports were given. */
  readonly firewalldSettings: boolean;
}

const TOOLS: Readonly<Record<Exclude<FirewallChoice['manager'], 'none'>, readonly string[]>> = {
  iptables: ['iptables-restore', 'iptables-save'],
  nftables: ['nft'],
  firewalld: ['firewall-cmd'],
};

const INPUT_KEY = {
  iptables: 'NETWORK/iptablesRules',
  nftables: 'NETWORK/nftablesRules',
  firewalld: 'NETWORK/firewalldServices or NETWORK/firewalldPorts',
} as const;

export function chooseFirewall(f: FirewallFacts): FirewallChoice {
  const given = { iptables: f.iptablesRules, nftables: f.nftablesRules, firewalld: f.firewalldSettings };
  const checked = (manager: Exclude<FirewallChoice['manager'], 'none'>, reason: string): FirewallChoice => {
    const missing = TOOLS[manager].filter((t) => !f.has(t));
    if (missing.length > 0) {
      throw new OtopiError(
        'COMMAND_MISSING',
        `The ${manager} firewall needs ${missing.join(', ')}, which cannot be found`,
        {
          key: 'NETWORK/firewallManager',
          hint: `Install ${manager}, or set COMMAND/${missing[0]!}=str:/path.`,
        },
      );
    }
    return { manager, reason };
  };
  if (f.requested === 'none') return { manager: 'none', reason: 'NETWORK/firewallManager is none' };
  if (f.requested !== 'auto') {
    const manager = f.requested as Exclude<FirewallChoice['manager'], 'none'>;
    if (!given[manager]) {
      throw new OtopiError(
        'ENV_BAD_VALUE',
        `NETWORK/firewallManager is '${manager}', but ${INPUT_KEY[manager]} is not set`,
        {
          key: 'NETWORK/firewallManager',
          hint: `Set ${INPUT_KEY[manager]}, or NETWORK/firewallManager=str:auto.`,
        },
      );
    }
    return checked(manager, 'set by NETWORK/firewallManager');
  }
  const wanted = (Object.keys(given) as (keyof typeof given)[]).filter((m) => given[m]);
  if (wanted.length === 0) return { manager: 'none', reason: 'no firewall rules, services or ports were given' };
  if (f.firewalldRunning) {
    if (given.firewalld) return checked('firewalld', 'firewalld is running');
    throw new OtopiError(
      'ENV_BAD_VALUE',
      `firewalld is running, and only ${wanted.map((m) => INPUT_KEY[m]).join(' and ')} ${wanted.length > 1 ? 'are' : 'is'} set`,
      {
        key: 'NETWORK/firewallManager',
        hint: `Give NETWORK/firewalldServices/Ports, or set NETWORK/firewallManager=str:${wanted[0]!} to stop and disable firewalld and use ${wanted[0]!}.`,
      },
    );
  }
  const direct = wanted.filter((m) => m !== 'firewalld');
  if (direct.length > 1) {
    throw new OtopiError('ENV_BAD_VALUE', 'Both NETWORK/iptablesRules and NETWORK/nftablesRules are set', {
      key: 'NETWORK/firewallManager',
      hint: 'Keep one of them, or choose with NETWORK/firewallManager.',
    });
  }
  const manager = direct[0] ?? 'firewalld';
  return checked(
    manager,
    manager === 'firewalld' ? 'firewalld settings given (it will be started)' : `${INPUT_KEY[manager]} is set`,
  );
}
