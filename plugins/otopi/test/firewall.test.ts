import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOtopiError, Transaction } from '@otopi/core';
import { describe, expect, it } from 'vitest';
import { chooseFirewall, type FirewallFacts } from '../src/_lib/network/firewall-detect.js';
import { FirewalldSettings } from '../src/_lib/network/firewalld.js';
import { IptablesRuleset, savedTables } from '../src/_lib/network/iptables.js';
import { NftRuleset, replacingRuleset } from '../src/_lib/network/nftables.js';
import { checkHostname, hostnameSyntaxProblem } from '../src/_lib/network/hostname-check.js';
import { fakeRunner, fakeSystem } from './helpers.js';

const facts = (over: Partial<FirewallFacts>): FirewallFacts => ({
  requested: 'auto',
  firewalldRunning: false,
  has: () => true,
  iptablesRules: false,
  nftablesRules: false,
  firewalldSettings: false,
  ...over,
});

describe('firewall manager choice', () => {
  it('does nothing when nothing was given, and follows what was given', () => {
    expect(chooseFirewall(facts({})).manager).toBe('none');
    expect(chooseFirewall(facts({ iptablesRules: true })).manager).toBe('iptables');
    expect(chooseFirewall(facts({ nftablesRules: true })).manager).toBe('nftables');
    expect(chooseFirewall(facts({ firewalldSettings: true })).manager).toBe('firewalld');
  });

  it('uses a running firewalld, and refuses to fight it with raw rules unless told', () => {
    expect(
      chooseFirewall(facts({ firewalldRunning: true, firewalldSettings: true, iptablesRules: true })).manager,
    ).toBe('firewalld');
    expect(() => chooseFirewall(facts({ firewalldRunning: true, iptablesRules: true }))).toThrow(
      /firewalld is running, and only NETWORK\/iptablesRules is set/,
    );
    expect(chooseFirewall(facts({ requested: 'iptables', firewalldRunning: true, iptablesRules: true })).manager).toBe(
      'iptables',
    );
  });

  it('refuses ambiguity, a choice without its input, and missing tools', () => {
    expect(() => chooseFirewall(facts({ iptablesRules: true, nftablesRules: true }))).toThrow(
      'Both NETWORK/iptablesRules and NETWORK/nftablesRules are set',
    );
    expect(() => chooseFirewall(facts({ requested: 'nftables' }))).toThrow(
      "NETWORK/firewallManager is 'nftables', but NETWORK/nftablesRules is not set",
    );
    try {
      chooseFirewall(facts({ nftablesRules: true, has: (p) => p !== 'nft' }));
      expect.unreachable();
    } catch (error) {
      expect(isOtopiError(error, 'COMMAND_MISSING')).toBe(true);
    }
    expect(chooseFirewall(facts({ requested: 'none', iptablesRules: true })).manager).toBe('none');
  });
});

/** firewall-cmd over an in-memory zone: --list-*, --get-services and batched --add/--remove, like the real one. */
function fakeFirewallCmd(zone: { permanent: Set<string>; runtime: Set<string> }) {
  return fakeRunner((argv) => {
    const args = argv.slice(1);
    if (args[0] === '--get-default-zone') return { stdout: 'public\n' };
    if (args.includes('--get-services')) return { stdout: 'cockpit http ssh\n' };
    const permanent = args.includes('--permanent');
    const set = permanent ? zone.permanent : zone.runtime;
    const list = args.find((a) => /^--list-(service|port)s$/.test(a));
    if (list !== undefined) {
      const kind = list.slice('--list-'.length, -1);
      return {
        stdout: `${[...set]
          .filter((i) => i.startsWith(`${kind}:`))
          .map((i) => i.slice(kind.length + 1))
          .join(' ')}\n`,
      };
    }
    for (const op of args.filter((a) => /^--(add|remove)-(service|port)=/.test(a))) {
      const [, verb, kind, value] = /^--(\w+)-(\w+)=(.*)$/.exec(op)!;
      if (verb === 'add') set.add(`${kind}:${value}`);
      else set.delete(`${kind}:${value}`);
    }
    return undefined;
  });
}

