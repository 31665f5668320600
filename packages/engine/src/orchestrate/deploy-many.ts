/**
 * Deploys to many hosts at once: at most `parallel` hosts run together, each through its own
 * SSH connection and one exec; a failing host never stops the others; every host gets an
 * engine-side log; events report progress as it happens and the report says how each host
 * ended. Secrets (passwords, passphrases, values of secret-looking keys) are redacted from
 * every log line and event.
 */
import { Redactor } from '@otopi/core';
import type { Artifact, RuntimeArtifact } from '../bundle/artifact.js';
import { EngineError } from '../errors.js';
import type { InventoryHost } from '../inventory/inventory.js';
import type { EnvSetting } from '../inventory/settings.js';
import { deployHost, type Timeouts } from './deploy-host.js';
import type { DeployEvent, DeployEventInput, HostReport, HostResultKind } from './events.js';
import { prepareLogDir } from './host-log.js';
import { openOverSsh, type SessionOpener } from './open.js';
import type { DeployProgramFactory } from './program.js';

export const DEFAULT_PARALLEL = 10;
/** The engine's SSH time limits, as oVirt's: 300 s without output, 1800 s in all. */
export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 30_000, inactivityMs: 300_000, hardMs: 1_800_000 };

export interface DeployManyOptions {
  readonly hosts: readonly InventoryHost[];
  /** The bundle (from `resolveBundle`, `readManifest` or `buildBundle`); it must hold `groups`. */
  readonly bundle: Artifact;
  /** The runtime for hosts without Node.js 20.19+ (the self-contained flavour). */
  readonly runtime?: RuntimeArtifact | undefined;
  /** Use the runtime even on hosts with a suitable Node.js. Default false. */
  readonly preferRuntime?: boolean;
  /** Plugin groups to run besides the base group. Default none. */
  readonly groups?: readonly string[];
  /** Run with `CORE/dryRun=bool:True`: hosts show what would change and change nothing. */
  readonly dryRun?: boolean;
  /** Settings every host gets before its inventory settings (an answer file). */
  readonly defaults?: readonly EnvSetting[];
  /** Settings every host gets after its inventory settings (the command line). */
  readonly overrides?: readonly EnvSetting[];
  /** Hosts deployed at the same time. Default {@link DEFAULT_PARALLEL}. */
  readonly parallel?: number;
  /** Folder of the per-host logs (created 0700). Default `/var/log/otopi-deploy`, else a private temporary folder. */
  readonly logDir?: string | undefined;
  /** Dialog programs by plugin group, made for each host when its deploy starts. */
  readonly programs?: Readonly<Record<string, DeployProgramFactory>>;
  /** Time limits for hosts whose inventory sets none. Default {@link DEFAULT_TIMEOUTS}. */
  readonly timeouts?: Partial<Timeouts>;
  /** Tries again after a connection refused or reset before login, for hosts whose inventory sets none. Default 3. */
  readonly connectRetries?: number;
  /** Sees every event as it happens. Called synchronously; keep it quick. */
  readonly onEvent?: (event: DeployEvent) => void;
  /** Cancels the run: running hosts are disconnected (and roll back), waiting ones never start. */
  readonly signal?: AbortSignal;
  /** Opens a host's session. Default: SSH with the host's key policy and one exec ({@link openOverSsh}). */
  readonly open?: SessionOpener;
}

export interface DeployReport {
  /** Whether every host installed (`incomplete` and `reboot` hosts are not, yet). */
  readonly ok: boolean;
  /** One report per host, in inventory order. */
  readonly hosts: readonly HostReport[];
  readonly counts: Readonly<Record<HostResultKind, number>>;
  readonly durationMs: number;
  readonly logDir: string;
}

const SECRET_KEY_RE = /pass(?:word|wd|phrase)?|secret|token|private|credential/i;

