/**
 * Reading iproute2 and kernel output: the JSON forms (`ip -j`), which iproute2 has had since
 * 4.14 (EL8, Debian 10), with a text fallback for `ip route get`; VLAN and bond details from
 * /proc and /sys.
 */

export interface RouteHit {
  /** `local` when the address is this host's own (the engine runs here). */
  readonly type: 'unicast' | 'local' | 'unreachable' | 'other';
  readonly dst: string;
  readonly dev: string | null;
  readonly via: string | null;
  readonly src: string | null;
}

interface JsonRouteGet {
  type?: string;
  dst?: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
}

/** `ip -j route get to <addr>`. */
export function parseRouteGetJson(text: string): RouteHit {
  const [hit] = JSON.parse(text) as JsonRouteGet[];
  if (hit === undefined) throw new Error('ip route get printed no route');
  const type =
    hit.type === undefined || hit.type === 'unicast'
      ? 'unicast'
      : hit.type === 'local'
        ? 'local'
        : hit.type === 'unreachable'
          ? 'unreachable'
          : 'other';
  return { type, dst: hit.dst ?? '', dev: hit.dev ?? null, via: hit.gateway ?? null, src: hit.prefsrc ?? null };
}

/** `ip route get to <addr>` text: `[local] <addr> [from …] [via <gw>] dev <dev> … src <src> …`. */
export function parseRouteGetText(text: string): RouteHit {
  const line = text.split('\n')[0]?.trim() ?? '';
  const words = line.split(/\s+/);
  const field = (name: string): string | null => {
    const i = words.indexOf(name);
    return i >= 0 && i + 1 < words.length ? words[i + 1]! : null;
  };
  const first = words[0] ?? '';
  const type =
    first === 'local'
      ? 'local'
      : first === 'unreachable' || first === 'prohibit' || first === 'blackhole'
        ? 'unreachable'
        : first === 'broadcast' || first === 'multicast'
          ? 'other'
          : 'unicast';
  const dst = type === 'unicast' ? first : (words[1] ?? '');
  return { type, dst, dev: field('dev'), via: field('via'), src: field('src') };
}

export interface IfAddress {
  readonly family: 'inet' | 'inet6';
  readonly local: string;
  readonly prefixlen: number;
  readonly broadcast: string | null;
  readonly scope: string;
  /** Given by DHCP or SLAAC (has a lifetime). */
  readonly dynamic: boolean;
  readonly label: string | null;
}

export interface LinkInfo {
  readonly name: string;
  readonly mac: string | null;
  readonly mtu: number;
  /** `bridge`, `vlan`, `bond`, `veth`… or null for a plain device. */
  readonly kind: string | null;
  /** The bridge or bond this device is enslaved to. */
  readonly master: string | null;
  readonly up: boolean;
  readonly addresses: readonly IfAddress[];
}

interface JsonLink {
  ifname?: string;
  address?: string;
  mtu?: number;
  master?: string;
  flags?: string[];
  operstate?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: {
    family?: string;
    local?: string;
    prefixlen?: number;
    broadcast?: string;
    scope?: string;
    dynamic?: boolean;
    label?: string;
  }[];
}

/** `ip -d -j addr show dev <name>` (details give the link kind). */
export function parseLinkJson(text: string): LinkInfo {
  const [link] = JSON.parse(text) as JsonLink[];
  if (link?.ifname === undefined) throw new Error('ip addr show printed no device');
  const addresses: IfAddress[] = [];
  for (const a of link.addr_info ?? []) {
    if ((a.family !== 'inet' && a.family !== 'inet6') || a.local === undefined || a.prefixlen === undefined) continue;
    addresses.push({
      family: a.family,
      local: a.local,
      prefixlen: a.prefixlen,
      broadcast: a.broadcast ?? null,
      scope: a.scope ?? 'global',
      dynamic: a.dynamic === true,
      label: a.label ?? null,
    });
  }
  return {
    name: link.ifname,
    mac: link.address ?? null,
    mtu: link.mtu ?? 1500,
    kind: link.linkinfo?.info_kind ?? null,
    master: link.master ?? null,
    up: (link.flags ?? []).includes('UP'),
    addresses,
  };
}

/** Addresses that move onto the bridge: global ones (link-local addresses stay with the device). */
export function movableAddresses(link: LinkInfo): IfAddress[] {
  return link.addresses.filter((a) => a.scope === 'global');
}

export interface Route {
  readonly family: 'inet' | 'inet6';
  readonly dst: string;
  readonly gateway: string | null;
  readonly protocol: string | null;
  readonly scope: string | null;
  readonly metric: number | null;
  readonly prefsrc: string | null;
  readonly onlink: boolean;
}

interface JsonRoute {
  dst?: string;
  gateway?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  prefsrc?: string;
  flags?: string[];
  type?: string;
}

/** `ip [-6] -j route show dev <name>`: the routes that must follow the addresses. */
export function parseRoutesJson(text: string, family: 'inet' | 'inet6'): Route[] {
  const routes = (text.trim() === '' ? [] : JSON.parse(text)) as JsonRoute[];
  return routes
    .filter((r) => r.dst !== undefined && (r.type === undefined || r.type === 'unicast'))
    .map((r) => ({
      family,
      dst: r.dst!,
      gateway: r.gateway ?? null,
      protocol: r.protocol ?? null,
      scope: r.scope ?? null,
      metric: r.metric ?? null,
      prefsrc: r.prefsrc ?? null,
      onlink: (r.flags ?? []).includes('onlink'),
    }));
}

/**
 * Routes the kernel does not recreate by itself when the addresses move: not the prefix
 * routes of the addresses (`proto kernel`), not IPv6 link-local and multicast routes.
 */
export function routesToMove(routes: readonly Route[]): Route[] {
  return routes.filter(
    (r) => r.protocol !== 'kernel' && !r.dst.startsWith('fe80:') && !r.dst.startsWith('ff00:') && r.dst !== 'multicast',
  );
}

export interface VlanInfo {
  readonly id: number;
  readonly parent: string;
}

/** /proc/net/vlan/<device>: `<dev>  VID: 100\t REORDER_HDR: 1 …` and `Device: eth0` (tabs or spaces). */
export function parseProcVlan(text: string): VlanInfo | null {
  const id = /VID:\s*(\d+)/.exec(text);
  const parent = /Device:\s*(\S+)/.exec(text);
  return id === null || parent === null ? null : { id: Number(id[1]), parent: parent[1]! };
}

/** /sys/class/net/<bond>/bonding/slaves: space-separated names. */
export function parseBondSlaves(text: string): string[] {
  return text.split(/\s+/).filter((s) => s !== '');
}