describe('firewalld settings element', () => {
  it('adds only what is missing, permanent and runtime, and rollback removes exactly that', async () => {
    const zone = { permanent: new Set(['service:ssh']), runtime: new Set(['service:ssh', 'port:54321/tcp']) };
    const runner = fakeFirewallCmd(zone);
    const el = new FirewalldSettings(
      fakeSystem(runner),
      [
        { kind: 'service', value: 'ssh' },
        { kind: 'port', value: '54321/tcp' },
      ],
      null,
    );
    await el.prepare();
    expect(el.pending).toEqual(['port 54321/tcp (permanent)']);
    // Two lists per kind (permanent, runtime) and the default zone: no query per item.
    expect(runner.commands().length).toBe(5);
    expect(await el.dryRun()).toBe('add to zone public: port 54321/tcp (permanent)\n');
    await el.commit();
    expect([...zone.permanent]).toEqual(['service:ssh', 'port:54321/tcp']);
    await el.rollback();
    expect([...zone.permanent]).toEqual(['service:ssh']);
    expect([...zone.runtime]).toEqual(['service:ssh', 'port:54321/tcp']);
  });

  it('changes nothing on a second run', async () => {
    const zone = { permanent: new Set<string>(), runtime: new Set<string>() };
    const runner = fakeFirewallCmd(zone);
    const items = [{ kind: 'service' as const, value: 'cockpit' }];
    const first = new FirewalldSettings(fakeSystem(runner), items, 'internal');
    await first.prepare();
    await first.commit();
    const second = new FirewalldSettings(fakeSystem(runner), items, 'internal');
    await second.prepare();
    expect(second.pending).toEqual([]);
    expect(runner.commands().filter((c) => c.includes('--add-'))).toEqual([
      'firewall-cmd --permanent --zone=internal --add-service=cockpit',
      'firewall-cmd --zone=internal --add-service=cockpit',
    ]);
  });

  it('refuses a service firewalld does not know, at prepare', async () => {
    const el = new FirewalldSettings(
      fakeSystem(fakeFirewallCmd({ permanent: new Set(), runtime: new Set() })),
      [{ kind: 'service', value: 'nosuch' }],
      null,
    );
    await expect(el.prepare()).rejects.toThrow(
      "firewalld does not accept service 'nosuch': not one of its services (firewall-cmd --get-services)",
    );
    const port = new FirewalldSettings(
      fakeSystem(fakeFirewallCmd({ permanent: new Set(), runtime: new Set() })),
      [{ kind: 'port', value: '54321' }],
      null,
    );
    await expect(port.prepare()).rejects.toThrow(
      "firewalld does not accept port '54321': expected PORT[-PORT]/PROTOCOL",
    );
  });
});