/** Secrets of a run: SSH passwords and passphrases, and string values of secret-looking keys. */
function collectSecrets(options: DeployManyOptions): string[] {
  const secrets = new Set<string>();
  const settings = [...(options.defaults ?? []), ...(options.overrides ?? [])];
  for (const host of options.hosts) {
    for (const auth of [host.auth, ...host.jumps.map((j) => j.auth)]) {
      if (auth.password !== undefined) secrets.add(auth.password.reveal());
      for (const identity of auth.identities)
        if (identity.passphrase !== undefined) secrets.add(identity.passphrase.reveal());
    }
    if (host.become?.password !== undefined) secrets.add(host.become.password.reveal());
    settings.push(...host.environment);
  }
  for (const s of settings) {
    if (!SECRET_KEY_RE.test(s.key)) continue;
    for (const v of Array.isArray(s.value) ? s.value : [s.value])
      if (typeof v === 'string' && v.length >= 4) secrets.add(v);
  }
  return [...secrets];
}

function redactDeep<T>(value: T, redactor: Redactor): T {
  if (typeof value === 'string') return redactor.redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v, redactor)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redactor)])) as T;
  }
  return value;
}

export async function deployMany(options: DeployManyOptions): Promise<DeployReport> {
  const parallel = options.parallel ?? DEFAULT_PARALLEL;
  if (!Number.isInteger(parallel) || parallel < 1) {
    throw new EngineError('USAGE', `parallel must be a whole number of 1 or more, not ${parallel}`);
  }
  const names = new Set<string>();
  for (const h of options.hosts) {
    if (names.has(h.name)) throw new EngineError('USAGE', `host ${h.name} is listed twice`, { host: h.name });
    names.add(h.name);
  }
  const started = performance.now();
  const logDir = prepareLogDir(options.logDir);
  const secrets = collectSecrets(options);
  const redactor = new Redactor({ secrets: () => secrets, protectedNames: () => [] });
  const emit = (event: DeployEventInput): void => {
    options.onEvent?.(redactDeep({ at: new Date().toISOString(), ...event } as DeployEvent, redactor));
  };
  const signal = options.signal ?? new AbortController().signal;
  const groups = (options.groups ?? []).filter((g) => g !== 'otopi');

  emit({
    type: 'run-start',
    hosts: options.hosts.map((h) => h.name),
    parallel,
    dryRun: options.dryRun === true,
    groups,
    bundle: { sha256: options.bundle.sha256, size: options.bundle.size },
    ...(options.runtime === undefined
      ? {}
      : {
          runtime: {
            sha256: options.runtime.sha256,
            size: options.runtime.size,
            nodeVersion: options.runtime.nodeVersion,
          },
        }),
    logDir,
  });

  const context = {
    bundle: options.bundle,
    runtime: options.runtime,
    preferRuntime: options.preferRuntime === true,
    groups,
    dryRun: options.dryRun === true,
    defaults: options.defaults ?? [],
    overrides: options.overrides ?? [],
    programs: options.programs ?? {},
    timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
    connectRetries: options.connectRetries,
    logDir,
    redactor,
    open: options.open ?? openOverSsh,
    emit,
    signal,
  };

  // A fixed set of workers, each taking the next host when its last one ends: at most
  // `parallel` sessions at once, and a slow host delays nobody.
  const reports: HostReport[] = new Array<HostReport>(options.hosts.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < options.hosts.length; i = next++) {
      reports[i] = await deployHost(options.hosts[i]!, context);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, options.hosts.length) }, worker));

  const counts: Record<HostResultKind, number> = { installed: 0, incomplete: 0, reboot: 0, failed: 0, aborted: 0 };
  for (const r of reports) counts[r.result]++;
  const ok = options.hosts.length > 0 && counts.installed === options.hosts.length;
  const durationMs = Math.round(performance.now() - started);
  const usage = process.resourceUsage();
  emit({
    type: 'run-end',
    ok,
    counts,
    durationMs,
    engine: {
      maxRssKb: usage.maxRSS,
      userMs: Math.round(usage.userCPUTime / 1000),
      systemMs: Math.round(usage.systemCPUTime / 1000),
    },
  });
  return { ok, hosts: reports, counts, durationMs, logDir };
}
