import { describe, expect, it } from 'vitest';
import { checkIptablesSsh, parseIptablesRestore } from '../../otopi/src/_lib/network/iptables-rules.js';
import { checkNftSsh } from '../../otopi/src/_lib/network/nft-check.js';
import { parseNftRuleset } from '../../otopi/src/_lib/network/nft-rules.js';
import { sshPacketFrom } from '../../otopi/src/_lib/network/packet.js';
import {
  defaultFirewalld,
  defaultFirewalldPorts,
  defaultIptables,
  defaultNftables,
  fillPlaceholders,
  sshPortOf,
} from '../src/_lib/firewall-template.js';
import { BACKUP_BEGIN, BACKUP_END, hasCrashKernel, rewriteKdumpConf } from '../src/_lib/kdump-conf.js';
import { argsChange, parseGrubbyArgs, splitArgs, withFipsBoot } from '../src/_lib/kernel-args.js';
import { detectNode } from '../src/node/detect.js';
import { parseActiveProfile } from '../src/tune/tuned.js';

const fence = { address: 'engine.example.com', port: 7410, interval: 5 };

describe('kdump.conf', () => {
  const original =
    '# kdump config\npath /var/crash\nfence_kdump_nodes old-engine\nfence_kdump_args -p 7411\ncore_collector makedumpfile -l\n';
  it('keeps the administrator fence lines in a backup block once, and appends the engine', () => {
    const first = rewriteKdumpConf(original, fence);
    expect(first).toBe(
      [
        '# kdump config',
        'path /var/crash',
        'core_collector makedumpfile -l',
        BACKUP_BEGIN,
        '#fence_kdump_nodes old-engine',
        '#fence_kdump_args -p 7411',
        BACKUP_END,
        'fence_kdump_nodes engine.example.com',
        'fence_kdump_args -p 7410 -i 5',
        '',
      ].join('\n'),
    );
    expect(rewriteKdumpConf(first, fence)).toBe(first);
    const moved = rewriteKdumpConf(first, { ...fence, address: '10.0.0.9' });
    expect(moved.match(/^#fence_kdump_nodes/gm)).toHaveLength(1);
    expect(moved).toContain('fence_kdump_nodes 10.0.0.9\n');
  });
  it('adds no backup block when there was nothing to keep', () => {
    expect(rewriteKdumpConf('path /var/crash\n\n', fence)).toBe(
      'path /var/crash\nfence_kdump_nodes engine.example.com\nfence_kdump_args -p 7410 -i 5\n',
    );
    expect(rewriteKdumpConf('', fence)).toBe('fence_kdump_nodes engine.example.com\nfence_kdump_args -p 7410 -i 5\n');
    expect(hasCrashKernel('BOOT_IMAGE=/vmlinuz ro crashkernel=auto quiet')).toBe(true);
    expect(hasCrashKernel('BOOT_IMAGE=/vmlinuz ro quiet')).toBe(false);
  });
});

describe('kernel arguments', () => {
  it('changes only what differs, so a second deploy changes nothing', () => {
    const current = parseGrubbyArgs(
      'index=0\nkernel="/boot/vmlinuz"\nargs="ro crashkernel=auto intel_iommu=on hugepages=10"\nroot="UUID=x"\n',
    );
    expect(current).toEqual(['ro', 'crashkernel=auto', 'intel_iommu=on', 'hugepages=10']);
    expect(argsChange(current, splitArgs('hugepages=10'), splitArgs('hugepages=20 intel_iommu=on'))).toEqual({
      remove: ['hugepages=10'],
      add: ['hugepages=20'],
    });
    expect(argsChange(['ro', 'hugepages=20'], ['hugepages=10'], ['hugepages=20'])).toEqual({ remove: [], add: [] });
    expect(splitArgs('a="b c" d')).toEqual(['a="b c"', 'd']);
  });
  it('puts boot= before fips=1', () => {
    expect(withFipsBoot(['fips=1'], 'abcd')).toEqual(['boot=UUID=abcd', 'fips=1']);
    expect(withFipsBoot(['fips=1', 'boot=/dev/sda1'], 'abcd')).toEqual(['fips=1', 'boot=/dev/sda1']);
    expect(withFipsBoot(['quiet'], 'abcd')).toEqual(['quiet']);
  });
});

describe('the oVirt default firewall', () => {
  const input = { vdsmPort: 54321, sshPort: 22, virt: true };
  const fromEngine = sshPacketFrom('10.88.0.1 40000 10.88.0.11 22');
  it('is iptables-restore input that keeps SSH open and opens the oVirt ports', () => {
    const rules = defaultIptables(input);
    const tables = parseIptablesRestore(`${rules.join('\n')}\n`);
    expect(checkIptablesSsh(tables, fromEngine).safe).toBe(true);
    expect(rules).toContain('-A INPUT -p tcp -m tcp --dport 54321 -j ACCEPT');
    expect(rules).toContain('-A INPUT -p tcp -m tcp --dport 54322 -j ACCEPT');
    expect(rules).toContain('-A INPUT -p tcp -m tcp --dport 5900:6923 -j ACCEPT');
    expect(rules.at(-2)).toBe(
      '-A FORWARD -m physdev ! --physdev-is-bridged -j REJECT --reject-with icmp-host-prohibited',
    );
    expect(defaultIptables({ ...input, virt: false }).some((r) => r.includes('16514'))).toBe(false);
  });
  it('is an nft table and firewalld ports too', () => {
    const nft = defaultNftables({ ...input, sshPort: 2222 });
    const parsed = parseNftRuleset(`${nft.join('\n')}\n`);
    expect(parsed.map((t) => `${t.family} ${t.name}`)).toEqual(['inet ovirt_host']);
    expect(checkNftSsh(parsed, sshPacketFrom('10.88.0.1 40000 10.88.0.11 2222')).safe).toBe(true);
    expect(nft).toContain(
      '    tcp dport { 54321, 54322, 111, 2222, 9090, 16514, 2223, 5900-6923, 49152-49216 } accept',
    );
    expect(defaultFirewalldPorts(input)).toEqual([
      '54321/tcp',
      '54322/tcp',
      '111/tcp',
      '111/udp',
      '22/tcp',
      '161/udp',
      '9090/tcp',
      '16514/tcp',
      '2223/tcp',
      '5900-6923/tcp',
      '49152-49216/tcp',
    ]);
    // firewalld's own services where it knows them (rpc-bind only for both protocols), ports for the rest.
    expect(defaultFirewalld(input, new Set(['ssh', 'rpc-bind', 'cockpit', 'vdsm']))).toEqual({
      services: ['ssh', 'rpc-bind', 'cockpit'],
      ports: ['54321/tcp', '54322/tcp', '161/udp', '16514/tcp', '2223/tcp', '5900-6923/tcp', '49152-49216/tcp'],
    });
    expect(defaultFirewalld({ ...input, sshPort: 2222 }, new Set(['ssh'])).services).toEqual([]);
  });
  it("fills the engine's placeholders", () => {
    expect(
      fillPlaceholders(
        [
          '-A INPUT -p tcp --dport @VDSM_PORT@ -j ACCEPT',
          '-A INPUT -p tcp --dport @SSH_PORT@ -j ACCEPT',
          '@CUSTOM_RULES@',
          'COMMIT',
        ],
        { vdsmPort: 1234, sshPort: 2222, virt: true },
      ),
    ).toEqual([
      '-A INPUT -p tcp --dport 1234 -j ACCEPT',
      '-A INPUT -p tcp --dport 2222 -j ACCEPT',
      '-A INPUT -p tcp -m tcp --dport 16514 -j ACCEPT',
      '-A INPUT -p tcp -m tcp --dport 2223 -j ACCEPT',
      '-A INPUT -p tcp -m tcp --dport 5900:6923 -j ACCEPT',
      '-A INPUT -p tcp -m tcp --dport 49152:49216 -j ACCEPT',
      'COMMIT',
    ]);
    expect(sshPortOf('10.0.0.1 5000 10.0.0.2 2200')).toBe(2200);
    expect(sshPortOf(undefined)).toBe(22);
  });
});

describe('oVirt Node and tuned', () => {
  it('tells the node kinds apart', () => {
    const files: Record<string, string> = {
      '/etc/os-release': 'NAME="oVirt Node"\nVARIANT_ID="ovirt-node"\n',
      '/etc/default/version.ovirt-node-plugin-vdsm': 'FEATURES="kdump"\n',
    };
    const node = detectNode(
      (p) => files[p] ?? null,
      (d) => (d === '/sys/class/net' ? ['eth0', 'br0'] : []),
      (p) => p === '/sys/class/net/br0/bridge/bridge_id',
    );
    expect(node).toEqual({ node: true, legacy: false, container: false, ownBridges: true, features: 'kdump' });
    const legacy = detectNode(
      () => null,
      (d) => (d === '/etc' ? ['ovirt-node-iso-release'] : []),
      () => false,
    );
    expect(legacy).toMatchObject({ node: false, legacy: true, ownBridges: false });
    expect(
      detectNode(
        () => 'ID=debian\n',
        () => [],
        () => false,
      ),
    ).toEqual({ node: false, legacy: false, container: false, ownBridges: false, features: null });
  });
  it('reads the active tuned profile', () => {
    expect(parseActiveProfile('Current active profile: virtual-host\n')).toBe('virtual-host');
    expect(parseActiveProfile('No current active profile.\n')).toBeNull();
  });
});
