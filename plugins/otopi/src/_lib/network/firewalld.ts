/**
 * firewalld services and ports as a transaction element, permanent and runtime. Prepare
 * lists what the zone has (and refuses names firewalld does not know); commit adds only what
 * is missing; abort and rollback remove exactly what it added.
 *
 * firewall-cmd is a Python program that costs most of a second per call on a small host, so it
 * is asked in batches: one `--list-services`/`--list-ports` per kind and permanence, and one
 * call adding (or removing) every item of a kind. One query and one add per item, as before,
 * took 20 s for the oVirt defaults on a lab host; this takes 2.
 */
import { OtopiError, type TransactionElement } from '@otopi/core';
import { need, type SystemAccess } from '../runner.js';

type Kind = 'service' | 'port';

interface Item {
  readonly kind: Kind;
  readonly value: string;
}

interface Addition extends Item {
  readonly permanent: boolean;
}

const PORT = /^\d{1,5}(-\d{1,5})?\/(tcp|udp|sctp|dccp)$/;
const KINDS: readonly Kind[] = ['service', 'port'];
const PERMANENCE: readonly boolean[] = [true, false];

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
    for (const item of this.items)
      if (item.kind === 'port' && !PORT.test(item.value)) throw refused(item, 'expected PORT[-PORT]/PROTOCOL');
    const zone = this.zone ?? (await this.cmd(['--get-default-zone'])).stdout.trim();
    this.zone_ = zone;
    this.missing = [];
    for (const kind of KINDS) {
      const wanted = this.items.filter((i) => i.kind === kind);
      if (wanted.length === 0) continue;
      for (const permanent of PERMANENCE) {
        const listed = (await this.cmd([...flag(permanent), `--zone=${zone}`, `--list-${kind}s`])).stdout;
        const present = new Set(listed.split(/\s+/).filter((w) => w !== ''));
        for (const item of wanted) if (!present.has(item.value)) this.missing.push({ ...item, permanent });
      }
    }
    const services = this.missing.filter((a) => a.kind === 'service');
    if (services.length > 0) {
      const known = new Set((await this.cmd(['--permanent', '--get-services'])).stdout.split(/\s+/));
      const unknown = services.find((s) => !known.has(s.value));
      if (unknown !== undefined) throw refused(unknown, 'not one of its services (firewall-cmd --get-services)');
    }
  }

  async commit(): Promise<void> {
    for (const batch of this.batches(this.missing)) {
      await this.cmd([
        ...flag(batch.permanent),
        `--zone=${this.zone_ ?? ''}`,
        ...batch.items.map((a) => `--add-${a.kind}=${a.value}`),
      ]);
      this.added.push(...batch.items);
    }
    this.sys.log.info(
      this.added.length === 0
        ? `firewalld: zone ${this.zone_ ?? ''} already allows ${this.items.map((i) => i.value).join(', ')}: no changes`
        : `firewalld: added to zone ${this.zone_ ?? ''}: ${this.pending.join(', ')}`,
    );
  }

  async rollback(): Promise<void> {
    for (const batch of this.batches(this.added).reverse()) {
      const r = await this.cmd(
        [
          ...flag(batch.permanent),
          `--zone=${this.zone_ ?? ''}`,
          ...batch.items.map((a) => `--remove-${a.kind}=${a.value}`),
        ],
        true,
      );
      if (r.code !== 0)
        this.sys.log.warn(`firewalld: cannot remove ${batch.items.map((a) => a.value).join(', ')}: ${r.stderr.trim()}`);
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

  /** One batch per permanence and kind (firewall-cmd takes several items of one kind per call, not of two). */
  private batches(list: readonly Addition[]): { permanent: boolean; items: Addition[] }[] {
    const out: { permanent: boolean; items: Addition[] }[] = [];
    for (const permanent of PERMANENCE)
      for (const kind of KINDS) {
        const items = list.filter((a) => a.permanent === permanent && a.kind === kind);
        if (items.length > 0) out.push({ permanent, items });
      }
    return out;
  }

  private cmd(args: readonly string[], allowFailure = false): ReturnType<SystemAccess['run']> {
    return this.sys.run([need(this.sys, 'firewall-cmd'), ...args], { log: this.sys.log, allowFailure });
  }
}

const flag = (permanent: boolean): string[] => (permanent ? ['--permanent'] : []);

function refused(item: Item, why: string): OtopiError {
  return new OtopiError('ENV_BAD_VALUE', `firewalld does not accept ${item.kind} '${item.value}': ${why}`, {
    key: item.kind === 'service' ? 'NETWORK/firewalldServices' : 'NETWORK/firewalldPorts',
  });
}
