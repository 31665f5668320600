import { FileTransaction } from '@otopi/core';
import { describe, expect, it } from 'vitest';
import { IPTABLES_UNIT, iptablesPlan, iptablesUnit, type PlanInput } from '../src/_lib/network/firewall-plan.js';
import { ServiceChanges } from '../src/_lib/service-element.js';
import type { ServiceManager } from '../src/_lib/services/types.js';
import { fakeRunner, fakeSystem } from './helpers.js';

function services(name: ServiceManager['name'], existing: readonly string[]): ServiceManager {
  const no = (): Promise<void> => Promise.resolve();
  return {
    name,
    exists: (s) => Promise.resolve(existing.includes(s)),
    isRunning: () => Promise.resolve(false),
    isEnabled: () => Promise.resolve(false),
    status: (s) =>
      Promise.resolve({ name: s, exists: existing.includes(s), running: false, enabled: false, bootState: 'disabled' }),
    start: no,
    stop: no,
    restart: no,
    setEnabled: no,
    reload: () => Promise.resolve(false),
    restore: () => Promise.resolve([]),
  };
}

function input(family: PlanInput['family'], manager: ServiceManager, firewalldRunning = false): PlanInput {
  const sys = fakeSystem(fakeRunner(() => undefined));
  return { sys, log: sys.log, services: manager, family, firewalldRunning };
}

const describeAll = (elements: readonly { description: string }[]): string[] => elements.map((e) => e.description);
const RULES = '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n';

describe('iptables persistence by distribution', () => {
  it('Debian with systemd and no netfilter-persistent: rules.v4 and our own unit', async () => {
    const plan = await iptablesPlan(input('debian', services('systemd', [])), RULES, ['filter'], null);
    expect(describeAll(plan.elements)).toEqual([
      'file /etc/iptables/rules.v4',
      `file /etc/systemd/system/${IPTABLES_UNIT}.service`,
      'iptables rules (IPv4, loaded with iptables-restore)',
      `services: enable ${IPTABLES_UNIT}`,
    ]);
  });

  it('Debian with netfilter-persistent: rules.v4 and that service', async () => {
    const plan = await iptablesPlan(
      input('debian', services('systemd', ['netfilter-persistent'])),
      RULES,
      ['filter'],
      null,
    );
    expect(describeAll(plan.elements)).toEqual([
      'file /etc/iptables/rules.v4',
      'iptables rules (IPv4, loaded with iptables-restore)',
      'services: enable netfilter-persistent',
    ]);
  });

  it('EL: /etc/sysconfig/iptables and iptables.service; firewalld stopped first when it runs', async () => {
    const plan = await iptablesPlan(input('rhel', services('systemd', ['iptables']), true), RULES, ['filter'], null);
    expect(describeAll(plan.elements)).toEqual([
      'services: disable+stop firewalld',
      'file /etc/sysconfig/iptables',
      'iptables rules (IPv4, loaded with iptables-restore)',
      'services: enable iptables',
    ]);
    expect(plan.elements[0]).toBeInstanceOf(ServiceChanges);
    expect(plan.elements[1]).toBeInstanceOf(FileTransaction);
  });

  it('the unit loads the file after nftables.service (whose start flushes the ruleset) and before the network', () => {
    const unit = iptablesUnit('/usr/sbin/iptables-restore', '/etc/iptables/rules.v4');
    expect(unit).toContain('ExecStart=/usr/sbin/iptables-restore /etc/iptables/rules.v4');
    expect(unit).toContain('After=local-fs.target nftables.service');
    expect(unit).toContain('Before=network-pre.target shutdown.target');
    expect(unit).toContain('WantedBy=multi-user.target');
  });
});
