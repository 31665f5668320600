/**
 * Which init system runs this host: systemd when it is PID 1 (the check sd_booted(3)
 * makes), else OpenRC when its runtime folder exists, else SysV scripts.
 */
import { OtopiError } from '@otopi/core';
import type { FsProbe } from '../runner.js';
import type { ServiceManagerName } from './types.js';

export function chooseServiceManager(
  requested: ServiceManagerName | 'auto',
  fs: FsProbe,
  has: (program: string) => boolean,
): { name: ServiceManagerName; reason: string } {
  if (requested !== 'auto') {
    const name = requested;
    const tool = name === 'systemd' ? 'systemctl' : name === 'openrc' ? 'rc-service' : null;
    if (tool !== null && !has(tool)) {
      throw new OtopiError('COMMAND_MISSING', `SERVICES/manager is '${name}', but ${tool} cannot be found`, {
        key: 'SERVICES/manager',
        hint: `Install it, set COMMAND/${tool}=str:/path, or use SERVICES/manager=str:auto.`,
      });
    }
    return { name, reason: 'set by SERVICES/manager' };
  }
  if (fs.isDir('/run/systemd/system') && has('systemctl')) return { name: 'systemd', reason: 'systemd is running' };
  if (fs.isDir('/run/openrc') && has('rc-service')) return { name: 'openrc', reason: 'OpenRC is running' };
  if (fs.isDir('/etc/init.d') || fs.isDir('/etc/rc.d/init.d'))
    return { name: 'sysv', reason: 'init scripts in /etc/init.d' };
  return { name: 'none', reason: 'no init system found' };
}
