import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Transaction } from '../../../packages/core/src/transaction/transaction.js';
import { ManagementBridge } from '../src/_lib/network/bridge-element.js';
import { describePlan, planBridge, type BridgePlan } from '../src/_lib/network/discover.js';
import { parseIfcfg, rewriteIfcfg } from '../src/_lib/network/ifcfg.js';
import { configuresDevice, interfacesFiles, rewriteInterfaces } from '../src/_lib/network/ifupdown.js';
import {
  movableAddresses,
  parseBondSlaves,
  parseLinkJson,
  parseProcVlan,
  parseRouteGetJson,
  parseRouteGetText,
  parseRoutesJson,
  routesToMove,
} from '../src/_lib/network/ip-parse.js';
import { bridgeDownBatch, bridgeUpBatch } from '../src/_lib/network/iproute-plan.js';
import { activeProfile, nmCommands, parseNmTerse } from '../src/_lib/network/nm-plan.js';
import { waitReachable } from '../src/_lib/network/reach.js';
import { fakeRunner, fakeSystem } from './helpers.js';

const ETH0 = JSON.stringify([
  {
    ifindex: 2,
    ifname: 'eth0',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    mtu: 1500,
    operstate: 'UP',
    address: '52:54:00:12:34:56',
    linkinfo: { info_kind: 'veth' },
    addr_info: [
      {
        family: 'inet',
        local: '10.88.0.11',
        prefixlen: 24,
        broadcast: '10.88.0.255',
        scope: 'global',
        label: 'eth0',
        valid_life_time: 4294967295,
      },
      { family: 'inet', local: '10.88.0.50', prefixlen: 24, scope: 'global', dynamic: true, label: 'eth0:1' },
      { family: 'inet6', local: 'fd00::11', prefixlen: 64, scope: 'global' },
      { family: 'inet6', local: 'fe80::5054:ff:fe12:3456', prefixlen: 64, scope: 'link' },
    ],
  },
]);
const ROUTES4 = JSON.stringify([
  { dst: 'default', gateway: '10.88.0.1', dev: 'eth0', flags: [] },
  { dst: '10.88.0.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '10.88.0.11', flags: [] },
  { dst: '192.168.7.0/24', gateway: '10.88.0.254', dev: 'eth0', protocol: 'static', metric: 50, flags: ['onlink'] },
]);
const ROUTES6 = JSON.stringify([
  { dst: 'fd00::/64', dev: 'eth0', protocol: 'kernel', metric: 256, flags: [] },
  { dst: 'fe80::/64', dev: 'eth0', protocol: 'kernel', metric: 256, flags: [] },
  { dst: 'default', gateway: 'fd00::1', dev: 'eth0', protocol: 'ra', metric: 1024, flags: [] },
]);

describe('reading ip output', () => {
  it('finds the device of a route, in JSON and text, also for a local engine', () => {
    expect(
      parseRouteGetJson('[{"dst":"10.88.0.1","dev":"eth0","prefsrc":"10.88.0.11","flags":[],"uid":0,"cache":[]}]'),
    ).toEqual({
      type: 'unicast',
      dst: '10.88.0.1',
      dev: 'eth0',
      via: null,
      src: '10.88.0.11',
    });
    expect(
      parseRouteGetJson(
        '[{"type":"local","dst":"127.0.0.1","dev":"lo","prefsrc":"127.0.0.1","flags":[],"uid":0,"cache":["local"]}]',
      ).type,
    ).toBe('local');
    expect(parseRouteGetText('1.1.1.1 via 192.0.2.1 dev eth0 src 192.0.2.2 uid 0 \n    cache \n')).toEqual({
      type: 'unicast',
      dst: '1.1.1.1',
      dev: 'eth0',
      via: '192.0.2.1',
      src: '192.0.2.2',
    });
    expect(parseRouteGetText('local 10.0.0.5 dev lo src 10.0.0.5 uid 0').type).toBe('local');
    expect(
      parseRouteGetText(
        '2001:db8::1 from :: via fe80::1 dev bond0.100 proto ra src 2001:db8::5 metric 1024 pref medium',
      ),
    ).toMatchObject({
      dev: 'bond0.100',
      via: 'fe80::1',
      src: '2001:db8::5',
    });
  });

  it('reads a device: kind, master, MAC, and which addresses move (not link-local ones)', () => {
    const link = parseLinkJson(ETH0);
    expect(link).toMatchObject({
      name: 'eth0',
      mac: '52:54:00:12:34:56',
      mtu: 1500,
      kind: 'veth',
      master: null,
      up: true,
    });
    expect(movableAddresses(link).map((a) => `${a.local}/${a.prefixlen}${a.dynamic ? ' dynamic' : ''}`)).toEqual([
      '10.88.0.11/24',
      '10.88.0.50/24 dynamic',
      'fd00::11/64',
    ]);
  });

  it('moves static, boot and RA routes, not the kernel prefix routes', () => {
    const routes = routesToMove([
      ...parseRoutesJson(ROUTES4, 'inet'),
      ...parseRoutesJson(ROUTES6, 'inet6'),
      ...parseRoutesJson('', 'inet'),
    ]);
    expect(routes.map((r) => `${r.family} ${r.dst} ${r.gateway ?? '-'} ${r.protocol ?? '-'}`)).toEqual([
      'inet default 10.88.0.1 -',
      'inet 192.168.7.0/24 10.88.0.254 static',
      'inet6 default fd00::1 ra',
    ]);
  });

  it('reads VLANs (tabs or spaces) and bonds; the lab kernel has neither, so only here', () => {
    const proc =
      'eth0.100  VID: 100\t REORDER_HDR: 1  dev->priv_flags: 1001\n         total frames received            0\nDevice: eth0\nINGRESS priority mappings: 0:0\n';
    expect(parseProcVlan(proc)).toEqual({ id: 100, parent: 'eth0' });
    expect(parseProcVlan('bond0.7\tVID:\t7\nDevice:\tbond0\n')).toEqual({ id: 7, parent: 'bond0' });
    expect(parseProcVlan('garbage')).toBeNull();
    expect(parseBondSlaves('eth0 eth1\n')).toEqual(['eth0', 'eth1']);
  });
});

describe('the live change', () => {
  const state = {
    bridge: 'ovirtmgmt',
    nic: parseLinkJson(ETH0),
    addresses: movableAddresses(parseLinkJson(ETH0)),
    routes: routesToMove([...parseRoutesJson(ROUTES4, 'inet'), ...parseRoutesJson(ROUTES6, 'inet6')]),
  };
  it('builds the bridge, moves the addresses and routes in one batch', () => {
    expect(bridgeUpBatch(state)).toEqual([
      'link add name ovirtmgmt type bridge stp_state 0',
      'link set dev ovirtmgmt address 52:54:00:12:34:56 mtu 1500',
      'link set dev ovirtmgmt up',
      'link set dev eth0 master ovirtmgmt',
      'address del 10.88.0.11/24 dev eth0',
      'address add 10.88.0.11/24 broadcast 10.88.0.255 dev ovirtmgmt',
      'address del 10.88.0.50/24 dev eth0',
      'address add 10.88.0.50/24 dev ovirtmgmt label ovirtmgmt:1',
      'address del fd00::11/64 dev eth0',
      'address add fd00::11/64 dev ovirtmgmt',
      'route replace default via 10.88.0.1 dev ovirtmgmt',
      'route replace 192.168.7.0/24 via 10.88.0.254 dev ovirtmgmt proto static metric 50 onlink',
      'route replace default via fd00::1 dev ovirtmgmt proto ra metric 1024',
    ]);
  });
  it('puts everything back and removes the bridge', () => {
    expect(bridgeDownBatch(state)).toEqual([
      'link set dev eth0 nomaster',
      'address del 10.88.0.11/24 dev ovirtmgmt',
      'address add 10.88.0.11/24 broadcast 10.88.0.255 dev eth0',
      'address del 10.88.0.50/24 dev ovirtmgmt',
      'address add 10.88.0.50/24 dev eth0 label eth0:1',
      'address del fd00::11/64 dev ovirtmgmt',
      'address add fd00::11/64 dev eth0',
      'route replace default via 10.88.0.1 dev eth0',
      'route replace 192.168.7.0/24 via 10.88.0.254 dev eth0 proto static metric 50 onlink',
      'route replace default via fd00::1 dev eth0 proto ra metric 1024',
      'link del dev ovirtmgmt',
    ]);
  });
});

describe('persistence', () => {
  const interfaces = [
    '# The loopback network interface',
    'auto lo',
    'iface lo inet loopback',
    '',
    'auto eth0',
    'iface eth0 inet static',
    '    address 10.88.0.11/24',
    '    gateway 10.88.0.1',
    '    mtu 9000',
    '    dns-nameservers 10.88.0.1',
    '',
    'iface eth0 inet6 auto',
    '',
    'source /etc/network/interfaces.d/*',
    '',
  ].join('\n');

  it('moves the ifupdown stanzas of the device onto the bridge, keeping link options and the rest', () => {
    expect(configuresDevice(interfaces, 'eth0')).toBe(true);
    expect(configuresDevice(interfaces, 'eth1')).toBe(false);
    expect(rewriteInterfaces(interfaces, 'eth0', 'ovirtmgmt')).toBe(
      [
        '# The loopback network interface',
        'auto lo',
        'iface lo inet loopback',
        '',
        'auto eth0',
        'iface eth0 inet manual',
        '    mtu 9000',
        '',
        '',
        'source /etc/network/interfaces.d/*',
        '',
        '# Management bridge made by ovirt-host-deploy; eth0 is its port.',
        'auto ovirtmgmt',
        'iface ovirtmgmt inet static',
        '    bridge_ports eth0',
        '    bridge_stp off',
        '    bridge_fd 0',
        '    address 10.88.0.11/24',
        '    gateway 10.88.0.1',
        '    dns-nameservers 10.88.0.1',
        'iface ovirtmgmt inet6 auto',
        '',
      ].join('\n'),
    );
    expect(rewriteInterfaces('auto eth1\niface eth1 inet dhcp\n', 'eth0', 'ovirtmgmt')).toBeNull();
    expect(rewriteInterfaces('allow-hotplug eth0\niface eth0 inet dhcp\n', 'eth0', 'ovirtmgmt')).toBe(
      'allow-hotplug eth0\niface eth0 inet manual\n\n# Management bridge made by ovirt-host-deploy; eth0 is its port.\nauto ovirtmgmt\niface ovirtmgmt inet dhcp\n    bridge_ports eth0\n    bridge_stp off\n    bridge_fd 0\n',
    );
    expect(interfacesFiles(() => ['50-eth1', 'README.md~', 'bad name'])).toEqual([
      '/etc/network/interfaces',
      '/etc/network/interfaces.d/50-eth1',
    ]);
  });

  it('splits an ifcfg file into the bridge (IP settings) and its port (link settings)', () => {
    const ifcfg =
      'TYPE=Ethernet\nDEVICE=eth0\nHWADDR=52:54:00:12:34:56\nONBOOT=yes\nBOOTPROTO=none\nIPADDR=10.88.0.11\nPREFIX=24\nGATEWAY=10.88.0.1\nDNS1="10.88.0.1"\nMTU=9000\nNM_CONTROLLED=no\n';
    expect(parseIfcfg(ifcfg).find((e) => e.key === 'DNS1')?.raw).toBe('"10.88.0.1"');
    const { device, bridge } = rewriteIfcfg(ifcfg, 'eth0', 'ovirtmgmt');
    expect(device.split('\n').slice(1)).toEqual([
      'TYPE=Ethernet',
      'DEVICE=eth0',
      'HWADDR=52:54:00:12:34:56',
      'ONBOOT=yes',
      'MTU=9000',
      'NM_CONTROLLED=no',
      'BRIDGE=ovirtmgmt',
      'BOOTPROTO=none',
      '',
    ]);
    expect(bridge.split('\n').slice(1)).toEqual([
      'DEVICE=ovirtmgmt',
      'TYPE=Bridge',
      'ONBOOT=yes',
      'DELAY=0',
      'STP=off',
      'MTU=9000',
      'NM_CONTROLLED=no',
      'BOOTPROTO=none',
      'IPADDR=10.88.0.11',
      'PREFIX=24',
      'GATEWAY=10.88.0.1',
      'DNS1="10.88.0.1"',
      '',
    ]);
  });

  it('turns the NetworkManager profile of the device into the bridge port, and back', () => {
    expect(activeProfile('GENERAL.STATE:100 (connected)\nGENERAL.CONNECTION:Wired connection 1\n')).toBe(
      'Wired connection 1',
    );
    expect(activeProfile('GENERAL.STATE:10 (unmanaged)\nGENERAL.CONNECTION:\n')).toBeNull();
    const settings = parseNmTerse(
      'ipv4.method:manual\nipv4.addresses:10.88.0.11/24\nipv4.gateway:10.88.0.1\nipv6.method:auto\nipv6.addresses:\nconnection.autoconnect:yes\nipv4.dns-search:a\\:b\n',
    );
    expect(settings['ipv4.dns-search']).toBe('a:b');
    const nm = nmCommands('ovirtmgmt', '52:54:00:12:34:56', { name: 'Wired connection 1', settings });
    expect(nm.up.map((a) => a.join(' '))).toEqual([
      'connection add type bridge ifname ovirtmgmt con-name ovirtmgmt connection.autoconnect yes bridge.stp no bridge.mac-address 52:54:00:12:34:56 ipv4.method manual ipv4.addresses 10.88.0.11/24 ipv4.gateway 10.88.0.1 ipv4.dns-search a:b ipv6.method auto',
      'connection modify Wired connection 1 connection.master ovirtmgmt connection.slave-type bridge',
      'connection up Wired connection 1',
      'connection up ovirtmgmt',
    ]);
    expect(nm.down.map((a) => a.join('|'))).toEqual([
      'connection|modify|Wired connection 1|connection.master||connection.slave-type||ipv4.method|manual|ipv4.addresses|10.88.0.11/24|ipv4.gateway|10.88.0.1|ipv4.dns-search|a:b|ipv6.method|auto',
      'connection|delete|ovirtmgmt',
      'connection|up|Wired connection 1',
    ]);
  });
});

/** A host whose `ip` answers like the lab's h1 (eth0 10.88.0.11/24, engine 10.88.0.1). */
function ipHost(
  extra: (argv: readonly string[]) => { stdout?: string; code?: number; stderr?: string } | undefined = () => undefined,
) {
  return fakeRunner((argv) => {
    const more = extra(argv);
    if (more !== undefined) return more;
    const args = argv.slice(1).join(' ');
    if (args === '-j route get to 10.88.0.1')
      return { stdout: '[{"dst":"10.88.0.1","dev":"eth0","prefsrc":"10.88.0.11","flags":[],"uid":0,"cache":[]}]' };
    if (args === '-d -j addr show dev eth0') return { stdout: ETH0 };
    if (args === '-j route show dev eth0') return { stdout: ROUTES4 };
    if (args === '-6 -j route show dev eth0') return { stdout: ROUTES6 };
    if (argv[0]!.endsWith('nmcli')) return { code: 10, stderr: 'Error: NetworkManager is not running.' };
    return undefined;
  });
}

const planInput = (sys: ReturnType<typeof fakeSystem>, exists: string[] = []) => ({
  sys,
  bridge: 'ovirtmgmt',
  engineAddress: '10.88.0.1',
  list: () => [],
  exists: (p: string) => exists.includes(p),
});

describe('planning the bridge', () => {
  it('plans on the device routing to the engine, persisting with ifupdown when it configures the device', async () => {
    const sys = fakeSystem(ipHost().run, {
      '/etc/network/interfaces': 'auto eth0\niface eth0 inet static\n  address 10.88.0.11/24\n',
    });
    const result = await planBridge(planInput(sys));
    expect(result.kind).toBe('plan');
    const plan = (result as { plan: BridgePlan }).plan;
    expect(plan.persistence).toBe('ifupdown');
    expect(plan.files[0]?.path).toBe('/etc/network/interfaces');
    expect(plan.nm).toBeNull();
    expect(describePlan(plan)).toBe(
      'Bridge ovirtmgmt on eth0, moving 10.88.0.11/24, 10.88.0.50/24, fd00::11/64, route default via 10.88.0.1, route 192.168.7.0/24 via 10.88.0.254, route default via fd00::1; through iproute2; persisted with ifupdown',
    );
  });

  it('skips when the bridge already carries the traffic, or exists elsewhere, or the device is a bridge', async () => {
    const viaBridge = fakeSystem(
      ipHost((a) => (a.includes('get') ? { stdout: '[{"dst":"10.88.0.1","dev":"ovirtmgmt","flags":[]}]' } : undefined))
        .run,
    );
    expect(await planBridge(planInput(viaBridge))).toEqual({
      kind: 'skip',
      reason: 'ovirtmgmt already carries the traffic to the engine (10.88.0.1)',
    });
    const exists = await planBridge(planInput(fakeSystem(ipHost().run), ['/sys/class/net/ovirtmgmt']));
    expect(exists).toMatchObject({
      kind: 'skip',
      reason: expect.stringMatching(/exists, but the engine .* is reached through eth0/) as unknown,
    });
    const bridged = fakeSystem(
      ipHost((a) =>
        a.join(' ').endsWith('addr show dev eth0') ? { stdout: ETH0.replace('"veth"', '"bridge"') } : undefined,
      ).run,
    );
    expect(await planBridge(planInput(bridged))).toMatchObject({
      kind: 'skip',
      reason: 'the engine is reached through eth0, which already is a bridge',
    });
  });

  it('refuses when there is no route to the engine', async () => {
    const none = fakeSystem(
      ipHost((a) => (a.includes('get') ? { code: 2, stderr: 'RTNETLINK answers: Network is unreachable' } : undefined))
        .run,
    );
    await expect(planBridge(planInput(none))).rejects.toThrow(/Network is unreachable/);
  });
});

describe('the bridge element', () => {
  async function planned(): Promise<{ plan: BridgePlan; runner: ReturnType<typeof ipHost> }> {
    const runner = ipHost();
    const result = await planBridge(planInput(fakeSystem(runner.run)));
    return { plan: (result as { plan: BridgePlan }).plan, runner };
  }

  it('commits in one ip batch and checks the engine', async () => {
    const { plan } = await planned();
    const runner = fakeRunner(() => undefined);
    const sys = fakeSystem(runner.run);
    const tries: string[] = [];
    const element = new ManagementBridge(plan, sys, {
      port: 8080,
      timeoutS: 1,
      attempts: 3,
      connect: (host, port) => {
        tries.push(`${host}:${port}`);
        return Promise.resolve(tries.length < 2 ? 'EHOSTUNREACH' : 'ok');
      },
    });
    await element.prepare();
    await element.commit();
    expect(runner.commands()).toEqual(['ip -batch -']);
    expect(runner.calls[0]?.input?.split('\n')[0]).toBe('link add name ovirtmgmt type bridge stp_state 0');
    expect(tries).toEqual(['10.88.0.1:8080', '10.88.0.1:8080']);
    expect(sys.slept).toEqual([1000]);
    await element.rollback();
    expect(runner.commands()).toEqual(['ip -batch -', 'ip -force -batch -']);
    expect(runner.calls[1]?.input?.trim().split('\n').at(-1)).toBe('link del dev ovirtmgmt');
  });

  it('journals the live change before making it, so a killed run is put back by recovery', async () => {
    const { plan } = await planned();
    const runner = fakeRunner(() => undefined);
    const sys = fakeSystem(runner.run);
    const state = mkdtempSync(join(tmpdir(), 'bridge-journal-'));
    const tx = new Transaction({ journalDir: state });
    const element = new ManagementBridge(plan, sys, null, tx);
    await tx.append(element);
    await tx.prepare();
    await element.commit();
    // The run dies here: the journal holds the reverse batch, which recovery runs (no input, no shell of ours).
    const journal = readdirSync(state).find((n) => n.endsWith('.journal'))!;
    const body = JSON.parse(readFileSync(join(state, journal), 'utf8')) as { undo: { commands: string[][] }[] };
    const [command] = body.undo[0]!.commands;
    expect(command!.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(command!.slice(3, 5)).toEqual(['sh', '/usr/bin/ip']);
    expect(command!.slice(5)).toEqual(
      bridgeDownBatch({ bridge: plan.bridge, nic: plan.nic, addresses: plan.addresses, routes: plan.routes }),
    );
    expect(command!.at(-1)).toBe('link del dev ovirtmgmt');
    // An in-process rollback drops the record.
    await element.rollback();
    const after = JSON.parse(readFileSync(join(state, journal), 'utf8')) as { undo?: unknown[] };
    expect(after.undo).toBeUndefined();
    rmSync(state, { recursive: true, force: true });
  });

  it('rolls itself back and fails the commit when the engine stops answering', async () => {
    const { plan } = await planned();
    const runner = fakeRunner(() => undefined);
    const sys = fakeSystem(runner.run);
    const element = new ManagementBridge(plan, sys, {
      port: 80,
      timeoutS: 1,
      attempts: 3,
      connect: () => Promise.resolve('ETIMEDOUT'),
    });
    await expect(element.commit()).rejects.toThrow(
      'The engine (10.88.0.1:80) is not reachable through ovirtmgmt (ETIMEDOUT); the bridge was rolled back',
    );
    expect(runner.commands()).toEqual(['ip -batch -', 'ip -force -batch -']);
    await element.abort();
    expect(runner.commands()).toHaveLength(2);
  });

  it('waits with retries and stops at the first answer', async () => {
    let n = 0;
    const result = await waitReachable({
      host: 'h',
      port: 1,
      timeoutS: 1,
      attempts: 5,
      sleep: () => Promise.resolve(),
      connect: () => Promise.resolve(++n === 4 ? 'ok' : 'no'),
    });
    expect([result, n]).toEqual(['ok', 4]);
  });
});
