/**
 * The live bridge change as a transaction element. Commit makes the bridge (one `ip -batch`,
 * or NetworkManager profiles), then waits until the engine answers again; if it does not, the
 * change is undone and the commit fails, so the transaction also rolls back the persistent
 * files and everything else. Rollback and abort put the device back as it was.
 *
 * The live change is journaled before it is made (`Transaction.recordUndo`): a run killed
 * right after it (SIGKILL, OOM, a cut session) leaves the bridge up and the commit half done,
 * and the next run's recovery puts the device back from the journal (`undoCommands`), as it
 * rolls back the files.
 */
import { OtopiError, type Transaction, type TransactionElement } from '@otopi/core';
import type { SystemAccess } from '../system.js';
import type { BridgePlan } from './discover.js';
import { bridgeDownBatch, bridgeUpBatch, type LiveState } from './iproute-plan.js';
import { nmCommands } from './nm-plan.js';
import { waitReachable, type Connector } from './reach.js';

export interface ReachCheck {
  readonly port: number;
  readonly timeoutS: number;
  readonly attempts: number;
  readonly connect: Connector;
}

export class ManagementBridge implements TransactionElement {
  readonly description: string;
  private applied = false;

  constructor(
    readonly plan: BridgePlan,
    private readonly sys: SystemAccess,
    /** null: the engine did not answer before the change either, so there is nothing to check. */
    private readonly reach: ReachCheck | null,
    /** The transaction this element is in, for the undo record of the live change. */
    private readonly transaction?: Transaction,
  ) {
    this.description = `management bridge ${plan.bridge} on ${plan.nic.name}`;
  }

  private get live(): LiveState {
    return { bridge: this.plan.bridge, nic: this.plan.nic, addresses: this.plan.addresses, routes: this.plan.routes };
  }

  prepare(): void {}

  /**
   * The commands that put the device back, for recovery (argv lists, no shell of the
   * caller's, no input): the reverse batch with `-force` (a change cut half way leaves some
   * of its lines nothing to do), then a check that the bridge is gone.
   */
  undoCommands(): string[][] {
    const { plan } = this;
    const gone = `ip link show dev ${plan.bridge} >/dev/null 2>&1 && { echo "${plan.bridge} is still there"; exit 1; }; exit 0`;
    if (plan.nm !== null) {
      const nmcli = this.sys.which('nmcli') ?? 'nmcli';
      const down = nmCommands(plan.bridge, plan.nic.mac, plan.nm).down;
      return [
        ...down.map((args) => [
          '/bin/sh',
          '-c',
          `# ${this.description}: nmcli ${args[0] ?? ''}\n"$@" || true`,
          'sh',
          nmcli,
          ...args,
        ]),
        ['/bin/sh', '-c', `# is ${plan.bridge} gone\n${gone}`],
      ];
    }
    const ip = this.sys.which('ip') ?? 'ip';
    return [
      [
        '/bin/sh',
        '-c',
        `# put ${plan.nic.name} back as before the bridge\nip=$1; shift; printf '%s\\n' "$@" | "$ip" -force -batch - || true\n${gone}`,
        'sh',
        ip,
        ...bridgeDownBatch(this.live),
      ],
    ];
  }

  async commit(): Promise<void> {
    // Journaled before the change: a kill from here on is undone by the next run's recovery.
    await this.transaction?.recordUndo(this, { description: this.description, commands: this.undoCommands() });
    this.applied = true;
    await this.up();
    if (this.reach === null) return;
    const { sys, plan, reach } = this;
    const result = await waitReachable({
      host: plan.engineAddress,
      port: reach.port,
      timeoutS: reach.timeoutS,
      attempts: reach.attempts,
      connect: reach.connect,
      sleep: sys.sleep,
      onRetry: (attempt, why) =>
        sys.log.debug(
          `engine ${plan.engineAddress}:${reach.port} not reachable yet (attempt ${attempt}/${reach.attempts}): ${why}`,
        ),
    });
    if (result === 'ok') {
      sys.log.info(`The engine (${plan.engineAddress}:${reach.port}) is reachable through ${plan.bridge}`);
      return;
    }
    await this.down();
    throw new OtopiError(
      'TRANSACTION_COMMIT',
      `The engine (${plan.engineAddress}:${reach.port}) is not reachable through ${plan.bridge} (${result}); the bridge was rolled back`,
      {
        key: 'VDSM/managementBridgeName',
        hint: 'Check the switch port and VLAN of the device, or raise VDSM/connectionRetries.',
      },
    );
  }

  async abort(): Promise<void> {
    await this.down();
  }

  async rollback(): Promise<void> {
    await this.down();
  }

  dryRun(): string {
    if (this.plan.nm !== null)
      return `${nmCommands(this.plan.bridge, this.plan.nic.mac, this.plan.nm)
        .up.map((a) => `nmcli ${a.join(' ')}`)
        .join('\n')}\n`;
    return `ip -batch -:\n${bridgeUpBatch(this.live)
      .map((l) => `  ${l}`)
      .join('\n')}\n`;
  }

  private async up(): Promise<void> {
    const { sys, plan } = this;
    if (plan.nm !== null) {
      const nmcli = sys.which('nmcli') ?? 'nmcli';
      for (const args of nmCommands(plan.bridge, plan.nic.mac, plan.nm).up)
        await sys.run([nmcli, ...args], { log: sys.log, timeoutMs: 120_000 });
      return;
    }
    await sys.run([sys.which('ip') ?? 'ip', '-batch', '-'], {
      input: `${bridgeUpBatch(this.live).join('\n')}\n`,
      log: sys.log,
    });
  }

  private async down(): Promise<void> {
    if (!this.applied) return;
    this.applied = false;
    const { sys, plan } = this;
    if (plan.nm !== null) {
      const nmcli = sys.which('nmcli') ?? 'nmcli';
      for (const args of nmCommands(plan.bridge, plan.nic.mac, plan.nm).down)
        await sys.run([nmcli, ...args], { log: sys.log, allowFailure: true, timeoutMs: 120_000 });
    } else {
      const r = await sys.run([sys.which('ip') ?? 'ip', '-force', '-batch', '-'], {
        input: `${bridgeDownBatch(this.live).join('\n')}\n`,
        log: sys.log,
        allowFailure: true,
      });
      if (r.code !== 0) sys.log.warn(`Putting ${plan.nic.name} back was not clean: ${r.stderr.trim()}`);
    }
    sys.log.info(`The management bridge ${plan.bridge} was removed; ${plan.nic.name} is configured as before`);
    await this.transaction?.clearUndo(this);
  }
}
