/**
 * The live change as `ip -batch` lines: one process applies the whole move, so the host is
 * without its address for microseconds rather than for the round trips of separate commands,
 * and SSH sessions over the interface survive. The reverse batch puts everything back.
 */
import type { IfAddress, LinkInfo, Route } from './ip-parse.js';

export interface LiveState {
  readonly bridge: string;
  /** The device that carries the engine's traffic, as it is before the change. */
  readonly nic: LinkInfo;
  readonly addresses: readonly IfAddress[];
  readonly routes: readonly Route[];
}

const addr = (a: IfAddress): string => `${a.local}/${a.prefixlen}`;

function addressAdd(a: IfAddress, dev: string): string {
  const brd = a.family === 'inet' && a.broadcast !== null ? ` broadcast ${a.broadcast}` : '';
  const label = a.label !== null && a.label.includes(':') ? ` label ${dev}${a.label.slice(a.label.indexOf(':'))}` : '';
  return `address add ${addr(a)}${brd} dev ${dev}${label}`;
}

function routeReplace(r: Route, dev: string): string {
  // Batch lines take no -6: the family follows from the addresses, `::/0` being the IPv6 default.
  const dst = r.family === 'inet6' && r.dst === 'default' && r.gateway === null ? '::/0' : r.dst;
  const parts = [`route replace ${dst}`];
  if (r.gateway !== null) parts.push(`via ${r.gateway}`);
  parts.push(`dev ${dev}`);
  if (r.protocol !== null) parts.push(`proto ${r.protocol}`);
  if (r.scope !== null && r.scope !== 'global' && r.scope !== 'universe') parts.push(`scope ${r.scope}`);
  if (r.metric !== null) parts.push(`metric ${r.metric}`);
  if (r.prefsrc !== null) parts.push(`src ${r.prefsrc}`);
  if (r.onlink) parts.push('onlink');
  return parts.join(' ');
}

/** Bridge up, device enslaved, addresses and routes moved onto the bridge. */
export function bridgeUpBatch(s: LiveState): string[] {
  const lines = [`link add name ${s.bridge} type bridge stp_state 0`];
  // The bridge takes the device's MAC, so neighbours' ARP caches and DHCP leases stay valid.
  lines.push(`link set dev ${s.bridge}${s.nic.mac === null ? '' : ` address ${s.nic.mac}`} mtu ${s.nic.mtu}`);
  lines.push(`link set dev ${s.bridge} up`, `link set dev ${s.nic.name} master ${s.bridge}`);
  if (!s.nic.up) lines.push(`link set dev ${s.nic.name} up`);
  for (const a of s.addresses) lines.push(`address del ${addr(a)} dev ${s.nic.name}`, addressAdd(a, s.bridge));
  for (const r of s.routes) lines.push(routeReplace(r, s.bridge));
  return lines;
}

/** Everything back on the device, and the bridge gone. Run with `-force`: each line is tried. */
export function bridgeDownBatch(s: LiveState): string[] {
  const lines = [`link set dev ${s.nic.name} nomaster`];
  for (const a of s.addresses) lines.push(`address del ${addr(a)} dev ${s.bridge}`, addressAdd(a, s.nic.name));
  for (const r of s.routes) lines.push(routeReplace(r, s.nic.name));
  lines.push(`link del dev ${s.bridge}`);
  return lines;
}
