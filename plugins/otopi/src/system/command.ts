/**
 * Program discovery: publishes `COMMANDS` at boot; at programs, finds every program the
 * plugins named during setup, and again at misc (packages may have brought new ones).
 */
import { Priority, definePlugin, CORE_HANDLERS } from '@otopi/core';
import { CommandRegistry } from '../_lib/commands.js';
import { CommandFamily, SystemEnv } from '../_lib/keys.js';
import { COMMANDS } from '../_lib/tokens.js';

export default definePlugin({
  env: [SystemEnv, CommandFamily],
  setup(plugin) {
    let registry: CommandRegistry | undefined;
    plugin.on({
      name: 'boot',
      stage: 'boot',
      priority: Priority.FIRST,
      after: CORE_HANDLERS.logInit,
      run: ({ env, providers }) => {
        registry = new CommandRegistry(env);
        providers.provide(COMMANDS, registry);
      },
    });
    const detect = (what: string) => (ctx: { log: { debug(m: string): void } }) => {
      if (registry === undefined) return;
      const missing = registry.detectAll();
      const found = registry.names().filter((n) => !missing.includes(n));
      ctx.log.debug(`${what}: found ${found.join(', ') || 'nothing'}; not found ${missing.join(', ') || 'none'}`);
    };
    plugin.on({ name: 'detection', stage: 'programs', priority: Priority.HIGH, run: detect('Programs detection') });
    plugin.on({ name: 'redetection', stage: 'misc', priority: Priority.HIGH, run: detect('Programs redetection') });
  },
});
