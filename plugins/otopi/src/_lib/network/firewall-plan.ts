/**
 * The transaction elements that configure one firewall manager, in commit order: stop a
 * firewalld that would fight the rules, write the persisted files, load the rules, then
 * enable what loads them at boot. Paths follow the distribution family.
 */
import { readFile } from 'node:fs/promises';
import { FileTransaction, type Logger, type TransactionElement } from '@otopi/core';
import type { OsFamily } from '../os-release.js';
import type { SystemAccess } from '../runner.js';
import { ServiceChanges, type ServiceStep } from '../service-element.js';
import type { ServiceManager } from '../services/types.js';
import { FirewalldSettings } from './firewalld.js';
import { IptablesRuleset } from './iptables.js';
import { NftRuleset, replacingRuleset, type TableName } from './nftables.js';

export const IPTABLES_UNIT = 'otopi-iptables';

export interface PlanInput {
  readonly sys: SystemAccess;
  readonly log: Logger;
  readonly services: ServiceManager;
  readonly family: OsFamily;
  readonly firewalldRunning: boolean;
  /** Where iptables keeps the stamp of its last load (`iptables-stamp.ts`); unset: always load. */
  readonly iptablesStamp?: string;
}

export interface FirewallPlan {
  readonly elements: TransactionElement[];
  /** Whether, after commit, anything changed. */
  changed(): boolean;
}

const HEADER = '# Managed by otopi. Changes here are replaced by the next deployment.';

function fileElement(path: string, content: string, mode: number): FileTransaction {
  return new FileTransaction({ path, content, mode, owner: 0, group: 0, enforcePermissions: true });
}

/** Stopping firewalld first: its stop flushes the rules, and it would replace ours at boot. */
function firewalldOff(input: PlanInput): ServiceChanges[] {
  return input.firewalldRunning
    ? [new ServiceChanges(input.services, [{ service: 'firewalld', running: 'stop', enabled: false }])]
    : [];
}

export async function iptablesPlan(
  input: PlanInput,
  rules: string,
  tables: readonly string[],
  fileOverride: string | null,
): Promise<FirewallPlan> {
  const el = input.family === 'rhel';
  const path = fileOverride ?? (el ? '/etc/sysconfig/iptables' : '/etc/iptables/rules.v4');
  const files = [fileElement(path, `${HEADER}\n${rules.trimEnd()}\n`, 0o600)];
  const steps: ServiceStep[] = [];
  let reload = false;
  if (el) steps.push({ service: 'iptables', enabled: true });
  else if (path === '/etc/iptables/rules.v4' && (await input.services.exists('netfilter-persistent')))
    steps.push({ service: 'netfilter-persistent', enabled: true });
  else if (input.services.name === 'systemd') {
    const restore = input.sys.which('iptables-restore') ?? '/usr/sbin/iptables-restore';
    files.push(fileElement(`/etc/systemd/system/${IPTABLES_UNIT}.service`, iptablesUnit(restore, path), 0o644));
    steps.push({ service: IPTABLES_UNIT, enabled: true });
    reload = true;
  } else {
    input.log.warn(
      `The iptables rules are saved in ${path}, but nothing will load them at boot: install netfilter-persistent`,
    );
  }
  const ruleset = new IptablesRuleset(input.sys, rules, tables, input.iptablesStamp ?? null);
  const enabledBefore = await enabledNow(input, steps);
  const elements: TransactionElement[] = [...firewalldOff(input), ...files, ruleset];
  if (steps.length > 0) elements.push(new ServiceChanges(input.services, steps, reload));
  return {
    elements,
    changed: () =>
      ruleset.changed ||
      files.some((f) => f.changed) ||
      input.firewalldRunning ||
      steps.some((s) => !enabledBefore.has(s.service)),
  };
}

export function iptablesUnit(restore: string, rulesFile: string): string {
  return [
    HEADER,
    '[Unit]',
    'Description=Load the iptables rules configured by otopi',
    'DefaultDependencies=no',
    'Wants=network-pre.target',
    'Before=network-pre.target shutdown.target',
    // nftables.service starts with 'flush ruleset', which would drop rules loaded before it.
    'After=local-fs.target nftables.service',
    'Conflicts=shutdown.target',
    `ConditionFileNotEmpty=${rulesFile}`,
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${restore} ${rulesFile}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export async function nftablesPlan(
  input: PlanInput,
  rules: string,
  tables: readonly TableName[],
  fileOverride: string | null,
): Promise<FirewallPlan> {
  const el = input.family === 'rhel';
  const path = fileOverride ?? (el ? '/etc/nftables/otopi.nft' : '/etc/nftables.d/otopi.nft');
  const mainConf = el ? '/etc/sysconfig/nftables.conf' : '/etc/nftables.conf';
  const ruleset = replacingRuleset(rules, tables);
  const files = [fileElement(path, ruleset, 0o640)];
  const current = await readFile(mainConf, 'utf8').catch(() => null);
  const include = `include "${path}"`;
  if (current === null || !current.split('\n').some((l) => l.trim() === include)) {
    const base = current ?? `#!${input.sys.which('nft') ?? '/usr/sbin/nft'} -f\n`;
    files.push(
      new FileTransaction({ path: mainConf, content: `${base.replace(/\n?$/, '\n')}${include}\n`, mode: 0o755 }),
    );
  }
  const steps: ServiceStep[] = input.services.name === 'none' ? [] : [{ service: 'nftables', enabled: true }];
  const enabledBefore = await enabledNow(input, steps);
  const element = new NftRuleset(input.sys, ruleset, tables);
  const elements: TransactionElement[] = [...firewalldOff(input), ...files, element];
  if (steps.length > 0) elements.push(new ServiceChanges(input.services, steps));
  return {
    elements,
    changed: () =>
      element.changed ||
      files.some((f) => f.changed) ||
      input.firewalldRunning ||
      steps.some((s) => !enabledBefore.has(s.service)),
  };
}

/** firewalld must already run (firewall-cmd talks to the daemon, even for --permanent). */
export function firewalldPlan(
  input: PlanInput,
  services: readonly string[],
  ports: readonly string[],
  zone: string | null,
): FirewallPlan {
  const settings = new FirewalldSettings(
    input.sys,
    [
      ...services.map((value) => ({ kind: 'service' as const, value })),
      ...ports.map((value) => ({ kind: 'port' as const, value })),
    ],
    zone,
  );
  return { elements: [settings], changed: () => settings.pending.length > 0 };
}

async function enabledNow(input: PlanInput, steps: readonly ServiceStep[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const s of steps) if (await input.services.isEnabled(s.service)) out.add(s.service);
  return out;
}
