/**
 * The packager: chosen at setup (PACKAGER/packager, os-release, tools present) and
 * published as `PACKAGER`. What plugins queue is carried out at internal_packages and at
 * packages (LAST), inside the internal and main transactions, so a later failure undoes it.
 */
import { join } from 'node:path';
import { BaseEnv, CoreEnv, Priority, definePlugin, type Environment, type HandlerContext } from '@otopi/core';
import { PackagerEnv } from '../_lib/keys.js';
import { AptBackend, type ToolSettings } from '../_lib/packager/apt.js';
import { PACKAGER_TOOLS, choosePackager } from '../_lib/packager/detect.js';
import { DnfBackend } from '../_lib/packager/dnf.js';
import { OfflineBackend } from '../_lib/packager/offline.js';
import { PackagerService, PackagesElement } from '../_lib/packager/service.js';
import type { PackagerBackend, PackagerName } from '../_lib/packager/types.js';
import { providerSystem, realSleep, type SystemAccess } from '../_lib/runner.js';
import { COMMANDS, PACKAGER, SYSTEM_INFO } from '../_lib/tokens.js';

function settingsFrom(env: Environment): ToolSettings {
  return {
    sleep: realSleep,
    get keepAliveS() {
      return env.get(PackagerEnv.keepAliveInterval);
    },
    get lockTimeoutS() {
      return env.get(PackagerEnv.lockTimeout);
    },
    get lockRetryS() {
      return env.get(PackagerEnv.lockRetryInterval);
    },
    get refresh() {
      return env.get(PackagerEnv.refreshCache);
    },
  };
}

export function makeBackend(name: PackagerName, sys: SystemAccess, settings: ToolSettings): PackagerBackend {
  switch (name) {
    case 'apt':
      return new AptBackend(sys, settings);
    case 'dnf':
    case 'yum':
      return new DnfBackend(name, sys, settings);
    case 'offline': {
      // Queries of what is installed still work through whichever database exists.
      const inner =
        sys.which('dpkg-query') !== null
          ? new AptBackend(sys, settings)
          : sys.which('rpm') !== null
            ? new DnfBackend('dnf', sys, settings)
            : null;
      return new OfflineBackend(inner);
    }
  }
}

export default definePlugin({
  env: [PackagerEnv],
  setup(plugin) {
    let service: PackagerService | undefined;
    plugin.on({
      name: 'detection',
      stage: 'setup',
      priority: Priority.HIGH,
      run: async (ctx) => {
        const { env, log, providers } = ctx;
        const commands = providers.get(COMMANDS);
        for (const tool of new Set(Object.values(PACKAGER_TOOLS).flat())) commands.detect(tool);
        const choice = choosePackager(
          env.get(PackagerEnv.packager),
          providers.get(SYSTEM_INFO).os,
          (p) => commands.find(p) !== null,
        );
        log.debug(`Packager: ${choice.name} (${choice.reason})`);
        const sys = providerSystem(log, (n) => commands.find(n));
        const backend = makeBackend(choice.name, sys, settingsFrom(env));
        const undo = (): boolean => env.get(PackagerEnv.rollback);
        // Copies of the account files live beside the journals, root's only (accounts.ts).
        const copy = (phase: string) => ({ sys, dir: join(env.get(CoreEnv.journalDir), `accounts-${phase}`) });
        const elements = {
          internal: new PackagesElement(backend, log, undo, 'internal', ctx.internalTransaction, copy('internal')),
          main: new PackagesElement(backend, log, undo, 'main', ctx.transaction, copy('main')),
        };
        service = new PackagerService(backend, elements, log);
        providers.provide(PACKAGER, service);
        await ctx.internalTransaction.append(elements.internal);
        await ctx.transaction.append(elements.main);
      },
    });
    const carryOut = (phase: 'internal' | 'main') => (ctx: HandlerContext) => service?.process(phase, ctx.dryRun);
    plugin.on({
      name: 'internalPackages',
      stage: 'internal_packages',
      priority: Priority.LAST,
      run: carryOut('internal'),
    });
    plugin.on({ name: 'packages', stage: 'packages', priority: Priority.LAST, run: carryOut('main') });
    // The change stands: the copies of the account files kept for its undo go.
    plugin.on({
      name: 'forgetAccounts',
      stage: 'cleanup',
      condition: ({ env }) => !env.get(BaseEnv.error),
      run: async ({ dryRun }) => {
        if (dryRun || service === undefined) return;
        await service.elements.internal.forgetAccounts();
        await service.elements.main.forgetAccounts();
      },
    });
  },
});
