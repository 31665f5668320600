/**
 * systemd through systemctl. A service name without a suffix means `<name>.service`, as
 * systemctl itself reads it.
 */
import { OtopiError } from '@otopi/core';
import { need, type SystemAccess } from '../runner.js';
import type { ServiceBackend } from './types.js';

export class SystemdBackend implements ServiceBackend {
  readonly name = 'systemd';

  constructor(private readonly sys: SystemAccess) {}

  async exists(service: string): Promise<boolean> {
    const r = await this.systemctl(['show', '-p', 'LoadState', service], true);
    return /^LoadState=loaded$/m.test(r.stdout);
  }

  async isRunning(service: string): Promise<boolean> {
    return (await this.systemctl(['is-active', '--quiet', service], true)).code === 0;
  }

  async bootState(service: string): Promise<string> {
    // is-enabled exits non-zero for disabled, masked and unknown units; its word is what counts.
    const r = await this.systemctl(['is-enabled', service], true);
    const word = r.stdout.trim().split('\n')[0] ?? '';
    return word === '' ? 'not-found' : word;
  }

  start(service: string): Promise<void> {
    return this.change('start', service);
  }

  stop(service: string): Promise<void> {
    return this.change('stop', service);
  }

  restart(service: string): Promise<void> {
    return this.change('restart', service);
  }

  enable(service: string): Promise<void> {
    return this.change('enable', service);
  }

  disable(service: string): Promise<void> {
    return this.change('disable', service);
  }

  async restoreBootState(service: string, state: string): Promise<void> {
    const now = await this.bootState(service);
    if (now === state) return;
    if (now === 'masked') await this.change('unmask', service);
    if (state === 'masked') await this.change('mask', service);
    else if (state === 'enabled' || state === 'enabled-runtime') await this.change('enable', service);
    else if (state === 'disabled') await this.change('disable', service);
    // static, indirect, generated, not-found: nothing the run could have enabled or disabled.
  }

  async reload(units?: readonly string[]): Promise<boolean> {
    if (units !== undefined) {
      if (units.length === 0) return false;
      // One property block per unit; a unit systemd cannot load says `no` as well.
      const r = await this.systemctl(['show', '--property=NeedDaemonReload', '--', ...units], true);
      if (r.code === 0 && !/^NeedDaemonReload=yes$/m.test(r.stdout)) {
        this.sys.log.debug(`systemd has the current unit files of ${units.join(', ')}: no daemon-reload needed`);
        return false;
      }
    }
    await this.systemctl(['daemon-reload'], false);
    return true;
  }

  private async change(verb: string, service: string): Promise<void> {
    const r = await this.systemctl([verb, service], true);
    if (r.code !== 0) {
      const detail = r.stderr.trim().split('\n')[0] ?? '';
      throw new OtopiError(
        'HANDLER_FAILED',
        `Failed to ${verb} service '${service}'${detail === '' ? '' : `: ${detail}`}`,
        {
          hint: `See 'systemctl status ${service}' and 'journalctl -u ${service}' on the host.`,
        },
      );
    }
  }

  private systemctl(args: readonly string[], allowFailure: boolean): ReturnType<SystemAccess['run']> {
    return this.sys.run([need(this.sys, 'systemctl'), ...args], { log: this.sys.log, allowFailure });
  }
}
