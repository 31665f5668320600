// The fault matrix (docs/reliability.md): a host-deploy run (the engine's host-deploy program,
// the bundle with the host-deploy group) whose SSH connection is dropped at each of the 18
// stages: once cut from the engine side (the engine closes the connection when the host
// announces the first handler of that stage, `**%EventStart`), once by killing the installer
// on the host (SIGKILL, by PID, via labExec). The fixture group `faultpause` puts a handler
// first in every stage that pauses when the host's /run/otopi-fault-stage names that stage, so
// every stage, even those host-deploy has no handler in, can be hit.
// Besides the stages, cases cut in the middle of the package installation (vdsm's postinst
// held on a FIFO while dpkg runs) and in the middle of the commit (right after its first
// element, right after the live bridge change, right after its last element).
// After each case: no file is torn; the whole host (host-state.ts: accounts, vdsm, PKI, hooks,
// firewall, network files, /etc/nftables.d, packages, live links, addresses, routes, enabled
// and active units, rules) is byte-identical to before, or equal to a clean deploy's result
// (the undisturbed deploy at the end), as the next run finds it (after a SIGKILL: once the next
// run's boot recovered the journal); the engine reports the host failed at that stage with a
// log. At the end, an undisturbed deploy succeeds on both hosts.
// Hosts (HOSTS.reliabilityFaultMatrix): the first takes the engine-side cuts, the second the
// installer kills, at the same time. A case killed after the commit is the next one's baseline.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGES, STAGE_INFO, type Stage } from '../../../packages/core/src/index.js';
import {
  deployMany,
  loadInventory,
  openOverSsh,
  prepareHostDeploy,
  resolveBundle,
  type BundleChoice,
  type DeployProgramFactory,
  type HostReport,
  type HostSession,
  type InventoryHost,
  type SessionOpener,
} from '../../../packages/engine/src/index.js';
import { engineDefaults } from '../../integration/support/host-deploy-lab.js';
import { writeInventory } from '../../integration/support/deploy-lab.js';
import { HOSTS } from '../../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../../lab/lab.js';
import { CANARY_PLUGINS, ROOT } from '../support/cli.js';
import { recordFigure } from '../support/figures.js';
import { type HostState, comparable, hostState, stateDiff } from './host-state.js';

type Mode = 'engine' | 'host';
/** A stage (paused at its first handler), the middle of dpkg, or a point in the commit (faultpause.mjs). */
type Case = Stage | 'packages:dpkg' | `commit:${string}`;
const MID: readonly Case[] = ['packages:dpkg', 'commit:1', 'commit:management bridge', 'commit:last'];
/**
 * An engine-side cut cannot stop a commit half way (the installer finishes it, then finds the
 * connection gone), so the cuts inside the commit are SIGKILLs only; the engine's cut at the
 * commit is the transaction_end stage case.
 */
const ENGINE_SKIPS: readonly Case[] = ['commit:1', 'commit:management bridge', 'commit:last'];
const DPKG_HOLD = '/run/otopi-lab-dpkg-hold';
const REQUEST = '/run/otopi-fault-stage';
const PID_FILE = '/run/otopi-fault.pid';
const LOCK = '/var/lib/otopi/run.lock';
/** The files a host-deploy run writes. */
const FILES_CMD =
  'find /etc/vdsm /etc/pki/vdsm /etc/pki/libvirt /etc/iptables /etc/network /etc/nftables.conf -type f 2>/dev/null | sort | xargs -r sha256sum';
/** A file the transaction prepared and had not renamed into place yet (FileTransaction). */
const TEMPORARY = /\/\.[^/]+\.[0-9a-f]{12}\.tmp$/;
/** Whether a file's content is whole: each kind read by what reads it. */
const VALID_CMD = `f=$1; case "$f" in
  *key*.pem) openssl pkey -noout -in "$f" ;;
  *.pem) openssl x509 -noout -in "$f" ;;
  */vdsm.id) grep -Eqx '[0-9a-fA-F-]{36}' "$f" ;;
  */vdsm.conf) grep -q '^management_port = ' "$f" ;;
  */rules.v4) iptables-restore --test <"$f" ;;
  */rules.v6) ip6tables-restore --test <"$f" ;;
  */interfaces) grep -q '^iface ' "$f" ;;
  *) test -s "$f" ;;
esac`;
/** Stages handled through a selection of cases with `OTOPI_FAULT_STAGES=misc,closeup` (for a quick look). */
const CHOSEN: readonly Case[] =
  process.env['OTOPI_FAULT_STAGES'] === undefined
    ? [...MID, ...STAGES]
    : [...MID, ...STAGES].filter((s) => process.env['OTOPI_FAULT_STAGES']!.split(',').includes(s));

