/**
 * Kernel arguments of the default boot entry (KERNEL/cmdlineNew, KERNEL/cmdlineOld), changed
 * inside the main transaction; rollback reverses exactly what was changed. With grubby (EL,
 * Fedora) the default entry is changed; without it (Debian, Ubuntu) GRUB_CMDLINE_LINUX in
 * /etc/default/grub, then update-grub. Hosts with neither get a warning saying what would have
 * changed. Skipped on oVirt Node images, whose boot entries are managed by the image.
 */
import { existsSync, readFileSync } from 'node:fs';
import { OtopiError, definePlugin, exec, type Logger, type TransactionElement } from '@otopi/core';
import { GrubDefaultArguments } from '../_lib/grub-default-element.js';
import { GRUB_DEFAULT, grubCmdline, unquotableArgs, withGrubCmdline } from '../_lib/grub-default.js';
import { argsChange, parseGrubbyArgs, splitArgs, withFipsBoot, type ArgsChange } from '../_lib/kernel-args.js';
import { KernelEnv, VdsmEnv } from '../_lib/keys.js';
import { COMMANDS } from '../_lib/tokens.js';

class KernelArguments implements TransactionElement {
  readonly description: string;
  private applied = false;
  constructor(
    private readonly grubby: string,
    private readonly change: ArgsChange,
    private readonly log: Logger,
  ) {
    this.description = `kernel arguments (add '${change.add.join(' ')}', remove '${change.remove.join(' ')}')`;
  }
  prepare(): void {}
  private async grub(args: readonly string[], remove: readonly string[]): Promise<void> {
    if (remove.length > 0)
      await exec([this.grubby, '--update-kernel', 'DEFAULT', '--remove-args', remove.join(' ')], { log: this.log });
    if (args.length > 0)
      await exec([this.grubby, '--update-kernel', 'DEFAULT', '--args', args.join(' ')], { log: this.log });
  }
  async commit(): Promise<void> {
    this.applied = true;
    try {
      await this.grub(this.change.add, this.change.remove);
    } catch (error) {
      throw new OtopiError('TRANSACTION_COMMIT', `Cannot change the kernel arguments: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  async rollback(): Promise<void> {
    if (!this.applied) return;
    this.applied = false;
    await this.grub(this.change.remove, this.change.add);
  }
  abort(): Promise<void> {
    return this.rollback();
  }
  dryRun(): string {
    return `grubby --update-kernel DEFAULT: remove '${this.change.remove.join(' ')}', add '${this.change.add.join(' ')}'\n`;
  }
}

export default definePlugin({
  env: [KernelEnv],
  setup(plugin) {
    plugin.on({
      name: 'programs',
      stage: 'setup',
      run: ({ providers }) => {
        for (const p of ['grubby', 'update-grub', 'findmnt']) providers.get(COMMANDS).detect(p);
      },
    });
    plugin.on({
      name: 'arguments',
      stage: 'misc',
      condition: ({ env }) =>
        (env.get(KernelEnv.cmdlineNew) ?? '') !== '' || (env.get(KernelEnv.cmdlineOld) ?? '') !== '',
      run: async ({ env, log, providers, transaction }) => {
        if (env.get(VdsmEnv['ovirt-legacy-node']) || env.get(VdsmEnv['ovirt-container-node'])) {
          log.info('Kernel arguments are managed by the oVirt Node image; not changed');
          return;
        }
        const commands = providers.get(COMMANDS);
        const grubby = commands.find('grubby');
        const oldArgs = splitArgs(env.get(KernelEnv.cmdlineOld));
        let newArgs = splitArgs(env.get(KernelEnv.cmdlineNew));
        const updateGrub = grubby === null ? commands.find('update-grub') : null;
        if (grubby === null && (updateGrub === null || !existsSync(GRUB_DEFAULT))) {
          log.warn(
            `Neither grubby nor update-grub with ${GRUB_DEFAULT} is here: the kernel command line is not changed (it would lose '${oldArgs.join(' ')}' and gain '${newArgs.join(' ')}')`,
          );
          return;
        }
        const findmnt = commands.find('findmnt');
        if (newArgs.includes('fips=1') && findmnt !== null) {
          const r = await exec([findmnt, '--output=UUID', '--noheadings', '--target=/boot'], {
            log,
            allowFailure: true,
          });
          newArgs = withFipsBoot(newArgs, r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null);
        }
        let current: string[];
        let grubDefault = '';
        if (grubby !== null) current = parseGrubbyArgs((await exec([grubby, '--info', 'DEFAULT'], { log })).stdout);
        else {
          grubDefault = readFileSync(GRUB_DEFAULT, 'utf8');
          try {
            current = grubCmdline(grubDefault)?.args ?? [];
          } catch (error) {
            throw new OtopiError('HOST_UNSUPPORTED', (error as Error).message, { key: KernelEnv.cmdlineNew.key });
          }
        }
        const change = argsChange(current, oldArgs, newArgs);
        if (change.add.length === 0 && change.remove.length === 0) {
          log.info('The kernel arguments are already as asked');
          return;
        }
        log.info(
          `Kernel arguments: adding '${change.add.join(' ')}', removing '${change.remove.join(' ')}' (effective after a reboot)`,
        );
        if (grubby !== null) {
          await transaction.append(new KernelArguments(grubby, change, log));
          return;
        }
        const bad = unquotableArgs(change.add);
        if (bad.length > 0)
          throw new OtopiError('ENV_BAD_VALUE', `Cannot write '${bad.join(' ')}' into GRUB_CMDLINE_LINUX as it is`, {
            key: KernelEnv.cmdlineNew.key,
          });
        const removed = new Set(change.remove);
        const args = [...current.filter((a) => !removed.has(a)), ...change.add];
        await transaction.append(
          new GrubDefaultArguments(updateGrub!, withGrubCmdline(grubDefault, args), change, log),
        );
      },
    });
  },
});
