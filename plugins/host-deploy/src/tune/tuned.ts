/**
 * The tuned profile (TUNE/tunedProfile, default 'virtual-host' on a virtualization cluster),
 * set with tuned-adm inside the main transaction: rollback puts the previous profile back.
 * Without tuned-adm a warning says what would have changed; tuned is not installed for it.
 */
import { OtopiError, definePlugin, type TransactionElement } from '@otopi/core';
import { TuneEnv, VdsmEnv, VirtEnv } from '../_lib/keys.js';
import { realSystem, type SystemAccess } from '../_lib/system.js';
import { COMMANDS, SERVICES } from '../_lib/tokens.js';

/** `tuned-adm active` → the profile name, or null. */
export function parseActiveProfile(text: string): string | null {
  const m = /Current active profile:\s*(\S.*?)\s*$/m.exec(text);
  return m === null ? null : m[1]!;
}

class TunedProfile implements TransactionElement {
  readonly description: string;
  private applied = false;
  constructor(
    private readonly sys: SystemAccess,
    private readonly tool: string,
    private readonly profile: string,
    private readonly previous: string | null,
  ) {
    this.description = `tuned profile ${profile}`;
  }
  prepare(): void {}
  async commit(): Promise<void> {
    const r = await this.sys.run([this.tool, 'profile', this.profile], { log: this.sys.log, allowFailure: true });
    if (r.code !== 0)
      throw new OtopiError(
        'TRANSACTION_COMMIT',
        `tuned-adm profile ${this.profile} failed: ${r.stderr.trim() || r.stdout.trim()}`,
        { key: TuneEnv.tunedProfile.key },
      );
    this.applied = true;
    this.sys.log.info(`tuned profile '${this.profile}' is active (it was '${this.previous ?? 'none'}')`);
  }
  async rollback(): Promise<void> {
    if (!this.applied || this.previous === null) return;
    this.applied = false;
    await this.sys.run([this.tool, 'profile', this.previous], { log: this.sys.log, allowFailure: true });
  }
  abort(): Promise<void> {
    return this.rollback();
  }
  dryRun(): string {
    return `tuned-adm profile ${this.profile} (now ${this.previous ?? 'none'})\n`;
  }
}

export default definePlugin({
  env: [TuneEnv, VirtEnv],
  setup(plugin) {
    plugin.on({
      name: 'programs',
      stage: 'setup',
      run: ({ providers }) => providers.get(COMMANDS).detect('tuned-adm'),
    });
    plugin.on({
      name: 'profile',
      stage: 'misc',
      condition: ({ env }) =>
        !env.get(VdsmEnv['ovirt-legacy-node']) && (env.get(TuneEnv.tunedProfile) !== null || env.get(VirtEnv.enable)),
      run: async ({ env, log, providers, transaction, dryRun }) => {
        const profile = env.get(TuneEnv.tunedProfile) ?? 'virtual-host';
        const tool = providers.get(COMMANDS).find('tuned-adm');
        if (tool === null) {
          log.warn(`tuned-adm is not installed: the tuned profile '${profile}' is not set (install tuned to have it)`);
          return;
        }
        const sys = realSystem(log, (n) => providers.get(COMMANDS).find(n));
        const manager = providers.get(SERVICES);
        if (!dryRun && (await manager.exists('tuned'))) {
          // tuned-adm talks to the daemon; starting it is recorded and undone on failure.
          if (!(await manager.isRunning('tuned'))) await manager.start('tuned');
          if (!(await manager.isEnabled('tuned'))) await manager.setEnabled('tuned', true);
        }
        const active = await sys.run([tool, 'active'], { log, allowFailure: true });
        const previous = active.code === 0 ? parseActiveProfile(active.stdout) : null;
        if (previous === profile) {
          log.info(`tuned profile '${profile}' is already active`);
          return;
        }
        await transaction.append(new TunedProfile(sys, tool, profile, previous));
      },
    });
  },
});
