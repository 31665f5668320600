/**
 * Service changes as a transaction element, for changes that belong with files committed
 * in the same transaction (enable the unit that loads a rules file). Its rollback restores
 * the services it changed right away, before the files go back (rollback runs newest
 * first); a failure after the commit is covered by the services plugin at cleanup.
 */
import type { TransactionElement } from '@otopi/core';
import type { ServiceManager } from './services/types.js';

export interface ServiceStep {
  readonly service: string;
  /** Enable (true) or disable (false) at boot; unchanged when absent. */
  readonly enabled?: boolean;
  /** Start, stop, or restart; unchanged when absent. */
  readonly running?: 'start' | 'stop' | 'restart';
}

export class ServiceChanges implements TransactionElement {
  readonly description: string;

  constructor(
    private readonly services: ServiceManager,
    private readonly steps: readonly ServiceStep[],
    /** Reread unit files first (a unit file is part of the same transaction). */
    private readonly reloadFirst = false,
  ) {
    this.description = `services: ${steps.map(describe).join(', ')}`;
  }

  prepare(): void {}

  async commit(): Promise<void> {
    // Only when systemd has an older copy of one of these units (a new unit needs none).
    if (this.reloadFirst) await this.services.reload(this.steps.map((s) => s.service));
    for (const step of this.steps) {
      if (step.enabled !== undefined) await this.services.setEnabled(step.service, step.enabled);
      if (step.running === 'start') await this.services.start(step.service);
      else if (step.running === 'stop') await this.services.stop(step.service);
      else if (step.running === 'restart') await this.services.restart(step.service);
    }
  }

  async rollback(): Promise<void> {
    await this.services.restore(this.steps.map((s) => s.service));
  }

  abort(): Promise<void> {
    return this.rollback();
  }

  async dryRun(): Promise<string> {
    const lines: string[] = [];
    for (const step of this.steps) {
      const status = await this.services.status(step.service);
      if (step.enabled !== undefined && status.enabled !== step.enabled)
        lines.push(`${step.enabled ? 'enable' : 'disable'} ${step.service} at boot`);
      if (step.running === 'start' && !status.running) lines.push(`start ${step.service}`);
      if (step.running === 'stop' && status.running) lines.push(`stop ${step.service}`);
      if (step.running === 'restart') lines.push(`restart ${step.service}`);
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }
}

function describe(step: ServiceStep): string {
  const parts = [step.enabled === undefined ? '' : step.enabled ? 'enable' : 'disable', step.running ?? ''].filter(
    Boolean,
  );
  return `${parts.join('+')} ${step.service}`;
}
