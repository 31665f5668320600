/**
 * Planning the management bridge, before anything changes: which device carries the
 * engine's traffic (`ip route get`), what it holds (addresses, routes, VLAN, bond), which
 * tool manages it (NetworkManager or iproute2) and which files keep it across reboots
 * (NetworkManager profiles, ifcfg, ifupdown, or none).
 */
import { OtopiError, type ErrorCode } from '@otopi/core';
import type { SystemAccess } from '../system.js';
import { IFCFG_DIR, rewriteIfcfg } from './ifcfg.js';
import { interfacesFiles, rewriteInterfaces } from './ifupdown.js';
import {
  movableAddresses,
  parseBondSlaves,
  parseLinkJson,
  parseProcVlan,
  parseRouteGetJson,
  parseRouteGetText,
  parseRoutesJson,
  routesToMove,
  type IfAddress,
  type LinkInfo,
  type Route,
  type RouteHit,
  type VlanInfo,
} from './ip-parse.js';
import { activeProfile, NM_IP_SETTINGS, parseNmTerse, type NmProfile } from './nm-plan.js';

export type Persistence = 'networkmanager' | 'ifcfg' | 'ifupdown' | 'none';

export interface PersistentFile {
  readonly path: string;
  readonly content: string;
}

export interface BridgePlan {
  readonly bridge: string;
  readonly engineAddress: string;
  readonly route: RouteHit;
  readonly nic: LinkInfo;
  readonly vlan: VlanInfo | null;
  readonly bondSlaves: readonly string[];
  readonly addresses: readonly IfAddress[];
  readonly routes: readonly Route[];
  readonly persistence: Persistence;
  readonly files: readonly PersistentFile[];
  /** Set when NetworkManager manages the device. */
  readonly nm: NmProfile | null;
}

export type PlanResult =
  { readonly kind: 'plan'; readonly plan: BridgePlan } | { readonly kind: 'skip'; readonly reason: string };

export interface PlanInput {
  readonly sys: SystemAccess;
  readonly bridge: string;
  readonly engineAddress: string;
  /** Names in a folder (interfaces.d); empty when missing. */
  readonly list: (dir: string) => string[];
  readonly exists: (path: string) => boolean;
}

/** A network the bridge cannot be built on is the host's set-up (`HOST_UNSUPPORTED`); `ip` failing is not. */
const fail = (message: string, hint?: string, code: ErrorCode = 'HOST_UNSUPPORTED'): OtopiError =>
  new OtopiError(code, message, {
    key: 'VDSM/managementBridgeName',
    ...(hint === undefined ? {} : { hint }),
  });

async function ip(sys: SystemAccess, args: readonly string[]): Promise<string> {
  const r = await sys.run([sys.which('ip') ?? 'ip', ...args], { log: sys.log, allowFailure: true });
  if (r.code !== 0)
    throw fail(`ip ${args.join(' ')} failed: ${r.stderr.trim() || `exit code ${r.code}`}`, undefined, 'HANDLER_FAILED');
  return r.stdout;
}

async function routeTo(sys: SystemAccess, address: string): Promise<RouteHit> {
  try {
    return parseRouteGetJson(await ip(sys, ['-j', 'route', 'get', 'to', address]));
  } catch (error) {
    if (error instanceof OtopiError && /unreachable/i.test(error.message)) throw error;
    return parseRouteGetText(await ip(sys, ['route', 'get', 'to', address]));
  }
}

/** The device holding `address` (the engine runs on this host). */
async function ownerOf(sys: SystemAccess, address: string): Promise<string | null> {
  const all = JSON.parse(await ip(sys, ['-j', 'addr', 'show'])) as {
    ifname?: string;
    addr_info?: { local?: string; scope?: string }[];
  }[];
  return all.find((l) => (l.addr_info ?? []).some((a) => a.local === address && a.scope === 'global'))?.ifname ?? null;
}

async function nmProfile(sys: SystemAccess, device: string): Promise<NmProfile | null> {
  const nmcli = sys.which('nmcli');
  if (nmcli === null) return null;
  const state = await sys.run([nmcli, '-t', '-f', 'GENERAL.STATE,GENERAL.CONNECTION', 'device', 'show', device], {
    log: sys.log,
    allowFailure: true,
  });
  const name = state.code === 0 ? activeProfile(state.stdout) : null;
  if (name === null) return null;
  const fields = [...NM_IP_SETTINGS, 'connection.autoconnect'].join(',');
  const shown = await sys.run([nmcli, '-t', '-f', fields, 'connection', 'show', name], { log: sys.log });
  return { name, settings: parseNmTerse(shown.stdout) };
}

