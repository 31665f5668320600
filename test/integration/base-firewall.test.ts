// The base group's firewall and SSH key plugins on real hosts: iptables rules (h3) and an nft
// ruleset (h2) are loaded, persisted, survive a restart, are kept when a later run fails,
// and rules that would keep SSH out are refused. Host state is read with labExec.
import { readFileSync, statSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, hostRootPath, labExec, labHost, restartHost } from '../lab/lab.js';
import { installCli, runOtopi, type RemoteRun } from './support/remote-cli.js';

const ok = (run: RemoteRun): void => expect(run.code, `${run.stdout}\n${run.stderr}\n${run.log.slice(-3000)}`).toBe(0);
const multi = (key: string, lines: readonly string[]): string => `${key}=multi-str:${lines.join('\n')}`;
const iptablesS = async (host: LabHost): Promise<string> =>
  (await labExec(host, ['iptables', '-S'], { check: true })).stdout;

const IPT_V1 = [
  '*filter',
  ':INPUT DROP [0:0]',
  ':FORWARD DROP [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  '-A INPUT -i lo -j ACCEPT',
  '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  '-A INPUT -p tcp --dport 22 -j ACCEPT',
  '-A INPUT -p tcp --dport 54321 -j ACCEPT',
  'COMMIT',
];
const IPT_V2 = [...IPT_V1.slice(0, -1), '-A INPUT -p tcp --dport 16514 -j ACCEPT', 'COMMIT'];

describe('iptables on a lab host', () => {
  let h3: LabHost;
  let v1Rules = '';
  beforeAll(async () => {
    h3 = labHost(HOSTS.baseFirewall[1]);
    await installCli(h3);
  });

  it('loads the rules, persists them, and enables a unit that loads them at boot', async () => {
    const run = await runOtopi(h3, [multi('NETWORK/iptablesRules', IPT_V1)]);
    ok(run);
    expect(run.stdout).toContain('Firewall: iptables (NETWORK/iptablesRules is set)');
    expect(run.stdout).toContain('Firewall (iptables): configured');
    v1Rules = await iptablesS(h3);
    expect(v1Rules).toContain('-P INPUT DROP');
    expect(v1Rules).toContain('-A INPUT -p tcp -m tcp --dport 54321 -j ACCEPT');
    const persisted = hostRootPath(h3, 'etc/iptables/rules.v4');
    expect(readFileSync(persisted, 'utf8')).toContain('-A INPUT -p tcp --dport 54321 -j ACCEPT');
    expect(statSync(persisted).mode & 0o777).toBe(0o600);
    expect((await labExec(h3, ['systemctl', 'is-enabled', 'otopi-iptables'])).stdout.trim()).toBe('enabled');
  });

  it('a second run with the same rules changes nothing and says so', async () => {
    const run = await runOtopi(h3, [multi('NETWORK/iptablesRules', IPT_V1)]);
    ok(run);
    expect(run.stdout).toContain('Firewall (iptables): no changes');
    expect(await iptablesS(h3)).toBe(v1Rules);
  });

  it('the rules survive a restart of the host', async () => {
    await restartHost(h3);
    expect(await iptablesS(h3)).toBe(v1Rules);
    expect((await labExec(h3, ['systemctl', 'is-active', 'otopi-iptables'])).stdout.trim()).toBe('active');
  });

  it('a run that fails in the commit, after loading new rules, leaves the previous rules and file', async () => {
    const before = readFileSync(hostRootPath(h3, 'etc/iptables/rules.v4'), 'utf8');
    const run = await runOtopi(h3, [multi('NETWORK/iptablesRules', IPT_V2), 'BASETEST/failAt=str:commit'], {
      groups: ['basetest'],
    });
    expect(run.code).toBe(1);
    expect(run.log).toContain('iptables: loaded the rules into filter');
    expect(run.log).toContain('iptables: the previous rules are back');
    expect(await iptablesS(h3)).toBe(v1Rules);
    expect(readFileSync(hostRootPath(h3, 'etc/iptables/rules.v4'), 'utf8')).toBe(before);
  });

  it('refuses rules that would keep SSH out, before changing anything', async () => {
    const closed = ['*filter', ':INPUT DROP [0:0]', '-A INPUT -p tcp --dport 54321 -j ACCEPT', 'COMMIT'];
    const run = await runOtopi(h3, [multi('NETWORK/iptablesRules', closed)]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'Refusing firewall rules that would cut SSH off: filter INPUT: no rule surely accepts new tcp/22 connections from 127.0.0.1 on lo, and the policy is DROP',
    );
    expect(await iptablesS(h3)).toBe(v1Rules);
  });

  it('dry run shows the file diff and loads nothing', async () => {
    const run = await runOtopi(h3, [multi('NETWORK/iptablesRules', IPT_V2)], { args: ['--dry-run'] });
    ok(run);
    expect(run.stdout).toContain('+-A INPUT -p tcp --dport 16514 -j ACCEPT');
    expect(await iptablesS(h3)).toBe(v1Rules);
  });
});

