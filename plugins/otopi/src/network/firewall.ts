/**
 * The firewall: iptables, nftables or firewalld, chosen at validation
 * (NETWORK/firewallManager, what runs, what was given). Rules are checked before anything
 * changes, refused if they would keep SSH out, then loaded and persisted inside the main
 * transaction, so a failure puts the previous rules, files and services back.
 */
import { OtopiError, Priority, definePlugin, type HandlerContext } from '@otopi/core';
import { NetworkEnv } from '../_lib/keys.js';
import { chooseFirewall } from '../_lib/network/firewall-detect.js';
import {
  firewalldPlan,
  iptablesPlan,
  nftablesPlan,
  type FirewallPlan,
  type PlanInput,
} from '../_lib/network/firewall-plan.js';
import { checkIptablesSsh, parseIptablesRestore, RulesSyntaxError } from '../_lib/network/iptables-rules.js';
import { stampPath } from '../_lib/network/iptables-stamp.js';
import { checkNftSsh } from '../_lib/network/nft-check.js';
import { parseNftRuleset } from '../_lib/network/nft-rules.js';
import { sshPacketFrom } from '../_lib/network/packet.js';
import type { SafetyVerdict } from '../_lib/network/iptables-rules.js';
import type { TableName } from '../_lib/network/nftables.js';
import { journalsUndo } from '../_lib/journal-undo.js';
import { systemRunner } from '../_lib/runner.js';
import { COMMANDS, FIREWALL, PACKAGER, SERVICES, SYSTEM_INFO, type FirewallChoice } from '../_lib/tokens.js';

const PROGRAMS = ['iptables-restore', 'iptables-save', 'nft', 'firewall-cmd'];

interface Validated {
  readonly choice: FirewallChoice;
  readonly rules: string;
  readonly iptablesTables: readonly string[];
  readonly nftTables: readonly TableName[];
  readonly firewalldRunning: boolean;
}

function sshVerdict(ctx: HandlerContext, verdict: SafetyVerdict, key: string): void {
  for (const doubt of verdict.doubts)
    ctx.log.warn(`Firewall rule '${doubt}' may refuse SSH, depending on where the connection comes from`);
  if (verdict.safe) {
    ctx.log.debug(`SSH check: ${verdict.reason}`);
    return;
  }
  if (!ctx.env.get(NetworkEnv.firewallSshCheck)) {
    ctx.log.warn(
      `These firewall rules may cut SSH off (${verdict.reason}); applying them anyway as NETWORK/firewallSshCheck is False`,
    );
    return;
  }
  throw new OtopiError('ENV_BAD_VALUE', `Refusing firewall rules that would cut SSH off: ${verdict.reason}`, {
    key,
    hint: 'Accept the SSH port (or the interface/address the manager connects from), or set NETWORK/firewallSshCheck=bool:False.',
  });
}

