/**
 * The services provider: a backend plus a record of every service's state before this run
 * first changed it. `restore()` puts each one back (newest first) when the run fails;
 * under dry run changes are only described.
 */
import { errorMessage, recordChange, type Logger } from '@otopi/core';
import {
  isEnabledState,
  type ServiceBackend,
  type ServiceManager,
  type ServiceManagerName,
  type ServiceStatus,
} from './types.js';

interface Recorded {
  readonly service: string;
  readonly before: ServiceStatus;
  /** The run started, stopped or restarted it. */
  runningChanged: boolean;
  /** The run restarted it: a restore restarts it again, so it reads the restored configuration. */
  restarted: boolean;
  bootChanged: boolean;
}

export class RecordingServices implements ServiceManager {
  private readonly records = new Map<string, Recorded>();

  constructor(
    readonly backend: ServiceBackend,
    private readonly log: Logger,
    private readonly dryRun: () => boolean,
  ) {}

  get name(): ServiceManagerName {
    return this.backend.name;
  }

  exists(service: string): Promise<boolean> {
    return this.backend.exists(service);
  }

  isRunning(service: string): Promise<boolean> {
    return this.backend.isRunning(service);
  }

  async isEnabled(service: string): Promise<boolean> {
    return isEnabledState(await this.backend.bootState(service));
  }

  async status(service: string): Promise<ServiceStatus> {
    const [exists, running, bootState] = await Promise.all([
      this.backend.exists(service),
      this.backend.isRunning(service),
      this.backend.bootState(service),
    ]);
    return { name: service, exists, running, enabled: isEnabledState(bootState), bootState };
  }

  async start(service: string): Promise<void> {
    const { rec, fresh } = await this.recorded(service);
    if (fresh ? rec.before.running : await this.backend.isRunning(service)) {
      this.log.debug(`Service ${service} is already running`);
      return;
    }
    if (this.onlyDescribed(`start service ${service}`)) return;
    recordChange(`start service ${service}`);
    rec.runningChanged = true;
    this.log.info(`Starting service ${service}`);
    await this.backend.start(service);
  }

  async stop(service: string): Promise<void> {
    const { rec, fresh } = await this.recorded(service);
    if (!(fresh ? rec.before.running : await this.backend.isRunning(service))) {
      this.log.debug(`Service ${service} is already stopped`);
      return;
    }
    if (this.onlyDescribed(`stop service ${service}`)) return;
    recordChange(`stop service ${service}`);
    rec.runningChanged = true;
    this.log.info(`Stopping service ${service}`);
    await this.backend.stop(service);
  }

  async restart(service: string): Promise<void> {
    const rec = await this.record(service);
    if (this.onlyDescribed(`restart service ${service}`)) return;
    recordChange(`restart service ${service}`);
    rec.runningChanged = true;
    rec.restarted = true;
    this.log.info(`Restarting service ${service}`);
    await this.backend.restart(service);
  }

  async setEnabled(service: string, enabled: boolean): Promise<void> {
    const { rec, fresh } = await this.recorded(service);
    const bootState = fresh ? rec.before.bootState : await this.backend.bootState(service);
    if (isEnabledState(bootState) === enabled) {
      this.log.debug(`Service ${service} is already ${enabled ? 'enabled' : 'disabled'} at boot`);
      return;
    }
    if (this.onlyDescribed(`${enabled ? 'enable' : 'disable'} service ${service} at boot`)) return;
    recordChange(`${enabled ? 'enable' : 'disable'} service ${service} at boot`);
    rec.bootChanged = true;
    this.log.info(`${enabled ? 'Enabling' : 'Disabling'} service ${service} at boot`);
    await (enabled ? this.backend.enable(service) : this.backend.disable(service));
  }

  reload(units?: readonly string[]): Promise<boolean> {
    if (this.dryRun()) return Promise.resolve(false);
    return this.backend.reload(units);
  }

  /** Services this run changed, in the order first changed. */
  changed(): string[] {
    return [...this.records.values()].filter((r) => r.runningChanged || r.bootChanged).map((r) => r.service);
  }

  /**
   * Puts every changed service back, newest first: boot state, then running state. Errors
   * are logged and the rest still restored; returns the services that could not be.
   */
  async restore(only?: readonly string[]): Promise<string[]> {
    const failed: string[] = [];
    const records = [...this.records.values()]
      .filter((r) => (r.runningChanged || r.bootChanged) && (only === undefined || only.includes(r.service)))
      .reverse();
    for (const rec of records) {
      const { service, before } = rec;
      try {
        if (rec.bootChanged) await this.backend.restoreBootState(service, before.bootState);
        if (rec.runningChanged) {
          const running = await this.backend.isRunning(service);
          if (!before.running && running) await this.backend.stop(service);
          else if (before.running && (!running || rec.restarted)) await this.backend.restart(service);
        }
        this.log.info(
          `Restored service ${service}: ${before.running ? 'running' : 'stopped'}, ${before.bootState} at boot`,
        );
      } catch (error) {
        failed.push(service);
        this.log.warn(`Could not restore service ${service}: ${errorMessage(error)}`);
      }
      this.records.delete(service);
    }
    return failed;
  }

  private async record(service: string): Promise<Recorded> {
    return (await this.recorded(service)).rec;
  }

  /** The record, and whether it was just taken (its state is then the current one: no need to ask again). */
  private async recorded(service: string): Promise<{ rec: Recorded; fresh: boolean }> {
    let rec = this.records.get(service);
    const fresh = rec === undefined;
    if (rec === undefined) {
      rec = {
        service,
        before: await this.status(service),
        runningChanged: false,
        restarted: false,
        bootChanged: false,
      };
      this.records.set(service, rec);
      this.log.debug(`Service ${service} before changes: ${JSON.stringify(rec.before)}`);
    }
    return { rec, fresh };
  }

  /** Under dry run, says what would be done and returns true: the caller then changes nothing. */
  private onlyDescribed(what: string): boolean {
    if (!this.dryRun()) return false;
    this.log.info(`Dry run: would ${what}`);
    recordChange(what);
    return true;
  }
}
