// Test-side access to the lab: the hosts' connection data, and host state read WITHOUT SSH, so
// assertions never depend on the SSH code under test. The shell scripts beside this file do the
// system work; docs/lab.md describes the lab.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LabHost {
  /** h1, h2... */
  name: string;
  index: number;
  /** Loopback address the host's sshd is reached at from the root namespace. */
  address: string;
  port: number;
  user: string;
  privateKeyPath: string;
  /** The host's ed25519 key as `ssh-keygen -lf` prints it: `SHA256:<base64, no padding>`. */
  hostKeyFingerprint: string;
  /** The host's eth0 address on the lab network (reachable only from other lab hosts). */
  labAddress: string;
  netns: string;
  /** The host's root file system as mounted in the root namespace. */
  rootfs: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; 128 + signal number when the command was killed. */
  code: number;
}

export interface ExecOptions {
  /** Written to the command's stdin. */
  input?: string;
  /** Added to the clean environment the command gets (PATH, HOME, LANG). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Reject unless the exit code is 0. */
  check?: boolean;
}

const scriptPath = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

/** The state folder of the instance selected by the environment, as the shell scripts compute it. */
export function labStateDir(): string {
  const name = process.env['OTOPI_LAB_NAME'] ?? 'lab';
  return process.env['OTOPI_LAB_STATE'] ?? `/var/lib/otopi-lab/${name}`;
}

export function hostsFile(): string {
  return join(labStateDir(), 'hosts.json');
}

const stringFields = [
  'name',
  'address',
  'user',
  'privateKeyPath',
  'hostKeyFingerprint',
  'labAddress',
  'netns',
  'rootfs',
] as const;

function parseHost(value: unknown, at: string): LabHost {
  if (typeof value !== 'object' || value === null) throw new Error(`${at}: not an object`);
  const v = value as Record<string, unknown>;
  for (const key of stringFields) {
    if (typeof v[key] !== 'string' || v[key] === '') throw new Error(`${at}.${key}: expected a string`);
  }
  for (const key of ['index', 'port'] as const) {
    if (!Number.isInteger(v[key])) throw new Error(`${at}.${key}: expected an integer`);
  }
  if (!String(v['hostKeyFingerprint']).startsWith('SHA256:')) {
    throw new Error(`${at}.hostKeyFingerprint: expected SHA256:...`);
  }
  return v as unknown as LabHost;
}

/** Reads the hosts of the running instance (written by `up`), checking every field. */
export function readHosts(file: string = hostsFile()): LabHost[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`no lab hosts at ${file}; is the lab up? (npm run lab -- up 3)`, { cause: err });
  }
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data)) throw new Error(`${file}: expected an array of hosts`);
  return data.map((h, i) => parseHost(h, `${file}[${i}]`));
}

/** Host hN of the running instance; fails when the lab has fewer hosts (see OTOPI_LAB_HOSTS). */
export function labHost(index: number): LabHost {
  const hosts = readHosts();
  const found = hosts.find((h) => h.index === index);
  if (found === undefined) throw new Error(`no lab host h${index}: the lab has ${hosts.length} (OTOPI_LAB_HOSTS)`);
  return found;
}

const resolveHost = (host: LabHost | number): LabHost => (typeof host === 'number' ? labHost(host) : host);

/**
 * A path inside the host's root file system, for reading its files from the root namespace.
 * Absolute symlinks inside the host resolve against the machine's root here: use labExec for those.
 */
export function hostRootPath(host: LabHost | number, ...parts: string[]): string {
  const root = resolveHost(host).rootfs;
  const path = join(root, ...parts.map((p) => p.replace(/^\/+/, '')));
  if (path !== root && !path.startsWith(`${root}/`)) throw new Error(`${parts.join('/')} leaves the host's root`);
  return path;
}

/** PID 1 of the host's container, after checking the recorded nspawn PID is still ours. */
async function hostInit(host: LabHost): Promise<number> {
  const dir = dirname(host.rootfs);
  const nspawn = (await readFile(join(dir, 'nspawn.pid'), 'utf8')).trim();
  const cmdline = await readFile(`/proc/${nspawn}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.split('\0').includes(`--directory=${host.rootfs}`)) {
    throw new Error(`lab host ${host.name} is not running`);
  }
  const children = (await readFile(`/proc/${nspawn}/task/${nspawn}/children`, 'utf8')).trim();
  const init = Number(children.split(' ')[0]);
  if (!Number.isInteger(init) || init <= 0) throw new Error(`lab host ${host.name} has no init process`);
  return init;
}

function run(file: string, args: string[], opts: ExecOptions & { what: string }): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = {
        stdout,
        stderr,
        code: code ?? 128 + (signal === null ? 0 : constants.signals[signal]),
      };
      if (opts.check === true && result.code !== 0) {
        reject(new Error(`${opts.what} exited with ${result.code}: ${stderr.trim() || stdout.trim()}`));
      } else {
        resolve(result);
      }
    });
    // A command that exits without reading its input must not fail the caller with EPIPE.
    child.stdin.on('error', () => undefined);
    if (opts.input === undefined) child.stdin.end();
    else child.stdin.end(opts.input);
  });
}

/**
 * Runs a command inside a host through nsenter (all its namespaces and its root, a clean
 * environment), never through SSH. A string runs with /bin/sh -c.
 */
export async function labExec(
  host: LabHost | number,
  cmd: string[] | string,
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const h = resolveHost(host);
  const argv = typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : cmd;
  const env = Object.entries({
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    LANG: 'C.UTF-8',
    ...opts.env,
  }).map(([k, v]) => `${k}=${v}`);
  const init = await hostInit(h);
  const args = [
    '-t',
    String(init),
    '-m',
    '-u',
    '-i',
    '-n',
    '-p',
    '-r',
    '-w',
    '--',
    '/usr/bin/env',
    '-i',
    ...env,
    ...argv,
  ];
  return run('nsenter', args, {
    ...opts,
    what: `${h.name}: ${argv.join(' ')}`,
  });
}

async function script(name: string, args: string[], timeoutMs: number): Promise<string> {
  // The scripts report progress on stderr; pass it through so a slow first base build shows.
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [scriptPath(name), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`test/lab/${name} ${args.join(' ')} failed (exit ${code}); see its output above`));
    });
  });
}

/** Brings up hosts h1..hN (building the base first if needed) and returns them. */
export async function labUp(n: number): Promise<LabHost[]> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`labUp: expected a host count, got ${n}`);
  const file = (await script('up.sh', [String(n)], 15 * 60_000)).trim();
  return readHosts(file);
}

/** Removes the instance; a no-op when it is down. */
export async function labDown(opts: { keepState?: boolean } = {}): Promise<void> {
  await script('down.sh', opts.keepState === true ? ['--keep-state'] : [], 5 * 60_000);
}

/** Stops a host's loopback forwarder: from then on only other lab hosts reach it (on the lab network). */
export async function isolateHost(host: LabHost | number): Promise<void> {
  await script('isolate.sh', [String(typeof host === 'number' ? host : host.index)], 60_000);
}

/** Reboots a host: same files, fresh network namespace and runtime state. */
export async function restartHost(host: LabHost | number): Promise<void> {
  await script('restart.sh', [String(typeof host === 'number' ? host : host.index)], 5 * 60_000);
}
