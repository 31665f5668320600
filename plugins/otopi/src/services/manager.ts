/**
 * The service manager: chosen at programs (after program detection) and published as
 * `SERVICES`. Every change through it is recorded; when the run fails, cleanup puts each
 * changed service back to its previous enabled and running state.
 */
import { BaseEnv, Priority, definePlugin } from '@otopi/core';
import { ServicesEnv } from '../_lib/keys.js';
import { providerSystem, realFs, type SystemAccess } from '../_lib/runner.js';
import { chooseServiceManager } from '../_lib/services/detect.js';
import { noServices } from '../_lib/services/none.js';
import { OpenrcBackend } from '../_lib/services/openrc.js';
import { RecordingServices } from '../_lib/services/recorder.js';
import { SystemdBackend } from '../_lib/services/systemd.js';
import { SysvBackend } from '../_lib/services/sysv.js';
import type { ServiceBackend, ServiceManagerName } from '../_lib/services/types.js';
import { COMMANDS, SERVICES } from '../_lib/tokens.js';

const PROGRAMS = ['systemctl', 'rc-service', 'rc-update', 'service', 'update-rc.d', 'chkconfig', 'initctl'];

function backendFor(name: ServiceManagerName, sys: SystemAccess): ServiceBackend {
  switch (name) {
    case 'systemd':
      return new SystemdBackend(sys);
    case 'openrc':
      return new OpenrcBackend(sys, realFs);
    case 'sysv':
      return new SysvBackend(sys, realFs);
    case 'none':
      return noServices;
  }
}

export default definePlugin({
  env: [ServicesEnv],
  setup(plugin) {
    let manager: RecordingServices | undefined;
    plugin.on({
      name: 'programs',
      stage: 'setup',
      run: ({ providers }) => {
        const commands = providers.get(COMMANDS);
        for (const p of PROGRAMS) commands.detect(p);
      },
    });
    plugin.on({
      name: 'detection',
      stage: 'programs',
      after: 'otopi.system.command.detection',
      run: ({ env, log, providers, dryRun }) => {
        const commands = providers.get(COMMANDS);
        const choice = chooseServiceManager(env.get(ServicesEnv.manager), realFs, (p) => commands.find(p) !== null);
        log.debug(`Service manager: ${choice.name} (${choice.reason})`);
        const sys = providerSystem(log, (n) => commands.find(n));
        manager = new RecordingServices(backendFor(choice.name, sys), log, () => dryRun);
        providers.provide(SERVICES, manager);
      },
    });
    plugin.on({
      name: 'restore',
      stage: 'cleanup',
      priority: Priority.FIRST,
      condition: ({ env }) =>
        env.get(BaseEnv.error) && env.get(ServicesEnv.restoreOnError) && (manager?.changed().length ?? 0) > 0,
      run: async ({ log }) => {
        log.info(`The run failed: restoring services ${manager!.changed().join(', ')}`);
        const failed = await manager!.restore();
        if (failed.length > 0) log.warn(`Services not restored: ${failed.join(', ')}`);
      },
    });
  },
});