function persistentFiles(input: PlanInput, device: string): { persistence: Persistence; files: PersistentFile[] } {
  const { sys, bridge } = input;
  const ifcfg = sys.readFile(`${IFCFG_DIR}/ifcfg-${device}`);
  if (ifcfg !== null) {
    const texts = rewriteIfcfg(ifcfg, device, bridge);
    return {
      persistence: 'ifcfg',
      files: [
        { path: `${IFCFG_DIR}/ifcfg-${bridge}`, content: texts.bridge },
        { path: `${IFCFG_DIR}/ifcfg-${device}`, content: texts.device },
      ],
    };
  }
  for (const path of interfacesFiles(input.list)) {
    const text = sys.readFile(path);
    const rewritten = text === null ? null : rewriteInterfaces(text, device, bridge);
    if (rewritten !== null) return { persistence: 'ifupdown', files: [{ path, content: rewritten }] };
  }
  return { persistence: 'none', files: [] };
}

export async function planBridge(input: PlanInput): Promise<PlanResult> {
  const { sys, bridge, engineAddress } = input;
  const route = await routeTo(sys, engineAddress);
  if (route.type === 'unreachable' || route.dev === null)
    throw fail(`There is no route to the engine (${engineAddress}) to build the management bridge on`);
  let device = route.dev;
  if (route.type === 'local' || device === 'lo') {
    const owner = await ownerOf(sys, engineAddress);
    if (owner === null)
      throw fail(`The engine address ${engineAddress} is local, but no device holds it with global scope`);
    device = owner;
  }
  if (device === bridge)
    return { kind: 'skip', reason: `${bridge} already carries the traffic to the engine (${engineAddress})` };
  if (input.exists(`/sys/class/net/${bridge}`))
    return {
      kind: 'skip',
      reason: `${bridge} exists, but the engine (${engineAddress}) is reached through ${device}: the network is left as it is`,
    };
  const nic = parseLinkJson(await ip(sys, ['-d', '-j', 'addr', 'show', 'dev', device]));
  if (nic.kind === 'bridge')
    return { kind: 'skip', reason: `the engine is reached through ${device}, which already is a bridge` };
  if (nic.master !== null)
    throw fail(
      `${device} carries the traffic to the engine but is a port of ${nic.master}`,
      'Check the host network configuration.',
    );
  const vlan = nic.kind === 'vlan' ? parseProcVlan(sys.readFile(`/proc/net/vlan/${device}`) ?? '') : null;
  const bondSlaves =
    nic.kind === 'bond' ? parseBondSlaves(sys.readFile(`/sys/class/net/${device}/bonding/slaves`) ?? '') : [];
  const routes = routesToMove([
    ...parseRoutesJson(await ip(sys, ['-j', 'route', 'show', 'dev', device]), 'inet'),
    ...parseRoutesJson(await ip(sys, ['-6', '-j', 'route', 'show', 'dev', device]), 'inet6'),
  ]);
  const addresses = movableAddresses(nic);
  if (addresses.length === 0) throw fail(`${device} has no global address to move onto ${bridge}`);
  const nm = await nmProfile(sys, device);
  const persisted =
    nm === null ? persistentFiles(input, device) : { persistence: 'networkmanager' as const, files: [] };
  return {
    kind: 'plan',
    plan: { bridge, engineAddress, route, nic, vlan, bondSlaves, addresses, routes, nm, ...persisted },
  };
}

/** One line for the log: what will happen. */
export function describePlan(p: BridgePlan): string {
  const what =
    p.vlan !== null
      ? ` (VLAN ${p.vlan.id} on ${p.vlan.parent})`
      : p.bondSlaves.length > 0
        ? ` (bond of ${p.bondSlaves.join(', ')})`
        : '';
  const moved = [
    ...p.addresses.map((a) => `${a.local}/${a.prefixlen}`),
    ...p.routes.map((r) => `route ${r.dst}${r.gateway === null ? '' : ` via ${r.gateway}`}`),
  ];
  const tool = p.nm !== null ? `NetworkManager (profile '${p.nm.name}')` : 'iproute2';
  const kept =
    p.persistence === 'none'
      ? 'not persisted: no network configuration of the device was found'
      : `persisted with ${p.persistence}`;
  return `Bridge ${p.bridge} on ${p.nic.name}${what}, moving ${moved.join(', ')}; through ${tool}; ${kept}`;
}
