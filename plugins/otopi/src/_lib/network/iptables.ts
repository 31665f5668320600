/**
 * Loading iptables rules as a transaction element: prepare checks them with
 * `iptables-restore --test` and saves the live rules; commit loads them; abort and
 * rollback load the saved rules back (and empty the tables that did not exist before).
 * When the live tables are exactly what loading the same rules made of them last time
 * (`iptables-stamp.ts`), nothing is loaded: a converged host keeps its rules and counters.
 */
import { OtopiError, errorMessage, type Transaction, type TransactionElement } from '@otopi/core';
import type { JournalsUndo } from '../journal-undo.js';
import { need, type SystemAccess } from '../runner.js';
import { liveIsLoaded, recordLoaded } from './iptables-stamp.js';

/** Built-in chains per table, for emptying a table that was not loaded before. */
const BUILTIN: Readonly<Record<string, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** iptables-save output per table, without comments and counters, for comparisons. */
export function savedTables(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | undefined;
  let lines: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/ \[\d+:\d+\]$/, '');
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      name = line.slice(1);
      lines = [];
    } else if (line === 'COMMIT' && name !== undefined) {
      out.set(name, lines.join('\n'));
      name = undefined;
    } else lines.push(line);
  }
  return out;
}

export class IptablesRuleset implements TransactionElement, JournalsUndo {
  readonly description = 'iptables rules (IPv4, loaded with iptables-restore)';
  private previous: string | undefined;
  private transaction: Transaction | undefined;
  private loaded = false;
  /** The live tables are what these rules loaded before: commit loads nothing. */
  private inPlace = false;
  /** Whether loading changed the live rules; known after commit. */
  changed = false;

  constructor(
    private readonly sys: SystemAccess,
    private readonly rules: string,
    /** Tables the rules replace. */
    private readonly tables: readonly string[],
    /** Where the stamp of the last load is kept (`iptables-stamp.ts`); null: always load. */
    private readonly stampFile: string | null = null,
  ) {}

  async prepare(): Promise<void> {
    this.previous = (await this.sys.run([need(this.sys, 'iptables-save')], { log: this.sys.log })).stdout;
    this.inPlace =
      this.stampFile !== null &&
      (await liveIsLoaded(this.rules, this.tables, savedTables(this.previous), this.stampFile));
    if (this.inPlace) return;
    const test = await this.sys.run([need(this.sys, 'iptables-restore'), '--test'], {
      log: this.sys.log,
      input: this.rules,
      allowFailure: true,
    });
    if (test.code !== 0) {
      throw new OtopiError(
        'ENV_BAD_VALUE',
        `iptables-restore refuses the rules: ${test.stderr.trim().split('\n').slice(0, 3).join(' / ')}`,
        {
          key: 'NETWORK/iptablesRules',
        },
      );
    }
  }

  useJournal(transaction: Transaction): void {
    this.transaction = transaction;
  }

  /** What rollback loads: the saved rules, and empty tables for those that were not there. */
  private restoreInput(): string {
    const before = savedTables(this.previous ?? '');
    // Tables the run loaded that were not there before are emptied, with ACCEPT policies.
    const empty = this.tables
      .filter((t) => !before.has(t) && BUILTIN[t] !== undefined)
      .map((t) => [`*${t}`, ...BUILTIN[t]!.map((c) => `:${c} ACCEPT [0:0]`), 'COMMIT'].join('\n'));
    return `${this.previous ?? ''}\n${empty.join('\n')}\n`;
  }

  async commit(): Promise<void> {
    if (this.inPlace) {
      this.sys.log.info('iptables: the live rules are the ones these rules loaded before: not reloaded');
      return;
    }
    // Journaled first: a run killed after the load is put back by the next run's recovery.
    await this.transaction?.recordUndo(this, {
      description: this.description,
      commands: [
        [
          '/bin/sh',
          '-c',
          `# load the iptables rules of before the run\nprintf '%s' "$2" | "$1"`,
          'sh',
          need(this.sys, 'iptables-restore'),
          this.restoreInput(),
        ],
      ],
    });
    await this.sys.run([need(this.sys, 'iptables-restore')], { log: this.sys.log, input: this.rules });
    this.loaded = true;
    const after = savedTables((await this.sys.run([need(this.sys, 'iptables-save')], { log: this.sys.log })).stdout);
    const before = savedTables(this.previous ?? '');
    this.changed = this.tables.some((t) => before.get(t) !== after.get(t));
    if (this.stampFile !== null)
      await recordLoaded(this.rules, this.tables, after, this.stampFile).catch((error: unknown) =>
        this.sys.log.warn(
          `Cannot record the loaded iptables rules (the next run reloads them): ${errorMessage(error)}`,
        ),
      );
    this.sys.log.info(
      this.changed
        ? `iptables: loaded the rules into ${this.tables.join(', ')}`
        : 'iptables: the live rules already were these: no changes',
    );
  }

  async rollback(): Promise<void> {
    if (!this.loaded || this.previous === undefined) return;
    await this.sys.run([need(this.sys, 'iptables-restore')], { log: this.sys.log, input: this.restoreInput() });
    this.loaded = false;
    await this.transaction?.clearUndo(this);
    this.sys.log.info('iptables: the previous rules are back');
  }

  abort(): Promise<void> {
    return this.rollback();
  }

  /** What loading would change; `''` when the live rules (saved by prepare) already are these. */
  dryRun(): string {
    const live = savedTables(this.previous ?? '');
    const wanted = savedTables(this.rules);
    if (this.previous !== undefined && this.tables.every((t) => live.get(t) === wanted.get(t))) return '';
    return `load into ${this.tables.join(', ')}:\n${this.rules.trimEnd()}\n`;
  }
}
