/**
 * The packet firewall checks reason about: a new TCP connection to the SSH port, with
 * whatever is known of where it comes from. Shared by the iptables and nft checks.
 */
import { networkInterfaces } from 'node:os';
import { normalizeAddress } from './hostname-check.js';

export interface SshPacket {
  readonly port: number;
  /** Client address, when known ($SSH_CONNECTION). */
  readonly source?: string;
  /** Our address the client connected to, when known. */
  readonly destination?: string;
  /** Interface that address is on, when known. */
  readonly inInterface?: string;
}

/** Three-valued matching: a rule surely matches, surely does not, or it depends on what is unknown. */
export type Match = 'yes' | 'no' | 'maybe';

export function and(a: Match, b: Match): Match {
  if (a === 'no' || b === 'no') return 'no';
  return a === 'maybe' || b === 'maybe' ? 'maybe' : 'yes';
}

export function not(m: Match): Match {
  return m === 'yes' ? 'no' : m === 'no' ? 'yes' : 'maybe';
}

/** The SSH packet from `$SSH_CONNECTION` (`client cport server sport`), else port 22 from anywhere. */
export function sshPacketFrom(
  sshConnection: string | undefined,
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): SshPacket {
  const parts = (sshConnection ?? '').trim().split(/\s+/);
  if (parts.length !== 4 || !/^\d+$/.test(parts[3]!)) return { port: 22 };
  const destination = normalizeAddress(parts[2]!);
  let inInterface: string | undefined;
  for (const [name, addrs] of Object.entries(interfaces)) {
    if ((addrs ?? []).some((a) => normalizeAddress(a.address) === destination)) inInterface = name;
  }
  return {
    port: Number(parts[3]),
    source: normalizeAddress(parts[0]!),
    destination,
    ...(inInterface === undefined ? {} : { inInterface }),
  };
}

export function describePacket(p: SshPacket): string {
  const from = p.source === undefined ? 'anywhere' : p.source;
  return `new tcp/${p.port} connections from ${from}${p.inInterface === undefined ? '' : ` on ${p.inInterface}`}`;
}

/** Whether `address` is in `cidr` (IPv4 or IPv6; a bare address is a /32 or /128). */
export function inCidr(address: string, cidr: string): boolean {
  const [net, lenText] = cidr.split('/');
  const a = toBits(address);
  const n = toBits(net ?? '');
  if (a === null || n === null || a.length !== n.length) return false;
  const len = lenText === undefined ? a.length : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > a.length) return false;
  return a.slice(0, len) === n.slice(0, len);
}

function toBits(address: string): string | null {
  const a = normalizeAddress(address);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(a)) {
    const octets = a.split('.').map(Number);
    if (octets.some((o) => o > 255)) return null;
    return octets.map((o) => o.toString(2).padStart(8, '0')).join('');
  }
  if (!a.includes(':')) return null;
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return null;
  return groups
    .map((g) =>
      parseInt(g || '0', 16)
        .toString(2)
        .padStart(16, '0'),
    )
    .join('');
}

const WELL_KNOWN: Readonly<Record<string, number>> = { ssh: 22, http: 80, https: 443 };

/** Whether `port` is in a list like `22`, `20:30`, `20-30`, `22,80,443`. */
export function portIn(port: number, list: string): boolean | null {
  for (const item of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const range = /^(\d+)?[:-](\d+)?$/.exec(item);
    if (range !== null) {
      if (port >= Number(range[1] ?? 0) && port <= Number(range[2] ?? 65535)) return true;
      continue;
    }
    const number = /^\d+$/.test(item) ? Number(item) : WELL_KNOWN[item];
    if (number === undefined) return null; // a service name we do not know
    if (number === port) return true;
  }
  return false;
}
