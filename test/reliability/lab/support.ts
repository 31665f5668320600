/**
 * The reliability suite on lab hosts: the host bundle with the `canary` fixture group, shipped
 * and run the way the engine does it (one SSH exec, then the machine dialog), and `otopi
 * deploy` run as a user runs it. Host state is checked with labExec, never through SSH.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildBundle,
  buildRuntime,
  deployBundle,
  type BuiltBundle,
  type RuntimeArtifact,
} from '../../../packages/engine/src/index.js';
import { connectLabHost, runDeploy } from '../../integration/support/deploy-lab.js';
import type { LabHost } from '../../lab/lab.js';
import { CANARY_PLUGINS, ROOT, runDir } from '../support/cli.js';

export interface Shipment {
  readonly bundle: BuiltBundle;
  readonly runtime: RuntimeArtifact;
}

/** The bundle (base group and `canary`) and the Node.js runtime, built into a private folder. */
export async function buildShipment(): Promise<Shipment> {
  const out = runDir('otopi-reliability-bundle-');
  const bundle = await buildBundle({
    root: ROOT,
    outDir: out,
    groups: ['canary'],
    groupDirs: { canary: join(CANARY_PLUGINS, 'canary') },
  });
  const runtime = await buildRuntime({ cacheDir: join(ROOT, 'bundle/.cache'), outDir: out });
  return { bundle, runtime };
}

export interface HostRun {
  readonly lines: readonly string[];
  readonly code: number | null;
  readonly stderr: string;
  /** When the run started and ended (ms since the epoch), to show overlaps. */
  readonly started: number;
  readonly ended: number;
}

/**
 * One installer run on the host: `statements` on its command line, then `install` at the
 * customization prompt and `quit` at termination, as a manager that has nothing to change does.
 * `onLine` sees every line as it comes.
 */
export async function runOnHost(
  host: LabHost,
  shipment: Shipment,
  statements: readonly string[],
  onLine?: (line: string) => void,
): Promise<HostRun> {
  const started = Date.now();
  const connection = await connectLabHost(host);
  try {
    const session = await deployBundle(connection, {
      bundle: shipment.bundle,
      runtime: shipment.runtime,
      statements: ['APPEND:BASE/pluginGroups=str:canary', 'CORE/logLevel=str:info', ...statements],
      inactivityTimeoutMs: 120_000,
      hardTimeoutMs: 300_000,
    });
    const lines: string[] = [];
    for await (const line of session.lines) {
      lines.push(line);
      onLine?.(line);
      if (line === '***Q:STRING CUSTOMIZATION_COMMAND') session.send('install');
      else if (line === '***Q:STRING TERMINATION_COMMAND') session.send('quit');
    }
    const { code, stderr } = await session.done;
    return { lines, code, stderr, started, ended: Date.now() };
  } finally {
    connection.close();
  }
}

/** The `***L:ERROR` lines of a run, without the prefix. */
export function errorsOf(run: HostRun): string[] {
  return run.lines.filter((l) => l.startsWith('***L:ERROR ')).map((l) => l.slice('***L:ERROR '.length));
}

/** Writes an inventory (mode 0600) into a new folder; returns its path. */
export function writeInventory(lines: readonly string[]): string {
  const dir = runDir('otopi-reliability-inventory-');
  const file = join(dir, 'hosts.ini');
  writeFileSync(file, `${lines.join('\n')}\n`);
  chmodSync(file, 0o600);
  return file;
}

/** The inventory section of a lab host, pinned by its fingerprint. */
export function hostSection(host: LabHost, extra: readonly string[] = []): string[] {
  return [
    `[host ${host.name}]`,
    `address = ${host.address}`,
    `port = ${host.port}`,
    `user = ${host.user}`,
    `identity_file = ${host.privateKeyPath}`,
    `fingerprint = ${host.hostKeyFingerprint}`,
    ...extra,
  ];
}

export interface DeployCliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly events: string;
  /** The run's folder: events.jsonl and the per-host logs (logs/). */
  readonly dir: string;
}

/** `otopi deploy` with the canary group on the plugin path, its events and logs in a new folder. */
export async function runDeployCli(inventory: string, args: readonly string[]): Promise<DeployCliRun> {
  const dir = runDir('otopi-reliability-deploy-');
  const run = await runDeploy(inventory, args, {}, { pluginPath: CANARY_PLUGINS, dir });
  return { code: run.code, stdout: run.stdout, stderr: run.stderr, events: run.eventsText, dir };
}
