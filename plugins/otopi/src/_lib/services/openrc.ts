/**
 * OpenRC (Alpine, Gentoo): rc-service to run, rc-update for the default runlevel.
 */
import { OtopiError } from '@otopi/core';
import { need, type FsProbe, type SystemAccess } from '../runner.js';
import type { ServiceBackend } from './types.js';

export class OpenrcBackend implements ServiceBackend {
  readonly name = 'openrc';

  constructor(
    private readonly sys: SystemAccess,
    private readonly fs: FsProbe,
  ) {}

  exists(service: string): Promise<boolean> {
    return Promise.resolve(this.fs.isFile(`/etc/init.d/${service}`));
  }

  async isRunning(service: string): Promise<boolean> {
    const r = await this.sys.run([need(this.sys, 'rc-service'), service, 'status'], {
      log: this.sys.log,
      allowFailure: true,
    });
    return r.code === 0;
  }

  async bootState(service: string): Promise<string> {
    const r = await this.sys.run([need(this.sys, 'rc-update'), 'show', 'default'], {
      log: this.sys.log,
      allowFailure: true,
    });
    const listed = r.stdout.split('\n').some((line) => line.split('|')[0]?.trim() === service);
    return listed ? 'enabled' : 'disabled';
  }

  start(service: string): Promise<void> {
    return this.rc('rc-service', [service, 'start'], `start service '${service}'`);
  }

  stop(service: string): Promise<void> {
    return this.rc('rc-service', [service, 'stop'], `stop service '${service}'`);
  }

  restart(service: string): Promise<void> {
    return this.rc('rc-service', [service, 'restart'], `restart service '${service}'`);
  }

  enable(service: string): Promise<void> {
    return this.rc('rc-update', ['add', service, 'default'], `enable service '${service}'`);
  }

  disable(service: string): Promise<void> {
    return this.rc('rc-update', ['del', service, 'default'], `disable service '${service}'`);
  }

  async restoreBootState(service: string, state: string): Promise<void> {
    if ((await this.bootState(service)) === state) return;
    await (state === 'enabled' ? this.enable(service) : this.disable(service));
  }

  reload(): Promise<boolean> {
    return Promise.resolve(false);
  }

  private async rc(program: string, args: readonly string[], what: string): Promise<void> {
    const r = await this.sys.run([need(this.sys, program), ...args], { log: this.sys.log, allowFailure: true });
    if (r.code !== 0)
      throw new OtopiError(
        'HANDLER_FAILED',
        `Failed to ${what}: ${(r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? ''}`,
      );
  }
}
