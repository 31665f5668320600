/**
 * The run as ovirt-host-deploy: log file prefix and config file, the correlation id on every
 * log line, the DEPLOY_PROCEED confirmation, a forced reboot, and the incomplete-install
 * report the engine reads at termination.
 */
import {
  AbortError,
  BaseEnv,
  CoreEnv,
  DialogEnv,
  Priority,
  definePlugin,
  type EnvKey,
  type Environment,
  type HandlerContext,
} from '@otopi/core';
import { BaseSystemEnv } from '../_lib/foreign.js';
import { DEPLOY_PROCEED, OdeployEnv, OvirtEngineEnv } from '../_lib/contract.js';

export const LOG_PREFIX = 'ovirt-host-deploy';
export const CONFIG_FILE = '/etc/ovirt-host-deploy.conf';
/** The exit code of an incomplete run by hand, the same as otopi deploy's for an incomplete host. */
export const INCOMPLETE_EXIT_CODE = 3;

/** Sets a default only while nothing (command line, code) has set the key. */
function setDefault<T>(env: Environment, key: EnvKey<T>, value: T): void {
  if (env.sourceOf(key.key)?.kind === 'default') env.set(key, value);
}

export default definePlugin({
  env: [OdeployEnv, OvirtEngineEnv],
  setup(plugin) {
    plugin.on({
      name: 'boot',
      stage: 'boot',
      priority: Priority.FIRST - 200,
      before: 'otopi.core.log.init',
      run: ({ env }) => {
        setDefault(env, CoreEnv.logFileNamePrefix, LOG_PREFIX);
        // $OTOPI_CONFIG still wins, as it did for ovirt-host-deploy.
        if (process.env['OTOPI_CONFIG'] === undefined) setDefault(env, CoreEnv.configFileName, CONFIG_FILE);
        const context = env.get(CoreEnv.logContextKeys);
        if (!context.includes(OvirtEngineEnv.correlationId.key))
          env.set(CoreEnv.logContextKeys, [...context, OvirtEngineEnv.correlationId.key]);
      },
    });
    plugin.on({
      name: 'proceed',
      stage: 'init',
      // After the config files: an answer file (--config-append) must be able to answer it.
      priority: Priority.HIGH,
      after: 'otopi.core.config.init',
      // Init runs on after a failure (a bad config file): there is nothing left to confirm then.
      condition: ({ env }) => !env.get(BaseEnv.error),
      run: async ({ dialog }) => {
        const yes = await dialog.confirm({ name: DEPLOY_PROCEED.name, description: 'Proceed with ovirt-host-deploy' });
        if (!yes) throw new AbortError('Aborted: the deployment was not confirmed (DEPLOY_PROCEED)');
      },
    });
    plugin.on({
      name: 'version',
      stage: 'setup',
      run: ({ env, log }) => {
        log.info(`ovirt-host-deploy interface ${env.get(OdeployEnv.INTERFACE_VERSION)} (otopi-ts host-deploy group)`);
      },
    });
    plugin.on({
      name: 'reboot',
      stage: 'closeup',
      priority: Priority.LAST,
      condition: ({ env }) => env.get(OdeployEnv.forceReboot),
      run: ({ env, log }) => {
        if (env.get(OdeployEnv.installIncomplete)) {
          log.warn('Not rebooting: the installation is incomplete');
          return;
        }
        log.info('The host will reboot at the end of the run (ODEPLOY/forceReboot)');
        env.set(BaseSystemEnv.reboot, true);
      },
    });
    plugin.on({
      name: 'incomplete',
      stage: 'cleanup',
      condition: ({ env }) => env.get(OdeployEnv.installIncomplete),
      run: ({ env, log, setExitCode }: HandlerContext) => {
        for (const reason of env.get(OdeployEnv.installIncompleteReasons))
          log.warn(`Installation is incomplete, manual intervention is required: ${reason}`);
        // By hand, the exit code says it, as otopi deploy's does (3: incomplete). An engine reads
        // ODEPLOY/installIncomplete instead and takes any other exit code than 0 for a failure.
        if (env.get(DialogEnv.dialect) !== 'machine') setExitCode(INCOMPLETE_EXIT_CODE);
      },
    });
  },
});
