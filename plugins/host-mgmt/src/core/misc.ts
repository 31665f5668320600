/**
 * The run as ovirt-host-mgmt: its log file prefix and config file, the correlation id on every
 * log line, and the incomplete-install report the engine reads at termination. Unlike
 * ovirt-host-deploy it asks no DEPLOY_PROCEED: the host is already deployed, and the engine
 * did not answer one for this program.
 */
import { CoreEnv, Priority, definePlugin, type EnvKey, type Environment } from '@otopi/core';
import { OvirtEngineEnv, SharedOdeployKeys } from '../_lib/keys.js';

export const LOG_PREFIX = 'ovirt-host-mgmt';
export const CONFIG_FILE = '/etc/ovirt-host-mgmt.conf';

function setDefault<T>(env: Environment, key: EnvKey<T>, value: T): void {
  if (env.sourceOf(key.key)?.kind === 'default') env.set(key, value);
}

export default definePlugin({
  env: [SharedOdeployKeys, OvirtEngineEnv],
  setup(plugin) {
    plugin.on({
      name: 'boot',
      stage: 'boot',
      priority: Priority.FIRST - 200,
      before: 'otopi.core.log.init',
      run: ({ env }) => {
        setDefault(env, CoreEnv.logFileNamePrefix, LOG_PREFIX);
        if (process.env['OTOPI_CONFIG'] === undefined) setDefault(env, CoreEnv.configFileName, CONFIG_FILE);
        const context = env.get(CoreEnv.logContextKeys);
        if (!context.includes(OvirtEngineEnv.correlationId.key))
          env.set(CoreEnv.logContextKeys, [...context, OvirtEngineEnv.correlationId.key]);
      },
    });
    plugin.on({
      name: 'incomplete',
      stage: 'cleanup',
      condition: ({ env }) => env.get(SharedOdeployKeys.installIncomplete),
      run: ({ env, log }) => {
        for (const reason of env.get(SharedOdeployKeys.installIncompleteReasons))
          log.warn(`Incomplete, manual intervention is required: ${reason}`);
      },
    });
  },
});
