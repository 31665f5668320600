/**
 * fence_kdump integration (KDUMP/*): whether the host supports it is computed at
 * customization HIGH, before the engine reads KDUMP/supported; when the engine enables it,
 * the engine becomes the fence_kdump destination and kdump is restarted. EL hosts (kexec-tools):
 * /etc/kdump.conf. Debian hosts (kdump-tools, fence-agents): a unit run in the crash kernel
 * (_lib/kdump-tools.ts).
 */
import { lookup } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import { FileTransaction, OtopiError, Priority, definePlugin } from '@otopi/core';
import { BASE_HANDLERS } from '../_lib/foreign.js';
import { hasCrashKernel, KDUMP_CONF, KEXEC_MINIMUM, rewriteKdumpConf } from '../_lib/kdump-conf.js';
import {
  FENCE_DROPIN,
  FENCE_SENDERS,
  FENCE_UNIT,
  fenceKdumpDropIn,
  fenceKdumpUnit,
  KDUMP_TOOLS_DEFAULT,
} from '../_lib/kdump-tools.js';
import { KdumpEnv, VdsmEnv } from '../_lib/keys.js';
import { PACKAGER, SERVICES, SYSTEM_INFO } from '../_lib/tokens.js';

const read = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

export default definePlugin({
  env: [KdumpEnv],
  setup(plugin) {
    let why = '';
    /** Debian's kdump-tools with fence-agents' sender, instead of EL's kexec-tools. */
    let sender: string | null = null;
    plugin.on({
      name: 'detect',
      stage: 'customization',
      priority: Priority.HIGH,
      before: BASE_HANDLERS.dialogCustomization,
      run: async ({ env, log, providers }) => {
        const features = env.get(VdsmEnv.nodePluginVdsmFeatures) ?? '';
        let supported: boolean;
        if (env.get(VdsmEnv['ovirt-legacy-node'])) {
          supported = features.split(/[\s,]+/).includes('kdump');
          why = supported ? 'the node plugin supports kdump' : 'the node plugin lists no kdump feature';
        } else if (!hasCrashKernel(read('/proc/cmdline'))) {
          [supported, why] = [false, 'no crashkernel= on the kernel command line'];
        } else if (!existsSync(KDUMP_CONF) && existsSync(KDUMP_TOOLS_DEFAULT)) {
          sender = FENCE_SENDERS.find((p) => existsSync(p)) ?? null;
          supported = sender !== null;
          why = supported
            ? `kdump-tools, with ${sender}`
            : 'kdump-tools has no fence_kdump of its own, and fence_kdump_send (fence-agents) is not installed';
        } else if (!existsSync(KDUMP_CONF)) {
          [supported, why] = [false, `${KDUMP_CONF} does not exist (kexec-tools' kdump is not installed)`];
        } else {
          const packager = providers.get(PACKAGER);
          const installed = await packager.queryInstalled(['kexec-tools']);
          const version = installed.find((p) => p.name === 'kexec-tools')?.version ?? null;
          const os = providers.get(SYSTEM_INFO).os;
          const minimum = KEXEC_MINIMUM[os.id === 'fedora' ? 'fedora' : 'rhel']!;
          supported = version !== null && packager.compare(version, minimum) >= 0;
          why =
            version === null
              ? 'kexec-tools is not installed'
              : `kexec-tools ${version}${supported ? '' : ` is older than ${minimum}`}`;
        }
        env.set(KdumpEnv.supported, supported);
        log.debug(`kdump integration ${supported ? 'supported' : 'not supported'}: ${why}`);
      },
    });
    plugin.on({
      name: 'validation',
      stage: 'validation',
      condition: ({ env }) => env.get(KdumpEnv.enable),
      run: async ({ env }) => {
        if (!env.get(KdumpEnv.supported))
          throw new OtopiError(
            'HOST_UNSUPPORTED',
            `Kdump integration was asked for, but this host does not support it: ${why}`,
            {
              key: KdumpEnv.enable.key,
              hint: 'Redeploy with Kdump integration disabled, or boot with crashkernel= and install kexec-tools.',
            },
          );
        const address = env.get(KdumpEnv.destinationAddress);
        if (address === null || address === '')
          throw new OtopiError('ENV_BAD_VALUE', 'KDUMP/destinationAddress is not set', {
            key: KdumpEnv.destinationAddress.key,
          });
        try {
          await lookup(address);
        } catch (error) {
          throw new OtopiError(
            'ENV_BAD_VALUE',
            `Cannot resolve the fence_kdump destination '${address}': ${(error as Error).message}`,
            {
              key: KdumpEnv.destinationAddress.key,
            },
          );
        }
      },
    });
    let elements: FileTransaction[] = [];
    plugin.on({
      name: 'configure',
      stage: 'misc',
      condition: ({ env }) => env.get(KdumpEnv.enable),
      run: async ({ env, log, transaction }) => {
        const target = {
          address: env.get(KdumpEnv.destinationAddress)!,
          port: env.get(KdumpEnv.destinationPort),
          interval: env.get(KdumpEnv.messageInterval),
        };
        elements =
          sender === null
            ? [new FileTransaction({ path: KDUMP_CONF, content: rewriteKdumpConf(read(KDUMP_CONF), target), log })]
            : [
                new FileTransaction({
                  path: FENCE_UNIT,
                  content: fenceKdumpUnit({ sender, ...target }),
                  mode: 0o644,
                  log,
                }),
                new FileTransaction({
                  path: FENCE_DROPIN,
                  content: fenceKdumpDropIn(),
                  mode: 0o644,
                  dirMode: 0o755,
                  log,
                }),
              ];
        for (const element of elements) await transaction.append(element);
      },
    });
    plugin.on({
      name: 'restart',
      stage: 'closeup',
      condition: ({ env, dryRun }) => env.get(KdumpEnv.enable) && !dryRun,
      run: async ({ providers, log }) => {
        const manager = providers.get(SERVICES);
        try {
          const unit = sender === null ? 'kdump' : 'kdump-tools';
          await manager.setEnabled(unit, true);
          if (elements.some((e) => e.changed) || !(await manager.isRunning(unit))) await manager.restart(unit);
        } catch (error) {
          throw new OtopiError(
            'HANDLER_FAILED',
            'kdump service restart failed. Please either redeploy with Kdump Integration disabled or fix kdump configuration manually and redeploy the host',
            { cause: error },
          );
        }
        log.info('kdump is configured for fence_kdump');
      },
    });
  },
});
