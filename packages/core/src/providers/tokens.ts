/**
 * The providers the base group `otopi` publishes through `ctx.services`. The contracts live
 * here, in core, so any plugin group can look a provider up and use it typed.
 *
 * | token | provider | available from |
 * | --- | --- | --- |
 * | `COMMANDS` | program discovery, `COMMAND/*` | boot |
 * | `SYSTEM_INFO` | distribution and host | boot |
 * | `PACKAGER` | package queries and the install queue | setup |
 * | `SERVICES` | start/stop/enable services, restored on failure | programs |
 * | `FIREWALL` | which firewall manager this run configures | validation |
 */
import { defineService } from '../runtime/services.js';
import type { Packager } from './packager.js';
import type { ServiceManager } from './services.js';
import type { Commands, FirewallChoice, SystemInfo } from './system.js';

export const Providers = {
  COMMANDS: defineService<Commands>('otopi.commands'),
  SYSTEM_INFO: defineService<SystemInfo>('otopi.system.info'),
  PACKAGER: defineService<Packager>('otopi.packager'),
  SERVICES: defineService<ServiceManager>('otopi.services'),
  FIREWALL: defineService<FirewallChoice>('otopi.firewall'),
} as const;