interface Outcome {
  readonly stage: Case;
  readonly mode: Mode;
  /** What timed the cut or kill: the host's `**%EventStart` of the stage's first handler, else its PID file (no events then). */
  readonly hit: 'event' | 'pid file' | 'held dpkg' | undefined;
  readonly report: HostReport;
  readonly changed: readonly string[];
  readonly torn: readonly string[];
  /** Prepared temporaries the case left (a SIGKILL before the commit); the next run removes them. */
  readonly temporaries: readonly string[];
  /** The host as the next run found it: `before` (byte-identical) or `complete` (judged at the end). */
  readonly state: HostState;
  /** The same with fresh keys and certificates reduced to their validity, for the comparison with a clean deploy. */
  readonly comparable: HostState;
  /**
   * When the case left the host changed: the host after the next run (an undisturbed deploy),
   * reduced the same way; a host past its commit whose later stages were cut must be complete then.
   */
  readonly afterNextRun?: HostState;
  /** What differs from before (empty: byte-identical). */
  readonly diff: readonly string[];
  readonly staleLock: boolean;
  readonly problems: readonly string[];
}

let bundle: BundleChoice;
let factory: DeployProgramFactory;
let inventoryHosts: InventoryHost[];
let hosts: Record<Mode, LabHost>;
/** The case running on each host: what to do when its stage's first handler starts. */
interface Armed {
  readonly stage: Case;
  readonly onHit: (close: () => void) => Promise<void>;
  hit: 'event' | 'pid file' | 'held dpkg' | undefined;
  close?: () => void;
  /** Lines the engine has taken and handled (the generator resumed after each). */
  readonly read: string[];
}
const armed = new Map<string, Armed>();

const q = async (host: LabHost, cmd: string): Promise<string> => (await labExec(host, cmd)).stdout;

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function sums(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => [l.slice(66), l.slice(0, 64)] as const),
  );
}

