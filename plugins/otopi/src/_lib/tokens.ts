/**
 * The providers the base group publishes; the tokens and their contracts live in core
 * (`Providers`), so other plugin groups use them typed. Re-exported here for this group.
 */
import { Providers } from '@otopi/core';

export const { COMMANDS, SYSTEM_INFO, PACKAGER, SERVICES, FIREWALL } = Providers;

export type * from '@otopi/core';
