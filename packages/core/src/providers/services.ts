/**
 * Service managers. A backend drives one init system; the provider other plugins get
 * (token `SERVICES`) wraps it, records each service's state before its first change, and
 * puts it back when the run fails.
 */

export type ServiceManagerName = 'systemd' | 'openrc' | 'sysv' | 'none';

export interface ServiceStatus {
  readonly name: string;
  readonly exists: boolean;
  readonly running: boolean;
  /** Starts at boot. */
  readonly enabled: boolean;
  /**
   * The init system's own word for the boot state (`enabled`, `disabled`, `static`,
   * `masked`…), kept so a restore can put back exactly that.
   */
  readonly bootState: string;
}

export interface ServiceBackend {
  readonly name: ServiceManagerName;
  exists(service: string): Promise<boolean>;
  isRunning(service: string): Promise<boolean>;
  /** The boot state in the init system's own words; `enabled` means it starts at boot. */
  bootState(service: string): Promise<string>;
  start(service: string): Promise<void>;
  stop(service: string): Promise<void>;
  restart(service: string): Promise<void>;
  enable(service: string): Promise<void>;
  disable(service: string): Promise<void>;
  /** Puts back a boot state recorded by `bootState` (systemd: also `masked`). */
  restoreBootState(service: string, state: string): Promise<void>;
  /**
   * Rereads unit files after they changed (systemd `daemon-reload`); a no-op elsewhere. With
   * `units`, only when the init system says one of them changed on disk since it loaded it
   * (see {@link ServiceManager.reload}); returns whether it reread.
   */
  reload(units?: readonly string[]): Promise<boolean>;
}

/** What other plugins use. Changes are recorded and undone if the run fails. */
export interface ServiceManager {
  readonly name: ServiceManagerName;
  exists(service: string): Promise<boolean>;
  isRunning(service: string): Promise<boolean>;
  isEnabled(service: string): Promise<boolean>;
  status(service: string): Promise<ServiceStatus>;
  start(service: string): Promise<void>;
  stop(service: string): Promise<void>;
  restart(service: string): Promise<void>;
  /** Enables (true) or disables (false) starting at boot. */
  setEnabled(service: string, enabled: boolean): Promise<void>;
  /**
   * Makes the init system reread unit files (systemd `daemon-reload`; nothing to do for
   * OpenRC and SysV). Name the units you wrote or changed, and the reread happens only when
   * one of them needs it: systemd loads a unit it has never seen straight from disk, and
   * reports `NeedDaemonReload=yes` for a loaded one whose file or drop-ins changed. A full
   * reread costs systemd about 0.1 s of CPU (more on a busy host), and `systemctl enable`
   * or `disable` does one of its own. Without `units`, it always rereads. Returns whether
   * it did.
   */
  reload(units?: readonly string[]): Promise<boolean>;
  /**
   * Puts services this run changed back as they were before its first change (all of them
   * when `only` is not given); returns those that could not be. The base group calls it at
   * cleanup when the run failed; a transaction element may call it from its rollback.
   */
  restore(only?: readonly string[]): Promise<string[]>;
}

/** Boot states that mean "starts at boot". */
export function isEnabledState(state: string): boolean {
  return state === 'enabled' || state === 'enabled-runtime' || state === 'alias';
}
