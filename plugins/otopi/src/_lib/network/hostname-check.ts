/**
 * Host name checks, warnings only (as otopi), but from real data: the resolver the system
 * uses (getaddrinfo, so /etc/hosts and nsswitch count) and the addresses the kernel has,
 * rather than parsing `ip addr` text.
 */

export interface HostnameFacts {
  readonly name: string;
  /** Addresses the name resolves to; an Error when resolution failed. */
  readonly resolved: readonly string[] | Error;
  /** Addresses configured on this host (every interface, loopback included). */
  readonly local: readonly string[];
}

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why `name` is not a valid DNS host name (RFC 1123), or null. */
export function hostnameSyntaxProblem(name: string): string | null {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n === '') return 'it is empty';
  if (n.length > 253) return 'it is longer than 253 characters';
  for (const label of n.split('.')) {
    if (!LABEL.test(label)) return `'${label}' is not a valid label (letters, digits and inner hyphens, at most 63)`;
  }
  if (/^\d+$/.test(n.split('.').pop()!)) return 'its last label is all digits';
  return null;
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address === '::ffff:127.0.0.1';
}

/** Normalises an address for comparison: no IPv6 zone, lower case, IPv4-mapped unwrapped. */
export function normalizeAddress(address: string): string {
  const a = address.split('%')[0]!.toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

export function checkHostname(facts: HostnameFacts): string[] {
  const warnings: string[] = [];
  const { name } = facts;
  const syntax = hostnameSyntaxProblem(name);
  if (syntax !== null) warnings.push(`Host name '${name}' is not a valid DNS name: ${syntax}`);
  if (/^localhost(\.localdomain)?$/i.test(name))
    warnings.push(`Host name '${name}' is a loopback name; other hosts cannot reach this one by it`);
  if (facts.resolved instanceof Error) {
    warnings.push(`Host name '${name}' does not resolve: ${facts.resolved.message}`);
    return warnings;
  }
  const resolved = [...new Set(facts.resolved.map(normalizeAddress))];
  if (resolved.length === 0) {
    warnings.push(`Host name '${name}' resolves to no address`);
    return warnings;
  }
  const outward = resolved.filter((a) => !isLoopback(a));
  // A name that resolves only to loopback (Debian's 127.0.1.1 in /etc/hosts, on every fresh
  // install) is not warned about: nothing a run does depends on other hosts reaching this one
  // by its own name (a manager connects to the address it was given, and host-deploy's
  // certificate names come from the engine). It was a warning on every run of such a host.
  if (outward.length === 0) return warnings;
  const local = new Set(facts.local.map(normalizeAddress));
  const foreign = outward.filter((a) => !local.has(a));
  if (foreign.length === outward.length) {
    warnings.push(`Host name '${name}' resolves to ${foreign.join(', ')}, none of which is an address of this host`);
  } else if (foreign.length > 0) {
    warnings.push(
      `Host name '${name}' also resolves to ${foreign.join(', ')}, which ${foreign.length === 1 ? 'is not an address' : 'are not addresses'} of this host`,
    );
  }
  return warnings;
}
