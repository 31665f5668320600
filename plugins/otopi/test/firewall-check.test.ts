import { describe, expect, it } from 'vitest';
import { checkIptablesSsh, parseIptablesRestore, RulesSyntaxError } from '../src/_lib/network/iptables-rules.js';
import { checkNftSsh } from '../src/_lib/network/nft-check.js';
import { parseNftRuleset } from '../src/_lib/network/nft-rules.js';
import { inCidr, sshPacketFrom, type SshPacket } from '../src/_lib/network/packet.js';

const ANYWHERE: SshPacket = { port: 22 };
const MANAGER: SshPacket = { port: 22, source: '192.168.10.5', destination: '192.168.10.20', inInterface: 'eth0' };
const ipt = (...lines: string[]) => parseIptablesRestore(lines.join('\n'));

const HOST_RULES = [
  '*filter',
  ':INPUT DROP [0:0]',
  ':FORWARD DROP [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  '-A INPUT -i lo -j ACCEPT',
  '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  '-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "ssh from anywhere" -j ACCEPT',
  '-A INPUT -p tcp --dport 54321 -j ACCEPT',
  'COMMIT',
];

describe('iptables SSH check', () => {
  it('accepts a ruleset with a DROP policy that accepts tcp/22', () => {
    expect(checkIptablesSsh(ipt(...HOST_RULES), ANYWHERE)).toMatchObject({ safe: true, doubts: [] });
  });

  it('refuses a DROP policy with nothing for SSH, naming the policy', () => {
    const verdict = checkIptablesSsh(
      ipt(
        '*filter',
        ':INPUT DROP [0:0]',
        '-A INPUT -p tcp --dport 54321 -j ACCEPT',
        '-A INPUT -m state --state ESTABLISHED -j ACCEPT',
        'COMMIT',
      ),
      ANYWHERE,
    );
    expect(verdict.safe).toBe(false);
    expect(verdict.reason).toBe(
      'filter INPUT: no rule surely accepts new tcp/22 connections from anywhere, and the policy is DROP',
    );
  });

  it('refuses an explicit REJECT before the accepting rule', () => {
    const verdict = checkIptablesSsh(
      ipt(
        '*filter',
        ':INPUT ACCEPT [0:0]',
        '-A INPUT -p tcp -m multiport --dports 22,80 -j REJECT --reject-with tcp-reset',
        '-A INPUT -p tcp --dport 22 -j ACCEPT',
        'COMMIT',
      ),
      ANYWHERE,
    );
    expect(verdict).toMatchObject({
      safe: false,
      reason:
        "filter INPUT: '-A INPUT -p tcp -m multiport --dports 22,80 -j REJECT --reject-with tcp-reset' drops new tcp/22 connections from anywhere",
    });
  });

  it('uses $SSH_CONNECTION: the port, the source and the interface', () => {
    const rules = ipt(
      '*filter',
      ':INPUT DROP [0:0]',
      '-A INPUT -s 192.168.10.0/24 -p tcp --dport 2222 -j ACCEPT',
      'COMMIT',
    );
    expect(checkIptablesSsh(rules, { ...MANAGER, port: 2222 }).safe).toBe(true);
    expect(checkIptablesSsh(rules, { ...MANAGER, source: '10.1.1.1', port: 2222 }).safe).toBe(false);
    // Without knowing the source, a source-restricted accept is not sure: refused, to be safe.
    expect(checkIptablesSsh(rules, { port: 2222 }).safe).toBe(false);
    expect(
      checkIptablesSsh(ipt('*filter', ':INPUT DROP [0:0]', '-A INPUT -i eth0 -j ACCEPT', 'COMMIT'), MANAGER).safe,
    ).toBe(true);
    expect(
      checkIptablesSsh(ipt('*filter', ':INPUT DROP [0:0]', '-A INPUT -i eth+ -j ACCEPT', 'COMMIT'), {
        ...MANAGER,
        inInterface: 'lo',
      }).safe,
    ).toBe(false);
  });

  it('follows jumps into user chains and RETURN', () => {
    const rules = ipt(
      '*filter',
      ':INPUT DROP [0:0]',
      ':SERVICES - [0:0]',
      '-A INPUT -j SERVICES',
      '-A SERVICES -p udp -j RETURN',
      '-A SERVICES -p tcp --dport 22 -j ACCEPT',
      'COMMIT',
    );
    expect(checkIptablesSsh(rules, ANYWHERE).safe).toBe(true);
    const blocked = ipt(
      '*filter',
      ':INPUT ACCEPT [0:0]',
      ':BLOCK - [0:0]',
      '-A INPUT -p tcp -j BLOCK',
      '-A BLOCK -j DROP',
      'COMMIT',
    );
    expect(checkIptablesSsh(blocked, ANYWHERE)).toMatchObject({
      safe: false,
      reason: "filter INPUT: '-A BLOCK -j DROP' drops new tcp/22 connections from anywhere",
    });
  });

  it('notes rules that may drop SSH depending on the unknown, without refusing', () => {
    const verdict = checkIptablesSsh(
      ipt('*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -s 10.0.0.0/8 -j DROP', '-A INPUT ! -p tcp -j DROP', 'COMMIT'),
      ANYWHERE,
    );
    expect(verdict.safe).toBe(true);
    expect(verdict.doubts).toEqual(['-A INPUT -s 10.0.0.0/8 -j DROP']);
  });

  it('checks raw and mangle too, and ignores tables the rules do not touch', () => {
    expect(
      checkIptablesSsh(
        ipt('*raw', ':PREROUTING ACCEPT [0:0]', '-A PREROUTING -p tcp --dport 22 -j DROP', 'COMMIT'),
        ANYWHERE,
      ).safe,
    ).toBe(false);
    expect(checkIptablesSsh(ipt('*nat', ':PREROUTING ACCEPT [0:0]', 'COMMIT'), ANYWHERE).safe).toBe(true);
  });

  it('rejects text that is not iptables-restore input', () => {
    expect(() => ipt('-A INPUT -j ACCEPT')).toThrow(RulesSyntaxError);
    expect(() => ipt('*filter', '-A INPUT -j ACCEPT')).toThrow('table *filter has no COMMIT');
    expect(() => ipt('*filter', 'iptables -A INPUT -j ACCEPT', 'COMMIT')).toThrow(
      "line 2: cannot read 'iptables -A INPUT -j ACCEPT'",
    );
  });
});

