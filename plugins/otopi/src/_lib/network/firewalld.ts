/**
 * firewalld services and ports as a transaction element, permanent and runtime. Prepare
 * asks which are missing in the zone (and refuses names firewalld does not know); commit
 * adds only those; abort and rollback remove exactly what it added.
 */
import { OtopiError, type TransactionElement } from '@otopi/core';
import { need, type SystemAccess } from '../runner.js';

interface Item {
  readonly kind: 'service' | 'port';
  readonly value: string;
}

interface Addition extends Item {
  readonly permanent: boolean;
}

export class FirewalldSettings implements TransactionElement {
  readonly description: string;
  private zone_: string | undefined;
  private missing: Addition[] = [];
  private added: Addition[] = [];

  constructor(
    private readonly sys: SystemAccess,
    private readonly items: readonly Item[],
    private readonly zone: string | null,
  ) {
    this.description = `firewalld ${items.map((i) => `${i.kind} ${i.value}`).join(', ')}`;
  }

  /** What the commit adds (known after prepare): empty means nothing to do. */
  get pending(): readonly string[] {
    return this.missing.map((a) => `${a.kind} ${a.value} (${a.permanent ? 'permanent' : 'runtime'})`);
  }

  async prepare(): Promise<void> {
    const zone = this.zone ?? (await this.cmd(['--get-default-zone'])).stdout.trim();
    this.zone_ = zone;
    this.missing = [];
    for (const item of this.items) {
      for (const permanent of [true, false]) {
        const r = await this.cmd(
          [...(permanent ? ['--permanent'] : []), `--zone=${zone}`, `--query-${item.kind}=${item.value}`],
          true,
        );
        if (r.code === 0) continue;
        if (r.code !== 1) {
          throw new OtopiError(
            'ENV_BAD_VALUE',
            `firewalld does not accept ${item.kind} '${item.value}': ${(r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? ''}`,
            {
              key: item.kind === 'service' ? 'NETWORK/firewalldServices' : 'NETWORK/firewalldPorts',
            },
          );
        }
        this.missing.push({ ...item, permanent });
      }
    }
  }

  async commit(): Promise<void> {
    for (const a of this.missing) {
      await this.cmd([
        ...(a.permanent ? ['--permanent'] : []),
        `--zone=${this.zone_ ?? ''}`,
        `--add-${a.kind}=${a.value}`,
      ]);
      this.added.push(a);
    }
    this.sys.log.info(
      this.added.length === 0
        ? `firewalld: zone ${this.zone_ ?? ''} already allows ${this.items.map((i) => i.value).join(', ')}: no changes`
        : `firewalld: added to zone ${this.zone_ ?? ''}: ${this.pending.join(', ')}`,
    );
  }

  async rollback(): Promise<void> {
    for (const a of [...this.added].reverse()) {
      await this.cmd(
        [...(a.permanent ? ['--permanent'] : []), `--zone=${this.zone_ ?? ''}`, `--remove-${a.kind}=${a.value}`],
        true,
      );
    }
    if (this.added.length > 0) this.sys.log.info(`firewalld: removed what this run added to zone ${this.zone_ ?? ''}`);
    this.added = [];
  }

  abort(): Promise<void> {
    return this.rollback();
  }

  async dryRun(): Promise<string> {
    if (this.zone_ === undefined) await this.prepare();
    return this.missing.length === 0 ? '' : `add to zone ${this.zone_ ?? ''}: ${this.pending.join(', ')}\n`;
  }

  private cmd(args: readonly string[], allowFailure = false): ReturnType<SystemAccess['run']> {
    return this.sys.run([need(this.sys, 'firewall-cmd'), ...args], { log: this.sys.log, allowFailure });
  }
}
