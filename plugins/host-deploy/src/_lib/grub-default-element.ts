/**
 * The kernel-argument change on a host without grubby, as one transaction element:
 * /etc/default/grub rewritten (a backup kept), then update-grub, so the default boot entry
 * carries the new arguments from the next boot on. Rollback puts the file back and runs
 * update-grub again, so grub.cfg is as before too.
 */
import { exec, FileTransaction, OtopiError, type Logger, type TransactionElement } from '@otopi/core';
import type { ArgsChange } from './kernel-args.js';
import { GRUB_DEFAULT } from './grub-default.js';

export class GrubDefaultArguments implements TransactionElement {
  readonly description: string;
  private readonly file: FileTransaction;
  private committed = false;
  constructor(
    private readonly updateGrub: string,
    content: string,
    private readonly change: ArgsChange,
    private readonly log: Logger,
  ) {
    this.description = `kernel arguments in ${GRUB_DEFAULT} (add '${change.add.join(' ')}', remove '${change.remove.join(' ')}')`;
    this.file = new FileTransaction({ path: GRUB_DEFAULT, content, backup: true, log });
  }
  prepare(): Promise<void> {
    return this.file.prepare();
  }
  async commit(): Promise<void> {
    this.committed = true;
    try {
      await this.file.commit();
      await exec([this.updateGrub], { log: this.log });
    } catch (error) {
      throw new OtopiError('TRANSACTION_COMMIT', `Cannot change the kernel arguments: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  async rollback(): Promise<void> {
    if (!this.committed) return;
    this.committed = false;
    await this.file.rollback();
    await exec([this.updateGrub], { log: this.log });
  }
  async abort(): Promise<void> {
    if (this.committed) await this.rollback();
    else await this.file.abort();
  }
  async dryRun(): Promise<string> {
    return `${await this.file.dryRun()}${this.updateGrub}: remove '${this.change.remove.join(' ')}', add '${this.change.add.join(' ')}'\n`;
  }
  modifiedFiles(): readonly string[] {
    return this.file.modifiedFiles();
  }
}
