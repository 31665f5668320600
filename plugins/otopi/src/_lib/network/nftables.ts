/**
 * Loading an nft ruleset as a transaction element. The ruleset's own tables are replaced
 * as a whole (each is created if missing, deleted, then declared, in one atomic `nft -f`),
 * so loading it twice gives the same result and other tables are never touched. Prepare
 * checks it with `nft -c`; rollback puts each table back as it was, or deletes it.
 */
import { OtopiError, type TransactionElement } from '@otopi/core';
import { need, type SystemAccess } from '../runner.js';

export interface TableName {
  readonly family: string;
  readonly name: string;
}

/** The ruleset as written to disk and loaded: a replace preamble per table, then the rules. */
export function replacingRuleset(rules: string, tables: readonly TableName[]): string {
  const preamble = tables.flatMap((t) => [`table ${t.family} ${t.name}`, `delete table ${t.family} ${t.name}`]);
  return `${['# Managed by otopi: these tables are replaced as a whole when loaded.', ...preamble, rules.trimEnd()].join('\n')}\n`;
}

/** `nft list table` text without counter values, for comparisons. */
function normalize(listing: string): string {
  return listing.replace(/packets \d+ bytes \d+/g, 'packets 0 bytes 0').trim();
}

export class NftRuleset implements TransactionElement {
  readonly description: string;
  private previous = new Map<string, string | null>();
  private loaded = false;
  changed = false;

  constructor(
    private readonly sys: SystemAccess,
    /** The full text to load (see {@link replacingRuleset}). */
    private readonly ruleset: string,
    private readonly tables: readonly TableName[],
  ) {
    this.description = `nft tables ${tables.map((t) => `${t.family} ${t.name}`).join(', ')}`;
  }

  async prepare(): Promise<void> {
    const check = await this.sys.run([need(this.sys, 'nft'), '-c', '-f', '-'], {
      log: this.sys.log,
      input: this.ruleset,
      allowFailure: true,
    });
    if (check.code !== 0) {
      throw new OtopiError(
        'ENV_BAD_VALUE',
        `nft refuses the ruleset: ${check.stderr.trim().split('\n').slice(0, 4).join(' / ')}`,
        {
          key: 'NETWORK/nftablesRules',
        },
      );
    }
    for (const t of this.tables) this.previous.set(key(t), await this.list(t));
  }

  async commit(): Promise<void> {
    await this.sys.run([need(this.sys, 'nft'), '-f', '-'], { log: this.sys.log, input: this.ruleset });
    this.loaded = true;
    this.changed = false;
    for (const t of this.tables) {
      const before = this.previous.get(key(t)) ?? null;
      const after = await this.list(t);
      if (before === null || after === null || normalize(before) !== normalize(after)) this.changed = true;
    }
    this.sys.log.info(
      this.changed
        ? `nftables: loaded ${this.description}`
        : `nftables: ${this.description} already were these: no changes`,
    );
  }

  async rollback(): Promise<void> {
    if (!this.loaded) return;
    const lines: string[] = [];
    for (const t of this.tables) {
      lines.push(`table ${t.family} ${t.name}`, `delete table ${t.family} ${t.name}`);
      const before = this.previous.get(key(t));
      if (before !== null && before !== undefined) lines.push(before);
    }
    await this.sys.run([need(this.sys, 'nft'), '-f', '-'], { log: this.sys.log, input: `${lines.join('\n')}\n` });
    this.loaded = false;
    this.sys.log.info(`nftables: ${this.description} are back as they were`);
  }

  abort(): Promise<void> {
    return this.rollback();
  }

  dryRun(): string {
    return `load with nft -f:\n${this.ruleset}`;
  }

  private async list(t: TableName): Promise<string | null> {
    const r = await this.sys.run([need(this.sys, 'nft'), 'list', 'table', t.family, t.name], {
      log: this.sys.log,
      allowFailure: true,
    });
    return r.code === 0 ? r.stdout : null;
  }
}

function key(t: TableName): string {
  return `${t.family} ${t.name}`;
}