/** The SSH session, its lines watched for the armed stage's first `**%EventStart`. */
const open: SessionOpener = async (host, request) => {
  const opened = await openOverSsh(host, request);
  const session = opened.session;
  const arming = armed.get(host.name);
  if (arming !== undefined) arming.close = () => opened.close();
  const lines = (async function* watched(): AsyncGenerator<string> {
    for await (const line of session.lines) {
      const arm = armed.get(host.name);
      if (
        arm !== undefined &&
        arm.hit === undefined &&
        line.startsWith('**%EventStart ') &&
        line.includes(`pause_${arm.stage}`)
      ) {
        arm.hit = 'event';
        await arm.onHit(() => opened.close());
      }
      yield line;
      armed.get(host.name)?.read.push(line);
    }
  })();
  const wrapped = new Proxy(session, {
    get(target, p) {
      if (p === 'lines') return lines;
      const v: unknown = Reflect.get(target, p, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as HostSession;
  return { session: wrapped, close: () => opened.close() };
};

async function deploy(mode: Mode): Promise<HostReport> {
  const host = hosts[mode];
  const report = await deployMany({
    hosts: inventoryHosts.filter((h) => h.name === host.name),
    bundle: bundle.bundle,
    runtime: bundle.runtime,
    groups: ['host-deploy', 'faultpause'],
    programs: { 'host-deploy': factory },
    logDir: mkdtempSync(join(tmpdir(), 'otopi-fault-logs-')),
    timeouts: { inactivityMs: 60_000 },
    open,
  });
  return report.hosts[0]!;
}

/**
 * The start of the next run on the host: the installer the deploy left in the host's cache,
 * with its input closed. Its boot takes over the stale lock and recovers the journals of the
 * killed run (files rolled back, recorded package undo run), then the run ends at its first
 * prompt. Its `Recover` lines are logged.
 */
async function nextRunBoot(host: LabHost): Promise<void> {
  const cache = '/var/cache/otopi';
  const node = bundle.runtime === undefined ? '' : `${cache}/runtimes/${bundle.runtime.sha256}/bin/node`;
  const r = await labExec(
    host,
    `[ -x '${node}' ] && OTOPI_NODE='${node}' && export OTOPI_NODE; ` +
      `${cache}/bundles/${bundle.bundle.sha256}/bin/otopi DIALOG/dialect=str:machine </dev/null 2>&1 | grep -i 'recover' || true`,
  );
  for (const line of r.stdout.split('\n').filter((l) => l !== '')) console.log(`next run: ${line}`);
}

/** The stage the engine must report for a case. */
function expectedStage(stage: Case): string {
  // Before the first banner the engine says `Installer start`; at reboot the dialog is closed,
  // so the last stage it heard of is Termination.
  if (stage === 'boot') return 'Installer start';
  if (stage === 'reboot') return STAGE_INFO.terminate.description;
  if (stage === 'packages:dpkg') return STAGE_INFO.packages.description;
  if (stage.startsWith('commit:')) return STAGE_INFO.transaction_end.description;
  return STAGE_INFO[stage as Stage].description;
}

/** Whether the installer (or a script it started) still runs dpkg's held postinst. */
const dpkgHeld = async (host: LabHost): Promise<boolean> =>
  (await labExec(host, `ps -eo args | grep -F 'cat ${DPKG_HOLD}' | grep -v grep`)).code === 0;

async function runCase(mode: Mode, stage: Case): Promise<Outcome> {
  const host = hosts[mode];
  const pauseMs = mode === 'engine' ? 1_500 : 10_000;
  const mid = stage === 'packages:dpkg';
  await labExec(
    host,
    `rm -f ${PID_FILE}; ` + (mid ? `mkfifo ${DPKG_HOLD}` : `printf '${stage}\\n${pauseMs}\\n' >${REQUEST}`),
    { check: true },
  );
  const files = sums(await q(host, FILES_CMD));
  const before = await hostState(host);
  const problems: string[] = [];
  const arm: Armed = {
    stage,
    hit: undefined,
    read: [],
    onHit: async (close) => {
      if (mode === 'engine') close();
      else if (mid) {
        // The installer, apt-get and dpkg; the held script goes on by itself.
        const kill = await labExec(
          host,
          `node=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p' ${LOCK}); kids=$(ps -o pid= --ppid "$node"); ` +
            `grand=$(for k in $kids; do ps -o pid= --ppid "$k"; done); kill -9 $node $kids $grand`,
        );
        if (kill.code !== 0) problems.push(`kill: ${kill.stderr.trim()}`);
      } else {
        // The installer writes its PID as the handler starts; kill it while it pauses.
        const ok = await until(async () => (await labExec(host, ['test', '-s', PID_FILE])).code === 0, 5_000);
        if (!ok) problems.push('no PID file');
        const kill = await labExec(host, `kill -9 $(cat ${PID_FILE})`);
        if (kill.code !== 0) problems.push(`kill: ${kill.stderr.trim()}`);
      }
      if (mid) await labExec(host, `echo >${DPKG_HOLD}; rm -f ${DPKG_HOLD}`);
    },
  };
  armed.set(host.name, arm);
  // Boot and init run before the plan is announced, reboot after the dialog closed, and the
  // commit's pauses and dpkg's hold announce nothing: the PID file the pause writes (or the
  // held script) times the cut or kill there.
  // Only those: where the stage is announced, the event times the cut, so the engine has read
  // every line before it (a PID file seen first would cut away lines the engine had not read yet).
  const silent = stage === 'boot' || stage === 'init' || stage === 'reboot' || stage.startsWith('commit:') || mid;
  let deploying = true;
  const watcher = (async () => {
    while (silent && deploying && arm.hit === undefined) {
      const there = mid ? await dpkgHeld(host) : (await labExec(host, ['test', '-s', PID_FILE])).code === 0;
      // The cut waits until the engine has read the stage it is judged by (none before boot).
      const heard = stage === 'boot' || arm.read.some((l) => l.includes(expectedStage(stage)));
      if (there && heard && arm.hit === undefined) {
        arm.hit = mid ? 'held dpkg' : 'pid file';
        await arm.onHit(() => arm.close?.());
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const report = await deploy(mode).finally(() => (deploying = false));
  await watcher;
  const hit = arm.hit;
  armed.delete(host.name);
  await labExec(host, ['rm', '-f', REQUEST, DPKG_HOLD]);

  // The installer is gone (after a cut it notices the closed connection, rolls back and exits).
  const pid = (
    await q(host, `cat ${PID_FILE} 2>/dev/null; sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p' ${LOCK} 2>/dev/null`)
  )
    .split('\n')
    .filter((l) => l.trim() !== '');
  for (const p of pid)
    if (!(await until(async () => (await labExec(host, ['kill', '-0', p.trim()])).code !== 0, 30_000)))
      problems.push(`installer ${p} still running`);
  if (!(await until(async () => !(await dpkgHeld(host)), 30_000))) problems.push('dpkg still held');
  const after = sums(await q(host, FILES_CMD));
  const changedAll = [...new Set([...files.keys(), ...after.keys()])].filter((f) => files.get(f) !== after.get(f));
  // Temporaries an earlier case left are the next run's to remove (journal recovery).
  const temporaries = changedAll.filter((f) => TEMPORARY.test(f) && after.has(f));
  const changed = changedAll.filter((f) => !TEMPORARY.test(f));
  const torn: string[] = [];
  for (const f of changed) {
    if (!after.has(f)) continue; // removed: judged with the rest of the state
    if ((await labExec(host, ['sh', '-c', VALID_CMD, 'valid', f])).code !== 0) torn.push(f);
  }
  const staleLock = (await labExec(host, ['test', '-e', LOCK])).code === 0;
  // Torn files and temporaries are judged as the kill left them; the rest as the next run
  // finds it: its boot recovers the journal a SIGKILL left (package and bridge undo included).
  if (mode === 'host') await nextRunBoot(host);
  const state = await hostState(host);
  const diff = stateDiff(before, state);

  if (!hit) problems.push('the stage was never announced');
  if (torn.length > 0) problems.push(`torn: ${torn.join(', ')}`);
  // A cut leaves no lock (the installer exits through its clean-up); a SIGKILL leaves a stale one by nature.
  if (mode === 'engine' && staleLock) problems.push('run lock left behind');
  if (report.result !== 'failed') problems.push(`engine says ${report.result}`);
  if (report.stage !== expectedStage(stage)) problems.push(`engine says stage "${report.stage}"`);
  if (report.log === undefined || !existsSync(report.log)) problems.push('no engine log');
  console.log(
    `${mode} ${stage}: ${diff.length === 0 ? 'as before' : `${diff.length} items changed`}${problems.length > 0 ? `; ${problems.join('; ')}` : ''}`,
  );
  const reduced = diff.length === 0 ? state : await comparable(host, state);
  // Not as before: the next run, an undisturbed deploy, must leave it fully deployed (judged at the end).
  let afterNextRun: HostState | undefined;
  if (diff.length > 0) {
    const next = await deploy(mode);
    if (next.result !== 'installed') problems.push(`the next run: ${next.result} at ${next.stage}`);
    afterNextRun = await comparable(host, await hostState(host));
  }
  return {
    stage,
    mode,
    hit,
    report,
    changed,
    torn,
    temporaries,
    state,
    comparable: reduced,
    ...(afterNextRun === undefined ? {} : { afterNextRun }),
    diff,
    staleLock,
    problems,
  };
}

beforeAll(async () => {
  hosts = {
    engine: labHost(HOSTS.reliabilityFaultMatrix[0]),
    host: labHost(HOSTS.reliabilityFaultMatrix[1]),
  };
  const all = [hosts.engine, hosts.host];
  for (const h of all) {
    await labExec(
      h,
      `mkdir -p /etc/network && printf 'auto eth0\\niface eth0 inet static\\n    address ${h.labAddress}/24\\n' > /etc/network/interfaces; rm -f ${REQUEST} ${PID_FILE}`,
      { check: true },
    );
  }
  inventoryHosts = [...loadInventory(writeInventory(all, { defaults: engineDefaults() })).hosts];
  const work = mkdtempSync(join(tmpdir(), 'otopi-fault-'));
  bundle = await resolveBundle({
    dir: join(ROOT, 'bundle/dist'),
    root: ROOT,
    groups: ['host-deploy', 'faultpause'],
    groupDirs: { faultpause: join(CANARY_PLUGINS, 'faultpause') },
    buildDir: work,
  });
  factory = (await prepareHostDeploy(inventoryHosts, { caDir: join(work, 'ca'), idRegistryFile: join(work, 'ids') }))
    .factory;
}, 120_000);

describe('the fault matrix: the SSH connection dropped at each stage of host-deploy', () => {
  it('leaves every host whole, reports it failed at that stage, and deploys again', async () => {
    const started = performance.now();
    const series = async (mode: Mode): Promise<Outcome[]> => {
      const out: Outcome[] = [];
      for (const stage of CHOSEN)
        if (mode === 'host' || !ENGINE_SKIPS.includes(stage)) out.push(await runCase(mode, stage));
      return out;
    };
    const [engineCases, hostCases] = await Promise.all([series('engine'), series('host')]);
    const seconds = (performance.now() - started) / 1000;

    // The undisturbed deploy after all that (no stale lock, no half state): its result is what
    // a complete case must equal.
    const finals = await Promise.all([deploy('engine'), deploy('host')]);
    const reference = new Map<Mode, HostState>();
    for (const [i, r] of finals.entries()) {
      expect(r, JSON.stringify(r)).toMatchObject({ result: 'installed' });
      const h = i === 0 ? hosts.engine : hosts.host;
      reference.set(i === 0 ? 'engine' : 'host', await comparable(h, await hostState(h)));
      expect(await q(h, 'systemctl is-enabled vdsmd; systemctl is-active vdsmd')).toBe('enabled\nactive\n');
      expect((await labExec(h, ['test', '-e', LOCK])).code).not.toBe(0);
      // The temporaries a killed run left are gone: the next run's recovery removed them.
      expect(
        (await q(h, FILES_CMD.replace(' | xargs -r sha256sum', ''))).split('\n').filter((f) => TEMPORARY.test(f)),
      ).toEqual([]);
    }
    // Each case: byte-identical to before, or equal to the clean deploy.
    const verdict = (o: Outcome): 'as before' | 'complete' | 'completed by the next run' | string[] => {
      if (o.diff.length === 0) return 'as before';
      const off = stateDiff(reference.get(o.mode)!, o.comparable);
      if (off.length === 0) return 'complete';
      const next = o.afterNextRun === undefined ? off : stateDiff(reference.get(o.mode)!, o.afterNextRun);
      return next.length === 0 ? 'completed by the next run' : next;
    };
    const all = [...engineCases, ...hostCases];
    const judged = all.map((o) => {
      const v = verdict(o);
      const problems =
        typeof v === 'string'
          ? o.problems
          : [
              ...o.problems,
              `neither as before nor complete: ${v.slice(0, 12).join('; ')} (before: ${o.diff.slice(0, 12).join('; ')})`,
            ];
      return { ...o, verdict: typeof v === 'string' ? v : 'half', problems };
    });
    for (const o of judged) {
      console.log(
        `${o.mode.padEnd(6)} ${o.stage.padEnd(25)} (${o.hit ?? 'not reached'}) ${o.problems.length === 0 ? 'clean' : 'NOT CLEAN'}, ${o.verdict}: engine ${o.report.result} at "${o.report.stage}" (${o.report.lastHandler ?? '-'})` +
          `; ${o.changed.length} files changed${o.temporaries.length > 0 ? `, ${o.temporaries.length} prepared temporaries left` : ''}${o.staleLock ? ', stale lock' : ''}` +
          `${o.problems.length === 0 ? '' : `; ${o.problems.join('; ')}`}`,
      );
    }
    const clean = (mode: Mode): number => judged.filter((o) => o.mode === mode && o.problems.length === 0).length;
    const count = (mode: Mode, v: string): number => judged.filter((o) => o.mode === mode && o.verdict === v).length;
    const cases = (mode: Mode): number => judged.filter((o) => o.mode === mode).length;
    const unreached = judged.filter((o) => o.hit === undefined).map((o) => `${o.mode} ${o.stage}`);
    const leftTemporaries = judged.filter((o) => o.temporaries.length > 0).map((o) => `${o.mode} ${o.stage}`);
    const n = CHOSEN.length;

    const line =
      `fault matrix: ${clean('engine')}/${cases('engine')} cases clean (engine cut: ${count('engine', 'as before')} as before, ${count('engine', 'complete')} complete, ${count('engine', 'completed by the next run')} completed by the next run), ` +
      `${clean('host')}/${cases('host')} cases clean (installer kill: ${count('host', 'as before')} as before, ${count('host', 'complete')} complete, ${count('host', 'completed by the next run')} completed by the next run)` +
      `; cases: ${n} chosen of the 18 stages, mid-dpkg and 3 points in the commit (those 3 by SIGKILL only); a following undisturbed deploy: ${finals.filter((r) => r.result === 'installed').length}/2 installed` +
      (leftTemporaries.length === 0
        ? ''
        : `; prepared temporaries left until the next run: ${leftTemporaries.join(', ')}`) +
      (unreached.length === 0 ? '' : `; not reached: ${unreached.join(', ')}`) +
      ` (${seconds.toFixed(0)} s)`;
    recordFigure({
      item: 'fault-matrix',
      part: 'host-deploy',
      line,
      ok: clean('engine') + clean('host'),
      total: judged.length,
      data: { engine: clean('engine'), host: clean('host'), cases: n },
    });
    // No file is ever torn, whatever the kill.
    expect(judged.filter((o) => o.torn.length > 0).map((o) => `${o.mode} ${o.stage}: ${o.torn.join(', ')}`)).toEqual(
      [],
    );
    // Every case, cut or killed, leaves the host as it was or as a clean deploy leaves it, once
    // the next run started (its boot recovers the journal a SIGKILL left).
    expect(
      judged.filter((o) => o.problems.length > 0).map((o) => `${o.mode} ${o.stage}: ${o.problems.join('; ')}`),
    ).toEqual([]);
  }, 2_400_000);
});
