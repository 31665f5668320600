// Helpers for the deploy tests: an inventory for lab hosts, and `otopi deploy` run as a user
// runs it (the built CLI, a child process), with its JSON event stream parsed. Needs
// `npm run build` first, like the other tests that run the built CLI.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  connectSsh,
  type DeployEvent,
  type HostReport,
  type SshConnection,
} from '../../../packages/engine/src/index.js';
import { type LabHost, labStateDir } from '../../lab/lab.js';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const CLI = join(ROOT, 'packages/cli/dist/otopi.js');
export const FIXTURES = join(ROOT, 'test/integration/fixtures/plugins');

export interface InventoryOptions {
  /** Lines for `[defaults]`. */
  readonly defaults?: readonly string[];
  /** Extra lines per host name. */
  readonly extra?: Readonly<Record<string, readonly string[]>>;
  /** `pin` (default): each host's fingerprint from hosts.json; `lab`: the lab's known_hosts; else a known_hosts path. */
  readonly hostKeys?: 'pin' | 'lab' | string;
}

/** Writes an inventory (mode 0600) for the hosts into a new folder and returns its path. */
export function writeInventory(hosts: readonly LabHost[], options: InventoryOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'otopi-deploy-test-'));
  const keys = options.hostKeys ?? 'pin';
  const lines = ['# written by the deploy tests', '[defaults]', `identity_file = ${hosts[0]!.privateKeyPath}`];
  if (keys === 'lab') lines.push(`known_hosts = ${join(labStateDir(), 'known_hosts')}`);
  else if (keys !== 'pin') lines.push(`known_hosts = ${keys}`);
  lines.push(...(options.defaults ?? []));
  for (const h of hosts) {
    lines.push('', `[host ${h.name}]`, `address = ${h.address}`, `port = ${h.port}`, `user = ${h.user}`);
    if (keys === 'pin') lines.push(`fingerprint = ${h.hostKeyFingerprint}`);
    lines.push(...(options.extra?.[h.name] ?? []));
  }
  const file = join(dir, 'hosts.ini');
  writeFileSync(file, `${lines.join('\n')}\n`);
  chmodSync(file, 0o600);
  return file;
}

export interface DeployRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly events: DeployEvent[];
  readonly eventsText: string;
  /** The host-end report of each host, by name. */
  readonly hosts: Record<string, HostReport>;
  readonly logDir: string;
  readonly seconds: number;
}

/**
 * Runs `otopi deploy` with the inventory and arguments, an events file and a log folder of its
 * own (in `where.dir`, or a new folder), the sample group findable on the plugin path (or the
 * groups in `where.pluginPath`). NODE_EXTRA_CA_CERTS is left out: it makes Node's start
 * several times slower.
 */
export function runDeploy(
  inventory: string,
  args: readonly string[],
  env: Record<string, string> = {},
  where: {
    readonly pluginPath?: string;
    readonly dir?: string;
    /** Called with the running CLI (a test that kills the engine). */
    readonly onChild?: (child: ChildProcess) => void;
  } = {},
): Promise<DeployRun> {
  const dir = where.dir ?? mkdtempSync(join(tmpdir(), 'otopi-deploy-run-'));
  const eventsFile = join(dir, 'events.jsonl');
  const logDir = join(dir, 'logs');
  const childEnv: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/root',
    ...env,
  };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'deploy',
        '--inventory',
        inventory,
        '--plugin-path',
        where.pluginPath ?? FIXTURES,
        '--events',
        eventsFile,
        '--log-dir',
        logDir,
        ...(args.includes('--progress') ? [] : ['--progress', 'plain']),
        ...args,
      ],
      { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    where.onChild?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const eventsText = existsSync(eventsFile) ? readFileSync(eventsFile, 'utf8') : '';
      const events = eventsText
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as DeployEvent);
      const hosts: Record<string, HostReport> = {};
      for (const e of events) if (e.type === 'host-end') hosts[e.host] = e;
      resolve({
        code,
        stdout,
        stderr,
        events,
        eventsText,
        hosts,
        logDir,
        seconds: (performance.now() - started) / 1000,
      });
    });
  });
}

/** An engine SSH connection to a lab host, as a deploy makes it: key login, the host key pinned. */
export function connectLabHost(host: LabHost): Promise<SshConnection> {
  return connectSsh({
    host: host.address,
    port: host.port,
    user: host.user,
    auth: { privateKey: readFileSync(host.privateKeyPath) },
    hostKey: { kind: 'fingerprint', fingerprint: host.hostKeyFingerprint },
  });
}
