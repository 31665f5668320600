/**
 * Service changes as a transaction element, for changes that belong with files committed
 * in the same transaction (enable the unit that loads a rules file). Its rollback restores
 * the services it changed right away, before the files go back (rollback runs newest
 * first); a failure after the commit is covered by the services plugin at cleanup.
 */
import type { Transaction, TransactionElement } from '@otopi/core';
import type { JournalsUndo } from './journal-undo.js';
import type { ServiceManager } from './services/types.js';

export interface ServiceStep {
  readonly service: string;
  /** Enable (true) or disable (false) at boot; unchanged when absent. */
  readonly enabled?: boolean;
  /** Start, stop, or restart; unchanged when absent. */
  readonly running?: 'start' | 'stop' | 'restart';
}

export class ServiceChanges implements TransactionElement, JournalsUndo {
  readonly description: string;
  private transaction: Transaction | undefined;

  constructor(
    private readonly services: ServiceManager,
    private readonly steps: readonly ServiceStep[],
    /** Reread unit files first (a unit file is part of the same transaction). */
    private readonly reloadFirst = false,
  ) {
    this.description = `services: ${steps.map(describe).join(', ')}`;
  }

  prepare(): void {}

  useJournal(transaction: Transaction): void {
    this.transaction = transaction;
  }

  /**
   * systemd only: the commands that put each unit's boot state and running state back, for
   * recovery after a run killed once the changes were made.
   */
  private async undoCommands(): Promise<string[][]> {
    if (this.services.name !== 'systemd') return [];
    const lines: string[] = [];
    for (const step of this.steps) {
      const s = await this.services.status(step.service);
      const unit = step.service;
      if (step.enabled !== undefined) {
        if (!s.exists || s.bootState === 'disabled') lines.push(`systemctl disable ${unit} || true`);
        else if (s.bootState === 'enabled') lines.push(`systemctl enable ${unit}`);
        else if (s.bootState === 'masked') lines.push(`systemctl mask ${unit}`);
      }
      if (step.running !== undefined) lines.push(`systemctl ${s.running ? 'start' : 'stop'} ${unit} || true`);
    }
    return lines.length === 0 ? [] : [['/bin/sh', '-c', `# put the services back\n${lines.join('\n')}`]];
  }

  async commit(): Promise<void> {
    if (this.transaction !== undefined) {
      const commands = await this.undoCommands();
      if (commands.length > 0) await this.transaction.recordUndo(this, { description: this.description, commands });
    }
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
    await this.transaction?.clearUndo(this);
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
