/**
 * The providers the base group publishes through `ctx.services`, with their types. Other
 * groups import these tokens (or, from another package, define the same id with
 * `defineService`: tokens are matched by id).
 *
 * | token | provider | available from |
 * | --- | --- | --- |
 * | `COMMANDS` | program discovery, `COMMAND/*` | boot |
 * | `SYSTEM_INFO` | distribution and host | boot |
 * | `PACKAGER` | package queries and the install queue | setup |
 * | `SERVICES` | start/stop/enable services, restored on failure | programs |
 * | `FIREWALL` | which firewall manager this run configures | validation |
 */
import { defineService } from '@otopi/core';
import type { Commands } from './commands.js';
import type { OsFamily, OsRelease } from './os-release.js';
import type { Packager } from './packager/types.js';
import type { ServiceManager } from './services/types.js';

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

export const COMMANDS = defineService<Commands>('otopi.commands');
export const SYSTEM_INFO = defineService<SystemInfo>('otopi.system.info');
export const PACKAGER = defineService<Packager>('otopi.packager');
export const SERVICES = defineService<ServiceManager>('otopi.services');
export const FIREWALL = defineService<FirewallChoice>('otopi.firewall');

export type { Commands } from './commands.js';
export type { Packager, PackageInfo, UpdateInfo, PackagerName } from './packager/types.js';
export type { ServiceManager, ServiceStatus, ServiceManagerName } from './services/types.js';
export type { OsRelease, OsFamily } from './os-release.js';
