/**
 * Hardware virtualization (VDSM/checkVirtHardware): a vmx/svm CPU and /dev/kvm. Checked at
 * customization, once every setting is in (the config files' enforce section, an engine's
 * commands) but before the questions of a run by hand (questions.ts, LOW + 100): a host that
 * cannot run VMs fails before anyone answers anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { OtopiError, Priority, definePlugin } from '@otopi/core';
import { VdsmEnv } from '../_lib/keys.js';
import { checkVirtualization, parseCpuinfo } from '../_lib/vdsm/hardware.js';

export default definePlugin({
  env: [VdsmEnv],
  setup(plugin) {
    plugin.on({
      name: 'check',
      stage: 'customization',
      priority: Priority.LOW + 90,
      after: ['otopi.core.config.enforce', 'otopi.dialog.cli.customization'],
      run: ({ env, log }) => {
        if (!env.get(VdsmEnv.checkVirtHardware)) {
          log.info('Hardware virtualization check skipped (VDSM/checkVirtHardware is False)');
          return;
        }
        let cpuinfo = '';
        try {
          cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
        } catch {
          log.warn('Cannot read /proc/cpuinfo: the CPU is judged by /dev/kvm alone');
        }
        const verdict = checkVirtualization(parseCpuinfo(cpuinfo), existsSync('/dev/kvm'));
        for (const warning of verdict.warnings) log.warn(warning);
        if (!verdict.supported)
          throw new OtopiError('HOST_UNSUPPORTED', `Hardware does not support virtualization: ${verdict.reason}`, {
            key: VdsmEnv.checkVirtHardware.key,
            hint: 'Enable virtualization (VT-x/AMD-V) in the firmware, or, for a test host without KVM, set VDSM/checkVirtHardware=bool:False.',
          });
        log.info(`Hardware supports virtualization (${verdict.reason})`);
      },
    });
  },
});