const NFT = `
define SSH = 22
table inet otopi {
  set managers {
    type ipv4_addr
    elements = { 192.168.10.5, 192.168.10.6 }
  }
  chain input {
    type filter hook input priority filter; policy drop;
    iif "lo" accept
    ct state { established, related } accept
    ct state invalid drop
    icmp type echo-request accept
    tcp dport { $SSH, 54321 } counter accept comment "ssh and vdsm"
  }
  chain forward { type filter hook forward priority 0; policy drop; }
}
`;

describe('nft SSH check', () => {
  it('reads tables and chains, with defines and inline sets', () => {
    const [table] = parseNftRuleset(NFT);
    expect(table).toMatchObject({ family: 'inet', name: 'otopi' });
    expect(table!.chains.get('input')).toMatchObject({ hook: 'input', policy: 'drop', priority: 0 });
    expect(checkNftSsh(parseNftRuleset(NFT), ANYWHERE)).toMatchObject({ safe: true });
  });

  it('refuses a drop policy without an SSH accept', () => {
    const text =
      'table ip t {\n chain in {\n  type filter hook input priority 0; policy drop;\n  tcp dport 54321 accept\n }\n}\n';
    expect(checkNftSsh(parseNftRuleset(text), ANYWHERE)).toMatchObject({
      safe: false,
      reason:
        'table ip t chain in: no rule surely accepts new tcp/22 connections from anywhere, and the policy is drop',
    });
  });

  it('refuses an explicit drop, and follows jumps', () => {
    const text =
      'table inet t {\n chain x { tcp dport 20-30 reject with tcp reset }\n chain in {\n  type filter hook input priority 0; policy accept;\n  meta l4proto tcp jump x\n }\n}\n';
    expect(checkNftSsh(parseNftRuleset(text), ANYWHERE)).toMatchObject({
      safe: false,
      reason:
        "table inet t chain in: 'tcp dport 20-30 reject with tcp reset' drops new tcp/22 connections from anywhere",
    });
  });

  it('takes addresses and interfaces from the SSH connection, and treats named sets as unknown', () => {
    const text =
      'table ip t {\n chain in {\n  type filter hook input priority 0; policy drop;\n  ip saddr 192.168.10.0/24 tcp dport 22 accept\n }\n}\n';
    expect(checkNftSsh(parseNftRuleset(text), MANAGER).safe).toBe(true);
    expect(checkNftSsh(parseNftRuleset(text), { ...MANAGER, source: '172.16.0.1' }).safe).toBe(false);
    const viaSet =
      'table ip t {\n chain in {\n  type filter hook input priority 0; policy drop;\n  ip saddr @managers tcp dport 22 accept\n }\n}\n';
    expect(checkNftSsh(parseNftRuleset(viaSet), MANAGER).safe).toBe(false);
  });

  it('ignores families an IPv4 connection never meets', () => {
    const text = 'table ip6 t {\n chain in {\n  type filter hook input priority 0; policy drop;\n }\n}\n';
    expect(checkNftSsh(parseNftRuleset(text), MANAGER).safe).toBe(true);
  });
});

describe('the SSH packet', () => {
  it('comes from $SSH_CONNECTION, with the interface holding the server address', () => {
    const interfaces = {
      lo: [{ address: '127.0.0.1' }],
      eth0: [{ address: '192.168.10.20' }, { address: 'fe80::1' }],
    } as never;
    expect(sshPacketFrom('192.168.10.5 50122 192.168.10.20 22', interfaces)).toEqual(MANAGER);
    expect(sshPacketFrom(undefined, interfaces)).toEqual({ port: 22 });
    expect(sshPacketFrom('garbage', interfaces)).toEqual({ port: 22 });
  });

  it('matches CIDRs for IPv4 and IPv6', () => {
    expect(inCidr('192.168.10.5', '192.168.10.0/24')).toBe(true);
    expect(inCidr('192.168.11.5', '192.168.10.0/24')).toBe(false);
    expect(inCidr('10.0.0.1', '0.0.0.0/0')).toBe(true);
    expect(inCidr('2001:db8::5', '2001:db8::/32')).toBe(true);
    expect(inCidr('2001:db9::5', '2001:db8::/32')).toBe(false);
    expect(inCidr('192.168.10.5', '192.168.10.5')).toBe(true);
  });
});