const NFT_V1 = [
  'table inet otopi {',
  '  chain input {',
  '    type filter hook input priority 0; policy drop;',
  '    iif "lo" accept',
  '    ct state established,related accept',
  '    tcp dport { 22, 54321 } accept',
  '  }',
  '}',
];
const NFT_V2 = NFT_V1.map((l) => l.replace('{ 22, 54321 }', '{ 22, 54321, 16514 }'));

describe('nftables on a lab host', () => {
  let h2: LabHost;
  let v1Table = '';
  const table = async (): Promise<string> => (await labExec(h2, ['nft', 'list', 'table', 'inet', 'otopi'])).stdout;
  beforeAll(async () => {
    h2 = labHost(HOSTS.baseFirewall[0]);
    await installCli(h2);
  });

  it('loads the ruleset, persists it through nftables.conf, and enables nftables', async () => {
    const run = await runOtopi(h2, [multi('NETWORK/nftablesRules', NFT_V1)]);
    ok(run);
    v1Table = await table();
    expect(v1Table).toMatch(/tcp dport \{ 22, 54321 \} accept/);
    expect(readFileSync(hostRootPath(h2, 'etc/nftables.conf'), 'utf8')).toContain(
      'include "/etc/nftables.d/otopi.nft"',
    );
    expect(readFileSync(hostRootPath(h2, 'etc/nftables.d/otopi.nft'), 'utf8')).toContain('delete table inet otopi');
    expect((await labExec(h2, ['systemctl', 'is-enabled', 'nftables'])).stdout.trim()).toBe('enabled');
  });

  it('a second run changes nothing; the ruleset survives a restart', async () => {
    const run = await runOtopi(h2, [multi('NETWORK/nftablesRules', NFT_V1)]);
    ok(run);
    expect(run.stdout).toContain('Firewall (nftables): no changes');
    await restartHost(h2);
    expect(await table()).toBe(v1Table);
  });

  it('a run that fails in the commit leaves the previous table', async () => {
    const run = await runOtopi(h2, [multi('NETWORK/nftablesRules', NFT_V2), 'BASETEST/failAt=str:commit'], {
      groups: ['basetest'],
    });
    expect(run.code).toBe(1);
    expect(run.log).toContain('nftables: loaded nft tables inet otopi');
    expect(await table()).toBe(v1Table);
    expect(readFileSync(hostRootPath(h2, 'etc/nftables.d/otopi.nft'), 'utf8')).not.toContain('16514');
  });

  it('refuses a ruleset that would keep SSH out', async () => {
    const run = await runOtopi(h2, [
      multi(
        'NETWORK/nftablesRules',
        NFT_V1.filter((l) => !l.includes('iif') && !l.includes('dport')),
      ),
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'Refusing firewall rules that would cut SSH off: table inet otopi chain input: no rule surely accepts',
    );
    expect(await table()).toBe(v1Table);
  });
});