async function validate(ctx: HandlerContext): Promise<Validated> {
  const { env, providers } = ctx;
  const commands = providers.get(COMMANDS);
  const manager = providers.get(SERVICES);
  const firewalldRunning = commands.find('firewall-cmd') !== null && (await manager.isRunning('firewalld'));
  const iptablesRules = env.get(NetworkEnv.iptablesRules);
  const nftRules = env.get(NetworkEnv.nftablesRules);
  const choice = chooseFirewall({
    requested: env.get(NetworkEnv.firewallManager),
    firewalldRunning,
    has: (p) => commands.find(p) !== null,
    iptablesRules: iptablesRules !== null && iptablesRules.length > 0,
    nftablesRules: nftRules !== null && nftRules.length > 0,
    firewalldSettings: env.get(NetworkEnv.firewalldServices).length + env.get(NetworkEnv.firewalldPorts).length > 0,
  });
  providers.provide(FIREWALL, choice);
  if (choice.manager === 'none') ctx.log.debug(`Firewall: none (${choice.reason})`);
  else ctx.log.info(`Firewall: ${choice.manager} (${choice.reason})`);
  const packet = sshPacketFrom(process.env['SSH_CONNECTION']);
  let rules = '';
  let iptablesTables: string[] = [];
  let nftTables: TableName[] = [];
  if (choice.manager === 'iptables') {
    rules = `${(iptablesRules ?? []).join('\n')}\n`;
    let tables;
    try {
      tables = parseIptablesRestore(rules);
    } catch (error) {
      if (!(error instanceof RulesSyntaxError)) throw error;
      throw new OtopiError('ENV_BAD_VALUE', `NETWORK/iptablesRules: ${error.message}`, {
        key: NetworkEnv.iptablesRules.key,
      });
    }
    iptablesTables = [...tables.keys()];
    if (iptablesTables.length === 0)
      throw new OtopiError('ENV_BAD_VALUE', 'NETWORK/iptablesRules holds no *table', {
        key: NetworkEnv.iptablesRules.key,
      });
    sshVerdict(ctx, checkIptablesSsh(tables, packet), NetworkEnv.iptablesRules.key);
    const info = providers.get(SYSTEM_INFO);
    if (info.family === 'rhel' && !(await manager.exists('iptables'))) {
      ctx.log.info('iptables-services will be installed, to load the rules at boot');
      providers.get(PACKAGER).install(['iptables-services']);
    }
  } else if (choice.manager === 'nftables') {
    rules = `${(nftRules ?? []).join('\n')}\n`;
    if (/^\s*flush\s+ruleset\b/m.test(rules)) {
      // It would also drop every other table (firewalld's, iptables-nft's, a container runtime's).
      throw new OtopiError('ENV_BAD_VALUE', "NETWORK/nftablesRules must not contain 'flush ruleset'", {
        key: NetworkEnv.nftablesRules.key,
        hint: 'Leave it out: the tables the rules declare are replaced as a whole, and others are left alone.',
      });
    }
    const parsed = parseNftRuleset(rules);
    if (parsed.length === 0)
      throw new OtopiError('ENV_BAD_VALUE', 'NETWORK/nftablesRules declares no table', {
        key: NetworkEnv.nftablesRules.key,
      });
    nftTables = parsed.map((t) => ({ family: t.family, name: t.name }));
    sshVerdict(ctx, checkNftSsh(parsed, packet), NetworkEnv.nftablesRules.key);
  }
  return { choice, rules, iptablesTables, nftTables, firewalldRunning };
}

export default definePlugin({
  env: [NetworkEnv],
  setup(plugin) {
    let validated: Validated | undefined;
    let plan: FirewallPlan | undefined;
    plugin.on({
      name: 'programs',
      stage: 'setup',
      run: ({ providers }) => {
        for (const p of PROGRAMS) providers.get(COMMANDS).detect(p);
      },
    });
    plugin.on({
      name: 'validation',
      stage: 'validation',
      run: async (ctx) => {
        validated = await validate(ctx);
      },
    });
    plugin.on({
      name: 'configure',
      stage: 'misc',
      condition: () => validated !== undefined && validated.choice.manager !== 'none',
      run: async (ctx) => {
        const v = validated!;
        const { env, providers, log } = ctx;
        const commands = providers.get(COMMANDS);
        const manager = providers.get(SERVICES);
        const input: PlanInput = {
          sys: { run: systemRunner, log, which: (n) => commands.find(n) },
          log,
          services: manager,
          family: providers.get(SYSTEM_INFO).family,
          firewalldRunning: v.firewalldRunning,
          iptablesStamp: stampPath(),
        };
        if (v.choice.manager === 'iptables')
          plan = await iptablesPlan(input, v.rules, v.iptablesTables, env.get(NetworkEnv.iptablesRulesFile));
        else if (v.choice.manager === 'nftables')
          plan = await nftablesPlan(input, v.rules, v.nftTables, env.get(NetworkEnv.nftablesFile));
        else {
          if (!v.firewalldRunning) {
            if (ctx.dryRun) {
              log.info(
                `Dry run: would start and enable firewalld, then allow ${[...env.get(NetworkEnv.firewalldServices), ...env.get(NetworkEnv.firewalldPorts)].join(', ')}`,
              );
              return;
            }
            // firewall-cmd needs the daemon even for permanent settings; this is recorded and undone on failure.
            await manager.start('firewalld');
            await manager.setEnabled('firewalld', true);
          }
          plan = firewalldPlan(
            input,
            env.get(NetworkEnv.firewalldServices),
            env.get(NetworkEnv.firewalldPorts),
            env.get(NetworkEnv.firewalldZone),
          );
        }
        for (const element of plan.elements) {
          if (journalsUndo(element)) element.useJournal(ctx.transaction);
          await ctx.transaction.append(element);
        }
      },
    });
    plugin.on({
      name: 'summary',
      stage: 'closeup',
      priority: Priority.HIGH,
      condition: ({ dryRun }) => plan !== undefined && !dryRun,
      run: ({ log }) => {
        const manager = validated?.choice.manager ?? 'none';
        log.info(plan!.changed() ? `Firewall (${manager}): configured` : `Firewall (${manager}): no changes`);
      },
    });
  },
});
