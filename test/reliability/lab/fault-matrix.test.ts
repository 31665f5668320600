// The fault matrix (docs/reliability.md): a host-deploy run (the engine's host-deploy program,
// the bundle with the host-deploy group) whose SSH connection is dropped at each of the 18
// stages: once cut from the engine side (the engine closes the connection when the host
// announces the first handler of that stage, `**%EventStart`), once by killing the installer
// on the host (SIGKILL, by PID, via labExec). The fixture group `faultpause` puts a handler
// first in every stage that pauses when the host's /run/otopi-fault-stage names that stage, so
// every stage, even those host-deploy has no handler in, can be hit.
// After each case: the host's files (vdsm, PKI, firewall persistence, network configuration)
// are byte-identical to before or whole and valid (committed), never torn; services and
// firewall are as before unless the run got past the commit (after a SIGKILL: once the next
// run's boot recovered the journal, package undo included); the engine reports the host
// failed at that stage with a log. At the end, an undisturbed deploy succeeds on both hosts.
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

type Mode = 'engine' | 'host';
const REQUEST = '/run/otopi-fault-stage';
const PID_FILE = '/run/otopi-fault.pid';
const LOCK = '/var/lib/otopi/run.lock';
/** The files a host-deploy run writes. */
const FILES_CMD =
  'find /etc/vdsm /etc/pki/vdsm /etc/pki/libvirt /etc/iptables /etc/network /etc/nftables.conf -type f 2>/dev/null | sort | xargs -r sha256sum';
const STATE_CMD =
  "echo vdsmd: $(systemctl is-enabled vdsmd 2>&1) $(systemctl is-active vdsmd 2>&1); iptables -S; ip6tables -S; nft list ruleset | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'";
const PACKAGES_CMD =
  "dpkg-query -W -f '${Package} ${Status}\\n' vdsm vdsm-client ovirt-host ovirt-imageio-daemon 2>/dev/null | awk '$4 == \"installed\" {print $1}'";
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
const CHOSEN: readonly Stage[] =
  process.env['OTOPI_FAULT_STAGES'] === undefined
    ? STAGES
    : STAGES.filter((s) => process.env['OTOPI_FAULT_STAGES']!.split(',').includes(s));

interface Outcome {
  readonly stage: Stage;
  readonly mode: Mode;
  /** What timed the cut or kill: the host's `**%EventStart` of the stage's first handler, else its PID file (no events then). */
  readonly hit: 'event' | 'pid file' | undefined;
  readonly report: HostReport;
  readonly changed: readonly string[];
  readonly torn: readonly string[];
  /** Prepared temporaries the case left (a SIGKILL before the commit); the next run removes them. */
  readonly temporaries: readonly string[];
  /** Packages the case left installed before the commit, removed again for the next case. */
  readonly packagesLeft: readonly string[];
  readonly stateChanged: boolean;
  readonly staleLock: boolean;
  readonly problems: readonly string[];
}

