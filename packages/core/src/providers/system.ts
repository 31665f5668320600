/**
 * Contracts of the system providers the base group publishes: program discovery, the
 * distribution, and the firewall choice.
 */

export interface Commands {
  /** Registers a program to be searched for at the programs stage. */
  detect(name: string): void;
  /** The path of `name`: its COMMAND key, else searched now. Throws `COMMAND_MISSING` when absent. */
  get(name: string): string;
  /** As `get`, but null when absent. */
  find(name: string): string | null;
  /** Sets COMMAND/<name>. */
  set(name: string, path: string): void;
  /** Programs registered so far, sorted. */
  names(): readonly string[];
}

export interface OsRelease {
  readonly id: string;
  readonly idLike: readonly string[];
  readonly versionId: string;
  readonly prettyName: string;
}

export type OsFamily = 'debian' | 'rhel' | 'suse' | 'alpine' | 'unknown';

export interface SystemInfo {
  readonly os: OsRelease;
  readonly family: OsFamily;
  /** The host name as the kernel reports it. */
  readonly hostname: string;
}

export interface FirewallChoice {
  readonly manager: 'iptables' | 'nftables' | 'firewalld' | 'none';
  readonly reason: string;
}
