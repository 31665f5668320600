/**
 * The providers the base group `otopi` publishes through `ctx.providers`. The contracts live
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
import { defineProvider } from '../runtime/providers.js';
import type { Packager } from './packager.js';
import type { ServiceManager } from './services.js';
import type { Commands, FirewallChoice, SystemInfo } from './system.js';

export const Providers = {
  COMMANDS: defineProvider<Commands>('otopi.commands'),
  SYSTEM_INFO: defineProvider<SystemInfo>('otopi.system.info'),
  PACKAGER: defineProvider<Packager>('otopi.packager'),
  SERVICES: defineProvider<ServiceManager>('otopi.services'),
  FIREWALL: defineProvider<FirewallChoice>('otopi.firewall'),
} as const;