let bundle: BundleChoice;
let factory: DeployProgramFactory;
let inventoryHosts: InventoryHost[];
let hosts: Record<Mode, LabHost>;
/** The case running on each host: what to do when its stage's first handler starts. */
interface Armed {
  readonly stage: Stage;
  readonly onHit: (close: () => void) => Promise<void>;
  hit: 'event' | 'pid file' | undefined;
  close?: () => void;
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

async function runCase(mode: Mode, stage: Stage): Promise<Outcome> {
  const host = hosts[mode];
  const pauseMs = mode === 'engine' ? 1_500 : 10_000;
  await labExec(host, `rm -f ${PID_FILE}; printf '${stage}\\n${pauseMs}\\n' >${REQUEST}`, { check: true });
  const files = sums(await q(host, FILES_CMD));
  const state = await q(host, STATE_CMD);
  const packages = (await q(host, PACKAGES_CMD)).split('\n').filter((l) => l !== '');
  const problems: string[] = [];
  const arm: Armed = {
    stage,
    hit: undefined,
    onHit: async (close) => {
      if (mode === 'engine') return close();
      // The installer writes its PID as the handler starts; kill it while it pauses.
      const ok = await until(async () => (await labExec(host, ['test', '-s', PID_FILE])).code === 0, 5_000);
      if (!ok) problems.push('no PID file');
      const kill = await labExec(host, `kill -9 $(cat ${PID_FILE})`);
      if (kill.code !== 0) problems.push(`kill: ${kill.stderr.trim()}`);
    },
  };
  armed.set(host.name, arm);
  // Boot and init run before the plan is announced, reboot after the dialog closed: no events
  // there. The PID file the pause writes times the cut or kill then.
  let deploying = true;
  const watcher = (async () => {
    while (deploying && arm.hit === undefined) {
      if ((await labExec(host, ['test', '-s', PID_FILE])).code === 0 && arm.hit === undefined) {
        arm.hit = 'pid file';
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
  await labExec(host, ['rm', '-f', REQUEST]);

  // The installer is gone (after a cut it notices the closed connection, rolls back and exits).
  const pid = (await q(host, `cat ${PID_FILE} 2>/dev/null`)).trim();
  if (pid !== '' && !(await until(async () => (await labExec(host, ['kill', '-0', pid])).code !== 0, 20_000)))
    problems.push(`installer ${pid} still running`);
  const after = sums(await q(host, FILES_CMD));
  const changedAll = [...new Set([...files.keys(), ...after.keys()])].filter((f) => files.get(f) !== after.get(f));
  // Temporaries an earlier case left are the next run's to remove (journal recovery).
  const temporaries = changedAll.filter((f) => TEMPORARY.test(f) && after.has(f));
  let changed = changedAll.filter((f) => !TEMPORARY.test(f));
  const torn: string[] = [];
  for (const f of changed) {
    if (!after.has(f)) continue; // removed: checked below with the rest of the state
    if ((await labExec(host, ['sh', '-c', VALID_CMD, 'valid', f])).code !== 0) torn.push(f);
  }
  const staleLock = (await labExec(host, ['test', '-e', LOCK])).code === 0;
  const committed = STAGE_INFO[stage].index > STAGE_INFO.transaction_end.index;
  // Torn files and temporaries are judged as the kill left them; the rest as the next run
  // finds it: its boot recovers the journal a SIGKILL left (recorded package undo included).
  let now = after;
  if (mode === 'host' && !committed) {
    await nextRunBoot(host);
    now = sums(await q(host, FILES_CMD));
    changed = [...new Set([...files.keys(), ...now.keys()])].filter(
      (f) => files.get(f) !== now.get(f) && !TEMPORARY.test(f),
    );
  }
  const removed = changed.filter((f) => !now.has(f));
  const stateChanged = (await q(host, STATE_CMD)) !== state;
  const packagesLeft = committed
    ? []
    : (await q(host, PACKAGES_CMD)).split('\n').filter((l) => l !== '' && !packages.includes(l));

  if (!hit) problems.push('the stage was never announced');
  if (torn.length > 0) problems.push(`torn: ${torn.join(', ')}`);
  if (removed.length > 0) problems.push(`removed: ${removed.join(', ')}`);
  if (!committed && changed.length > 0) problems.push(`changed before the commit: ${changed.join(', ')}`);
  if (packagesLeft.length > 0) problems.push(`packages left installed: ${packagesLeft.join(', ')}`);
  if (!committed && stateChanged) problems.push('services or firewall changed before the commit');
  // A cut leaves no lock (the installer exits through its clean-up); a SIGKILL leaves a stale one by nature.
  if (mode === 'engine' && staleLock) problems.push('run lock left behind');
  // Before the first banner the engine says `Installer start`; at reboot the dialog is closed, so
  // the last stage it heard of is Termination.
  const expectedStage =
    stage === 'boot'
      ? 'Installer start'
      : stage === 'reboot'
        ? STAGE_INFO.terminate.description
        : STAGE_INFO[stage].description;
  if (report.result !== 'failed') problems.push(`engine says ${report.result}`);
  if (report.stage !== expectedStage) problems.push(`engine says stage "${report.stage}"`);
  if (report.log === undefined || !existsSync(report.log)) problems.push('no engine log');
  if (packagesLeft.length > 0) {
    // Back to the baseline for the next case: the packages out again (their postrm masks the unit).
    await labExec(
      host,
      `apt-get purge -y -q ${packagesLeft.join(' ')} >/dev/null 2>&1; systemctl unmask vdsmd >/dev/null 2>&1; true`,
    );
  }
  return { stage, mode, hit, report, changed, torn, temporaries, packagesLeft, stateChanged, staleLock, problems };
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
      for (const stage of CHOSEN) out.push(await runCase(mode, stage));
      return out;
    };
    const [engineCases, hostCases] = await Promise.all([series('engine'), series('host')]);
    const seconds = (performance.now() - started) / 1000;

    for (const o of [...engineCases, ...hostCases]) {
      console.log(
        `${o.mode.padEnd(6)} ${o.stage.padEnd(18)} (${o.hit ?? 'not reached'}) ${o.problems.length === 0 ? 'clean' : 'NOT CLEAN'}: engine ${o.report.result} at "${o.report.stage}" (${o.report.lastHandler ?? '-'})` +
          `; ${o.changed.length} files changed${o.temporaries.length > 0 ? `, ${o.temporaries.length} prepared temporaries left` : ''}${o.stateChanged ? ', services/firewall changed' : ''}${o.staleLock ? ', stale lock' : ''}` +
          `${o.problems.length === 0 ? '' : `; ${o.problems.join('; ')}`}`,
      );
    }
    const clean = (list: Outcome[]): number => list.filter((o) => o.problems.length === 0).length;
    const all = [...engineCases, ...hostCases];
    const unreached = all.filter((o) => o.hit === undefined).map((o) => `${o.mode} ${o.stage}`);
    const leftTemporaries = all.filter((o) => o.temporaries.length > 0).map((o) => `${o.mode} ${o.stage}`);
    const byPid = [...new Set(all.filter((o) => o.hit === 'pid file').map((o) => o.stage))];

    // The undisturbed deploy after all that: no stale lock, no half state.
    const finals = await Promise.all([deploy('engine'), deploy('host')]);
    for (const [i, r] of finals.entries()) {
      expect(r, JSON.stringify(r)).toMatchObject({ result: 'installed' });
      const h = i === 0 ? hosts.engine : hosts.host;
      expect(await q(h, 'systemctl is-enabled vdsmd; systemctl is-active vdsmd')).toBe('enabled\nactive\n');
      expect((await labExec(h, ['test', '-e', LOCK])).code).not.toBe(0);
      // The temporaries a killed run left are gone: the next run's recovery removed them.
      expect(
        (await q(h, FILES_CMD.replace(' | xargs -r sha256sum', ''))).split('\n').filter((f) => TEMPORARY.test(f)),
      ).toEqual([]);
    }

    const line =
      `fault matrix: ${clean(engineCases)}/${CHOSEN.length} stages clean (engine kill), ${clean(hostCases)}/${CHOSEN.length} stages clean (host kill)` +
      `; a following undisturbed deploy: ${finals.filter((r) => r.result === 'installed').length}/2 installed` +
      (leftTemporaries.length === 0
        ? ''
        : `; prepared temporaries left until the next run: ${leftTemporaries.join(', ')}`) +
      (byPid.length === 0 ? '' : `; ${byPid.join(', ')} announce no events: timed by the installer's PID file`) +
      (unreached.length === 0 ? '' : `; not reached: ${unreached.join(', ')}`) +
      ` (${seconds.toFixed(0)} s)`;
    recordFigure({
      item: 'fault-matrix',
      part: 'host-deploy',
      line,
      ok: clean(engineCases) + clean(hostCases),
      total: engineCases.length + hostCases.length,
      data: { engine: clean(engineCases), host: clean(hostCases), stages: CHOSEN.length },
    });
    // Every case ran to a report.
    expect(engineCases.length + hostCases.length).toBe(2 * CHOSEN.length);
    // No file is ever torn, whatever the kill.
    expect(all.filter((o) => o.torn.length > 0).map((o) => `${o.mode} ${o.stage}: ${o.torn.join(', ')}`)).toEqual([]);
    // A cut connection always leaves the host as it was, or fully committed.
    expect(engineCases.filter((o) => o.problems.length > 0).map((o) => `${o.stage}: ${o.problems.join('; ')}`)).toEqual(
      [],
    );
    // A SIGKILL of the installer after the packages stage and before the commit ended leaves
    // what the packages stage installed until the next run: its boot runs the package undo the
    // packagers journalled (nextRunBoot), so every host case is clean once the next run started.
    expect(hostCases.filter((o) => o.problems.length > 0).map((o) => `${o.stage}: ${o.problems.join('; ')}`)).toEqual(
      [],
    );
  }, 900_000);
});
