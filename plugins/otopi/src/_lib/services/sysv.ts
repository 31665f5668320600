/**
 * SysV init scripts, with upstart jobs where upstart really runs. Unlike otopi's backend,
 * nothing here requires `initctl` (absent on Debian, where otopi failed) or `chkconfig`:
 * boot links go through update-rc.d on Debian and chkconfig on EL, whichever exists, and
 * scripts run through `service` when it is there, else directly.
 */
import { OtopiError } from '@otopi/core';
import type { FsProbe, SystemAccess } from '../runner.js';
import type { ServiceBackend } from './types.js';

const INIT_DIRS = ['/etc/init.d', '/etc/rc.d/init.d'];
const RC_DIRS = (level: number): string[] => [`/etc/rc${level}.d`, `/etc/rc.d/rc${level}.d`];

export class SysvBackend implements ServiceBackend {
  readonly name = 'sysv';

  constructor(
    private readonly sys: SystemAccess,
    private readonly fs: FsProbe,
  ) {}

  exists(service: string): Promise<boolean> {
    return Promise.resolve(this.script(service) !== null || this.upstartJob(service));
  }

  async isRunning(service: string): Promise<boolean> {
    if (this.upstartJob(service)) {
      const r = await this.sys.run([this.sys.which('initctl')!, 'status', service], {
        log: this.sys.log,
        allowFailure: true,
      });
      return /start\/running/.test(r.stdout);
    }
    return (await this.action(service, 'status', true)) === 0;
  }

  bootState(service: string): Promise<string> {
    // A start link in any multi-user runlevel is what update-rc.d and chkconfig both create.
    const linked = [2, 3, 4, 5].some((level) =>
      RC_DIRS(level).some((dir) =>
        this.fs.list(dir).some((entry) => new RegExp(`^S\\d\\d${escape(service)}$`).test(entry)),
      ),
    );
    return Promise.resolve(linked ? 'enabled' : 'disabled');
  }

  async start(service: string): Promise<void> {
    await this.action(service, 'start', false);
  }

  async stop(service: string): Promise<void> {
    await this.action(service, 'stop', false);
  }

  async restart(service: string): Promise<void> {
    // Not every script implements restart; stop then start is what they all support.
    await this.action(service, 'stop', true);
    await this.action(service, 'start', false);
  }

  enable(service: string): Promise<void> {
    return this.boot(service, true);
  }

  disable(service: string): Promise<void> {
    return this.boot(service, false);
  }

  async restoreBootState(service: string, state: string): Promise<void> {
    if ((await this.bootState(service)) !== state) await this.boot(service, state === 'enabled');
  }

  reload(): Promise<boolean> {
    return Promise.resolve(false);
  }

  private script(service: string): string | null {
    for (const dir of INIT_DIRS) {
      const path = `${dir}/${service}`;
      if (this.fs.isFile(path)) return path;
    }
    return null;
  }

  /** An upstart job, only where upstart itself is present. */
  private upstartJob(service: string): boolean {
    return this.sys.which('initctl') !== null && this.fs.isFile(`/etc/init/${service}.conf`);
  }

  /** Runs an init-script action; returns its exit code (throws on failure unless allowed). */
  private async action(service: string, verb: 'start' | 'stop' | 'status', allowFailure: boolean): Promise<number> {
    let argv: string[];
    const initctl = this.sys.which('initctl');
    if (this.upstartJob(service) && initctl !== null) argv = [initctl, verb, service];
    else {
      const serviceCmd = this.sys.which('service');
      const script = this.script(service);
      if (serviceCmd !== null) argv = [serviceCmd, service, verb];
      else if (script !== null) argv = [script, verb];
      else
        throw new OtopiError('PREREQUISITE_MISSING', `Service '${service}' has no init script in ${INIT_DIRS.join(' or ')}`);
    }
    const r = await this.sys.run(argv, { log: this.sys.log, allowFailure: true });
    if (r.code !== 0 && !allowFailure) {
      throw new OtopiError(
        'HANDLER_FAILED',
        `Failed to ${verb} service '${service}': ${(r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? ''}`,
      );
    }
    return r.code;
  }

  private async boot(service: string, enabled: boolean): Promise<void> {
    const updateRcD = this.sys.which('update-rc.d');
    const chkconfig = this.sys.which('chkconfig');
    const steps: string[][] = [];
    if (updateRcD !== null) {
      // `defaults` creates the links if there are none; enable/disable then flips them.
      if (enabled) steps.push([updateRcD, service, 'defaults']);
      steps.push([updateRcD, service, enabled ? 'enable' : 'disable']);
    } else if (chkconfig !== null) {
      steps.push([chkconfig, service, enabled ? 'on' : 'off']);
    } else {
      throw new OtopiError(
        'COMMAND_MISSING',
        `Cannot ${enabled ? 'enable' : 'disable'} service '${service}' at boot: neither update-rc.d nor chkconfig is installed`,
        {
          hint: 'Install one of them, or set COMMAND/update-rc.d or COMMAND/chkconfig.',
        },
      );
    }
    for (const argv of steps) {
      const r = await this.sys.run(argv, { log: this.sys.log, allowFailure: true });
      if (r.code !== 0) {
        throw new OtopiError(
          'HANDLER_FAILED',
          `Failed to ${enabled ? 'enable' : 'disable'} service '${service}': ${r.stderr.trim().split('\n')[0] ?? ''}`,
        );
      }
    }
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
