/**
 * How far a host's deploy got, for its report and the live events: the engine's own phases
 * before the installer runs (`SSH connection`, `Bundle transfer`, `Installer start`), then the
 * host's stage as the dialog driver hands it on (`onStage`, read from the protocol's events by
 * `StageTracker`); the stage and handler of the host's first error (a failed run goes on
 * through the clean-up stages, so the last stage would say little); the host's error records.
 */
import { STAGE_INFO } from '@otopi/core';
import type { DialogProgram } from '../dialog/driver.js';
import type { DeployEventInput } from './events.js';

/** Where a deploy is before the host's installer runs. */
export type EnginePhase = 'SSH connection' | 'Bundle transfer' | 'Installer start';

const FAILING_LEVELS = new Set(['ERROR', 'CRITICAL', 'FATAL']);

export class HostProgress {
  private where: string = 'SSH connection';
  private failedStage: string | undefined;
  private failedHandler: string | undefined;
  private lastHandler: string | undefined;
  /** The host's `***L:ERROR` (and worse) records, in order. */
  readonly hostErrors: string[] = [];

  constructor(
    private readonly host: string,
    private readonly emit: (event: DeployEventInput) => void,
  ) {}

  /** The stage the deploy is at: an engine phase, or the description of the host's stage. */
  get stage(): string {
    return this.where;
  }

  enter(phase: EnginePhase): void {
    this.where = phase;
  }

  /** The dialog callbacks that follow the host: its stage, its log records, its handlers. */
  readonly instruments: Pick<DialogProgram, 'onStage' | 'onLog' | 'onEvent'> = {
    onStage: (stage) => {
      this.where = STAGE_INFO[stage].description;
      this.emit({ type: 'stage', host: this.host, stage: this.where });
    },
    onLog: (level, text) => {
      if (FAILING_LEVELS.has(level)) this.hostErrors.push(text);
      // The first error, or the abort (`***L:WARNING Aborted: …`), is where the run failed.
      if (this.failedStage === undefined && level !== 'INFO' && (level !== 'WARNING' || text.startsWith('Aborted'))) {
        this.failedStage = this.where;
        this.failedHandler = this.lastHandler;
      }
      this.emit({ type: 'log', host: this.host, level, text });
    },
    onEvent: (kind, handler) => {
      if (kind === 'start') this.lastHandler = `${handler.stage}/${handler.name}`;
    },
  };

  /** The stage a report names: where the host failed, else where it got to. */
  reportedStage(installed: boolean): string {
    return installed ? this.where : (this.failedStage ?? this.where);
  }

  /** The handler a report names: the one running when the host failed, else the last one started. */
  reportedHandler(installed: boolean): string | undefined {
    return installed ? this.lastHandler : (this.failedHandler ?? this.lastHandler);
  }
}
