/**
 * Persisting the bridge for initscripts-style ifcfg files (/etc/sysconfig/network-scripts):
 * a new ifcfg-<bridge> takes the device's IP settings, and ifcfg-<device> keeps its link
 * settings plus BRIDGE=<bridge>.
 */

export const IFCFG_DIR = '/etc/sysconfig/network-scripts';

/** Settings that configure IP and therefore move to the bridge. */
const IP_KEYS =
  /^(BOOTPROTO|IPADDR\d*|PREFIX\d*|NETMASK\d*|GATEWAY\d*|DNS\d+|DOMAIN|DEFROUTE|PEERDNS|PEERROUTES|DHCP_HOSTNAME|DHCP_CLIENT_ID|PERSISTENT_DHCLIENT|IPV4_FAILURE_FATAL|IPV4_ROUTE_METRIC|IPV6\w*|DHCPV6C\w*|METRIC|ZONE)$/;
/** Settings that make no sense on the bridge. */
const DEVICE_ONLY =
  /^(DEVICE|NAME|HWADDR|MACADDR|UUID|TYPE|BRIDGE|MASTER|SLAVE|BONDING_OPTS|VLAN|PHYSDEV|VLAN_ID|ETHTOOL_OPTS)$/;

export interface IfcfgEntry {
  readonly key: string;
  /** The value as written, quotes included. */
  readonly raw: string;
}

export function parseIfcfg(text: string): IfcfgEntry[] {
  const out: IfcfgEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m !== null) out.push({ key: m[1]!, raw: m[2]!.trim() });
  }
  return out;
}

export function ifcfgValue(raw: string): string {
  const m = /^(["'])(.*)\1$/.exec(raw);
  return m === null ? raw : m[2]!;
}

export interface IfcfgFiles {
  readonly device: string;
  readonly bridge: string;
}

/** The new texts of ifcfg-<device> and ifcfg-<bridge>. */
export function rewriteIfcfg(deviceText: string, device: string, bridge: string): IfcfgFiles {
  const entries = parseIfcfg(deviceText);
  const header = '# Written by ovirt-host-deploy: the management bridge';
  const keep = entries.filter((e) => !IP_KEYS.test(e.key) && e.key !== 'BRIDGE');
  const moved = entries.filter((e) => IP_KEYS.test(e.key));
  const shared = entries.filter((e) => !IP_KEYS.test(e.key) && !DEVICE_ONLY.test(e.key) && e.key !== 'ONBOOT');
  const deviceLines = [`${header} ${bridge} has this device as its port.`, ...keep.map((e) => `${e.key}=${e.raw}`)];
  if (!keep.some((e) => e.key === 'DEVICE')) deviceLines.splice(1, 0, `DEVICE=${device}`);
  deviceLines.push(`BRIDGE=${bridge}`, 'BOOTPROTO=none');
  const bridgeLines = [
    `${header}, made from ${device}.`,
    `DEVICE=${bridge}`,
    'TYPE=Bridge',
    'ONBOOT=yes',
    'DELAY=0',
    'STP=off',
    ...shared.map((e) => `${e.key}=${e.raw}`),
    ...moved.map((e) => `${e.key}=${e.raw}`),
  ];
  return { device: `${deviceLines.join('\n')}\n`, bridge: `${bridgeLines.join('\n')}\n` };
}