describe('iptables ruleset element', () => {
  it('tests first, loads, notices an unchanged ruleset, and rolls back to the saved rules plus empty new tables', async () => {
    let live = '*filter\n:INPUT ACCEPT [10:500]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n';
    const rules =
      '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n';
    const runner = fakeRunner((argv, input) => {
      if (argv[0]!.endsWith('iptables-save')) return { stdout: `# Generated by iptables-save\n${live}` };
      if (argv[0]!.endsWith('iptables-restore') && !argv.includes('--test')) live = input ?? '';
      return undefined;
    });
    const el = new IptablesRuleset(fakeSystem(runner), rules, ['filter', 'nat']);
    await el.prepare();
    await el.commit();
    expect(el.changed).toBe(true); // nat appeared
    await el.rollback();
    expect(savedTables(live).get('filter')).toBe(':INPUT ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT');
    expect(savedTables(live).get('nat')).toBe(':PREROUTING ACCEPT\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n:POSTROUTING ACCEPT');
    expect(runner.commands().slice(0, 2)).toEqual(['iptables-save', 'iptables-restore --test']);
  });

  it('loads nothing when the live tables are what the same rules loaded last time (a stamp), and reloads after a change', async () => {
    const stamp = join(mkdtempSync(join(tmpdir(), 'otopi-ipt-')), 'state', 'iptables-loaded.json');
    // iptables-save prints the rules in its own form (-m tcp added): what was loaded, not what was written.
    const canonical = (text: string): string => text.replace('-p tcp --dport', '-p tcp -m tcp --dport');
    let live = '*filter\n:INPUT ACCEPT [10:500]\nCOMMIT\n';
    const rules = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n';
    const runner = fakeRunner((argv, input) => {
      if (argv[0]!.endsWith('iptables-save')) return { stdout: live };
      if (argv[0]!.endsWith('iptables-restore') && !argv.includes('--test')) live = canonical(input ?? '');
      return undefined;
    });
    const deploy = async (): Promise<string[]> => {
      const before = runner.commands().length;
      const el = new IptablesRuleset(fakeSystem(runner), rules, ['filter'], stamp);
      await el.prepare();
      await el.commit();
      return runner.commands().slice(before);
    };
    expect(await deploy()).toEqual(['iptables-save', 'iptables-restore --test', 'iptables-restore', 'iptables-save']);
    // Converged: one iptables-save, and the counters the packets left stay.
    live = live.replace('[0:0]', '[7:420]');
    expect(await deploy()).toEqual(['iptables-save']);
    // Someone removed the rule: it is loaded again.
    live = '*filter\n:INPUT ACCEPT [7:420]\nCOMMIT\n';
    expect(await deploy()).toContain('iptables-restore');
    // Other rules wanted: loaded, though the live tables match the stamp of the old ones.
    const other = new IptablesRuleset(fakeSystem(runner), rules.replace('22', '2222'), ['filter'], stamp);
    await other.prepare();
    await other.commit();
    expect(live).toContain('--dport 2222');
  });

  it('journals the rules of before the load, so recovery puts them back after a kill; rollback clears it', async () => {
    const live = '*filter\n:INPUT ACCEPT [10:500]\nCOMMIT\n';
    const runner = fakeRunner((argv) =>
      argv[0]!.endsWith('iptables-save') ? { stdout: `# Generated by iptables-save\n${live}` } : undefined,
    );
    const state = mkdtempSync(join(tmpdir(), 'iptables-journal-'));
    const tx = new Transaction({ journalDir: state });
    const el = new IptablesRuleset(fakeSystem(runner), '*filter\n:INPUT DROP [0:0]\nCOMMIT\n', ['filter']);
    el.useJournal(tx);
    await tx.append(el);
    await tx.prepare();
    await el.commit();
    const read = (): { undo?: { commands: string[][] }[] } =>
      JSON.parse(
        readFileSync(
          join(
            state,
            readdirSync(state).find((n) => n.endsWith('.journal'))!,
          ),
          'utf8',
        ),
      ) as {
        undo?: { commands: string[][] }[];
      };
    const command = read().undo?.[0]?.commands[0] ?? [];
    expect(command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(command[4]).toMatch(/iptables-restore$/);
    expect(command[5]).toContain(':INPUT ACCEPT [10:500]');
    await el.rollback();
    expect(read().undo).toBeUndefined();
    rmSync(state, { recursive: true, force: true });
  });

  it('refuses rules iptables-restore does not accept, at prepare', async () => {
    const runner = fakeRunner((argv) =>
      argv.includes('--test')
        ? {
            code: 2,
            stderr: 'iptables-restore v1.8.9 (nf_tables): unknown option "--dportx"\nError occurred at line: 3',
          }
        : undefined,
    );
    await expect(new IptablesRuleset(fakeSystem(runner), '*filter\nCOMMIT\n', ['filter']).prepare()).rejects.toThrow(
      /iptables-restore refuses the rules: .*unknown option "--dportx"/,
    );
  });
});

describe('nft ruleset element', () => {
  it('replaces its own tables atomically and rolls back to the previous table', async () => {
    const text = replacingRuleset(
      'table inet otopi {\n chain input { type filter hook input priority 0; policy accept; }\n}',
      [{ family: 'inet', name: 'otopi' }],
    );
    expect(text.split('\n').slice(1, 3)).toEqual(['table inet otopi', 'delete table inet otopi']);
    const loaded: string[] = [];
    const runner = fakeRunner((argv, input) => {
      if (argv[1] === 'list') return { stdout: 'table inet otopi {\n}\n' };
      if (argv[1] === '-f') loaded.push(input ?? '');
      return undefined;
    });
    const el = new NftRuleset(fakeSystem(runner), text, [{ family: 'inet', name: 'otopi' }]);
    await el.prepare();
    await el.commit();
    await el.rollback();
    expect(runner.commands()[0]).toBe('nft -c -f -');
    expect(loaded[1]).toBe('table inet otopi\ndelete table inet otopi\ntable inet otopi {\n}\n\n');
  });
});

describe('host name checks', () => {
  it('validates the syntax', () => {
    expect(hostnameSyntaxProblem('host1.example.com')).toBeNull();
    expect(hostnameSyntaxProblem('-bad.example.com')).toMatch(/not a valid label/);
    expect(hostnameSyntaxProblem('under_score')).toMatch(/not a valid label/);
    expect(hostnameSyntaxProblem('host.123')).toBe('its last label is all digits');
  });

  it('warns only when the name does not lead to this host', () => {
    const local = ['127.0.0.1', '::1', '192.168.10.20', 'fe80::1%eth0'];
    expect(checkHostname({ name: 'h1.example.com', resolved: ['192.168.10.20'], local })).toEqual([]);
    // Debian's /etc/hosts default: not worth a warning on every run (hostname-check.ts says why).
    expect(checkHostname({ name: 'h1', resolved: ['127.0.1.1'], local })).toEqual([]);
    expect(checkHostname({ name: 'h1.example.com', resolved: ['192.168.10.99'], local })).toEqual([
      "Host name 'h1.example.com' resolves to 192.168.10.99, none of which is an address of this host",
    ]);
    expect(checkHostname({ name: 'h1.example.com', resolved: ['192.168.10.20', '10.9.9.9'], local })).toEqual([
      "Host name 'h1.example.com' also resolves to 10.9.9.9, which is not an address of this host",
    ]);
    expect(
      checkHostname({ name: 'h1.example.com', resolved: new Error('getaddrinfo ENOTFOUND h1.example.com'), local }),
    ).toEqual(["Host name 'h1.example.com' does not resolve: getaddrinfo ENOTFOUND h1.example.com"]);
  });
});
