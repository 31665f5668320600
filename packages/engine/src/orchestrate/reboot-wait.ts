/**
 * Waiting for a host that reboots to finish its deploy, as the engine does (reference §6.6: a
 * host in `Reboot` is waited for, and given up as non-responsive after the reboot timeout).
 * "Back" means: a new SSH connection, with the host's own key policy, reads a boot id
 * (/proc/sys/kernel/random/boot_id) other than the one read before the deploy. A host that still
 * answers with the old id has not rebooted yet; one that refuses connections is on its way.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { InventoryHost } from '../inventory/inventory.js';
import { connectThrough, type HopOptions } from '../ssh/jump.js';
import type { DeployEventInput } from './events.js';
import type { HostLog } from './host-log.js';
import { sshAuth } from './open.js';
import type { Finish } from './report.js';

/** Reads the host's current boot id; rejects when the host cannot be reached. */
export type BootIdProbe = (
  host: InventoryHost,
  options: { connectTimeoutMs: number; signal: AbortSignal },
) => Promise<string>;

const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const bootIdOverSsh: BootIdProbe = async (host, { connectTimeoutMs, signal }) => {
  // The same path as the deploy: through the host's jump hosts, each with its own key policy.
  const hops: HopOptions[] = host.jumps.map((j) => ({
    host: j.address,
    port: j.port,
    user: j.user,
    auth: sshAuth(j.auth, `${j.user}@${j.name}`),
    hostKey: j.hostKey,
    connectTimeoutMs: j.connectMs ?? connectTimeoutMs,
  }));
  const target: HopOptions = {
    host: host.address,
    port: host.port,
    user: host.user,
    auth: sshAuth(host.auth, `${host.user}@${host.name}`),
    hostKey: host.hostKey,
    connectTimeoutMs,
  };
  const connection = await connectThrough(target, hops, signal);
  try {
    const channel = await connection.exec('cat /proc/sys/kernel/random/boot_id');
    const out = await new Promise<string>((resolve, reject) => {
      let text = '';
      channel.on('data', (d: Buffer) => (text += d.toString('utf8')));
      channel.stderr.on('data', () => undefined);
      channel.on('close', () => resolve(text.trim()));
      channel.on('error', reject);
    });
    if (!BOOT_ID.test(out)) throw new Error(`unexpected boot id '${out.slice(0, 60)}'`);
    return out;
  } finally {
    connection.close();
  }
};

export interface RebootWait {
  /** The boot id read before the deploy. */
  readonly before: string;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly signal: AbortSignal;
  readonly probe: BootIdProbe;
  /** Time between attempts. Default 2 s. */
  readonly intervalMs?: number;
}

export type RebootOutcome =
  | { readonly back: true; readonly seconds: number; readonly bootId: string }
  | { readonly back: false; readonly seconds: number; readonly last: string };

export async function waitForReboot(host: InventoryHost, wait: RebootWait): Promise<RebootOutcome> {
  const started = performance.now();
  const seconds = (): number => Math.round((performance.now() - started) / 100) / 10;
  let last = 'not tried';
  while (performance.now() - started < wait.timeoutMs && !wait.signal.aborted) {
    const left = wait.timeoutMs - (performance.now() - started);
    try {
      const id = await wait.probe(host, {
        connectTimeoutMs: Math.max(1_000, Math.min(wait.connectTimeoutMs, left)),
        signal: wait.signal,
      });
      if (id !== wait.before) return { back: true, seconds: seconds(), bootId: id };
      last = 'the host still runs the boot it was deployed in';
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(Math.min(wait.intervalMs ?? 2_000, Math.max(0, wait.timeoutMs - (performance.now() - started))));
  }
  return { back: false, seconds: seconds(), last: wait.signal.aborted ? 'the run was cancelled' : last };
}

/** A host that reboots to finish: waits until it is back, and says so; or fails it, as non-responsive. */
export async function awaitReboot(
  host: InventoryHost,
  ctx: {
    readonly emit: (event: DeployEventInput) => void;
    readonly signal: AbortSignal;
    readonly probe: BootIdProbe | undefined;
  },
  log: HostLog,
  r: Finish,
  timeouts: { readonly before: string; readonly rebootMs: number; readonly connectMs: number },
): Promise<Finish> {
  const say = (text: string): void => {
    log.note(text);
    ctx.emit({ type: 'log', host: host.name, level: 'INFO', text });
  };
  ctx.emit({ type: 'stage', host: host.name, stage: 'Reboot' });
  say(`Waiting up to ${timeouts.rebootMs / 1000} s for the host to come back from its reboot`);
  const w = await waitForReboot(host, {
    before: timeouts.before,
    timeoutMs: timeouts.rebootMs,
    connectTimeoutMs: timeouts.connectMs,
    signal: ctx.signal,
    probe: ctx.probe ?? bootIdOverSsh,
  });
  if (!w.back) {
    const why = `the host did not come back within ${timeouts.rebootMs / 1000} s of its reboot (last: ${w.last})`;
    log.note(why);
    return { ...r, result: 'failed', stage: 'Reboot', details: [why, ...r.details] };
  }
  say(`The host is back from its reboot after ${w.seconds} s (boot id ${w.bootId})`);
  return {
    ...r,
    result: 'installed',
    stage: 'Reboot',
    details: [`rebooted, and back after ${w.seconds} s`, ...r.details],
    facts: { ...r.facts, bootId: w.bootId },
  };
}
