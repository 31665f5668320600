// Randomized kills of a host-deploy run (docs/reliability.md, "Randomized kills"): `otopi
// deploy --group host-deploy` (the built CLI, a child process) on a fresh host, and at a random
// moment within the part of a clean deploy when the fault's target exists (`killWindow`), one of
// four faults, each on a host of its own:
// - installer: SIGKILL of the installer on the host and of every process under it (apt-get,
//   dpkg, maintainer scripts: a kill can land mid-dpkg), as an OOM kill or a cgroup stop does;
// - engine: SIGKILL of the `otopi deploy` process;
// - ssh: SIGKILL of the host's sshd processes serving the session;
// - network: SIGKILL of the lab forwarder's connection to the host (the TCP path is gone).
// A kill "landed" when the deploy had not ended and the kill found its target; the others are
// counted apart. Then the next run starts (the installer left in the host's cache, input
// closed: its boot takes over a stale lock and recovers the journal; lock-recovery as the next
// deploy does it) and the whole host (host-state.ts) must be byte-identical to before the
// deploy, or equal to a clean deploy's result: never a half state, with no manual step. A
// complete host is put back to fresh for the next trial (packages purged, /etc as saved, the
// host restarted). At the end an undisturbed deploy installs each host.
// Landed kills per fault: OTOPI_RANDOM_KILLS (`npm run reliability` sets 5, or 50 in long mode),
// else 2 (`npm test`); trials go on until that many landed, at most three times as many trials.
// Hosts: HOSTS.reliabilityRandomKill (one per fault).
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { engineDefaults } from '../../integration/support/host-deploy-lab.js';
import { type DeployRun, runDeploy, writeInventory } from '../../integration/support/deploy-lab.js';
import { HOSTS } from '../../lab/allocation.js';
import { type LabHost, labExec, labHost, labStateDir, restartHost } from '../../lab/lab.js';
import { recordFigure } from '../support/figures.js';
import { comparable, hostState, stateDiff } from './host-state.js';

type Fault = 'installer' | 'engine' | 'ssh' | 'network';
const FAULTS: readonly Fault[] = ['installer', 'engine', 'ssh', 'network'];
const TRIALS = Number(process.env['OTOPI_RANDOM_KILLS'] ?? '2');
const LOCK = '/var/lib/otopi/run.lock';
const PRISTINE = '/root/otopi-pristine-etc.tar';
const PACKAGES = 'vdsm vdsm-client ovirt-host ovirt-imageio-daemon';

interface Trial {
  readonly delayMs: number;
  readonly landed: boolean;
  readonly killed: string;
  readonly verdict: 'as before' | 'complete' | 'completed by the next run' | 'half';
  readonly problems: readonly string[];
}

const work = mkdtempSync(join(tmpdir(), 'otopi-random-kill-'));
const deployArgs = (host: LabHost): string[] => [
  '--group',
  'host-deploy',
  '--ca-dir',
  // A CA per host: the series run at once, and a CA folder shared by new deploys is another matter.
  join(work, `ca-${host.name}`),
  '--vdsm-id-registry',
  join(work, `ids-${host.name}`),
];

/** Kills the fault's target; returns what it killed ('' when it found nothing to kill). */
async function strike(fault: Fault, host: LabHost, engine: ChildProcess): Promise<string> {
  if (fault === 'engine') return engine.kill('SIGKILL') ? 'otopi deploy' : '';
  if (fault === 'network') {
    const pid = readFileSync(join(labStateDir(), 'hosts', host.name, 'forwarder.pid'), 'utf8').trim();
    // Our own lab's processes, by PID: the forwarder's children are its connections.
    const r = await labRoot(
      `kids=$(ps -o pid= --ppid ${pid}); [ -n "$kids" ] && kill -9 $kids && echo forwarder connection`,
    );
    return r.trim();
  }
  const script =
    fault === 'installer'
      ? `node=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p' ${LOCK} 2>/dev/null); [ -n "$node" ] || exit 0
         all=$node level=$node
         while [ -n "$level" ]; do next=; for p in $level; do next="$next $(ps -o pid= --ppid "$p")"; done
           level=$(echo $next); all="$all $level"; done
         ps -o comm= -p "$(echo $all | tr ' ' ,)" | tr '\\n' ' '; kill -9 $all`
      : `pids=$(ps -eo pid,args | awk '/sshd: root/ && !/awk/ {print $1}'); [ -n "$pids" ] || exit 0
         echo "sshd session"; kill -9 $pids`;
  return (await labExec(host, script)).stdout.trim();
}

/** A script in the root namespace (the lab's own processes). */
function labRoot(script: string): Promise<string> {
  return new Promise((resolve) => execFile('/bin/sh', ['-c', script], (_e, stdout) => resolve(stdout)));
}

/** The next run's start: the cached installer with its input closed (recovers, then ends). */
async function nextRunBoot(host: LabHost): Promise<void> {
  await labExec(
    host,
    `for b in /var/cache/otopi/bundles/*/bin/otopi; do [ -x "$b" ] || continue
       n=$(ls -d /var/cache/otopi/runtimes/*/bin/node 2>/dev/null | head -1); [ -n "$n" ] && export OTOPI_NODE=$n
       "$b" DIALOG/dialect=str:machine </dev/null >/dev/null 2>&1; break; done; true`,
    { timeoutMs: 300_000 },
  );
}

/** Back to fresh: packages purged, /etc as saved, otopi's state gone, the host restarted. */
async function reset(host: LabHost): Promise<void> {
  await labExec(
    host,
    `export DEBIAN_FRONTEND=noninteractive
     dpkg --configure -a >/dev/null 2>&1; apt-get -f install -y -q >/dev/null 2>&1
     apt-get purge -y -q ${PACKAGES} >/dev/null 2>&1
     cd / && tar -tf ${PRISTINE} | sed 's#/$##' | sort >/root/pristine.list
     find etc usr/libexec/vdsm 2>/dev/null | sort | comm -13 /root/pristine.list - | sort -r | xargs -r rm -rf
     tar -C / -xpf ${PRISTINE}; rm -rf /var/lib/otopi /var/lib/vdsm /var/log/vdsm`,
    { check: true, timeoutMs: 300_000 },
  );
  await restartHost(host);
}

async function untilGone(host: LabHost): Promise<boolean> {
  const end = Date.now() + 120_000;
  while (Date.now() < end) {
    const r = await labExec(
      host,
      `p=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p' ${LOCK} 2>/dev/null); [ -n "$p" ] && kill -0 $p 2>/dev/null && exit 1
       ps -eo comm | grep -qx -e dpkg -e apt-get && exit 1; exit 0`,
    );
    if (r.code === 0) return true;
    await new Promise((r2) => setTimeout(r2, 200));
  }
  return false;
}

/**
 * When, from the start of a deploy, the fault's target exists, from the clean deploy's events:
 * the engine from its start; the SSH session and the network path from the connection; the
 * installer from its first stage; each up to the host's end. Kills are drawn in that window, so
 * most land; those that still find nothing are counted apart.
 */
function killWindow(fault: Fault, clean: DeployRun, startedAt: number): [number, number] {
  const at = (type: string): number | undefined => {
    const e = clean.events.find((ev) => ev.type === type);
    return e === undefined ? undefined : Date.parse(e.at) - startedAt;
  };
  const end = at('host-end') ?? clean.seconds * 1000;
  const from = fault === 'engine' ? 0 : fault === 'installer' ? at('stage') : at('connected');
  return [Math.max(0, Math.min(from ?? 0, end)), end];
}

async function series(fault: Fault, host: LabHost): Promise<{ trials: Trial[]; final: DeployRun }> {
  const inventory = writeInventory([host], {
    defaults: engineDefaults(),
    extra: { [host.name]: [`host_fqdn = ${host.name}.lab`] },
  });
  await labExec(
    host,
    `mkdir -p /etc/network && printf 'auto eth0\\niface eth0 inet static\\n    address ${host.labAddress}/24\\n' > /etc/network/interfaces
     tar -C / -cpf ${PRISTINE} etc`,
    { check: true },
  );
  const fresh = await hostState(host);
  // The first deploy ships the bundle into the host's cache (kept by reset()); the second, a
  // clean deploy like the trials', bounds the random delays, and its result is what "complete" means.
  const first = await runDeploy(inventory, deployArgs(host));
  expect(first.code, first.stdout + first.stderr).toBe(0);
  await reset(host);
  const cleanStart = Date.now();
  const clean = await runDeploy(inventory, deployArgs(host));
  expect(clean.code, clean.stdout + clean.stderr).toBe(0);
  const window = killWindow(fault, clean, cleanStart);
  const reference = await comparable(host, await hostState(host));
  await reset(host);
  const trials: Trial[] = [];
  // Trials go on until TRIALS kills landed (a kill after the run ended, or before its target
  // started, does not count), at most 3 × TRIALS trials.
  for (let i = 0; trials.filter((t) => t.landed).length < TRIALS && i < 3 * TRIALS; i++) {
    const before = await hostState(host);
    const problems: string[] = [];
    const notFresh = stateDiff(fresh, before);
    if (notFresh.length > 0) problems.push(`not fresh before the trial: ${notFresh.slice(0, 6).join('; ')}`);
    const [from, to] = window;
    const delayMs = from + Math.random() * (to - from);
    let child: ChildProcess | undefined;
    let ended = false;
    const run = runDeploy(inventory, deployArgs(host), {}, { onChild: (c) => (child = c) }).finally(
      () => (ended = true),
    );
    await new Promise((r) => setTimeout(r, delayMs));
    const wasRunning = !ended;
    const killed = wasRunning && child !== undefined ? await strike(fault, host, child) : '';
    await run;
    if (!(await untilGone(host))) problems.push('the installer or dpkg still runs');
    await nextRunBoot(host);
    const after = await hostState(host);
    const diff = stateDiff(before, after);
    let verdict: Trial['verdict'] = 'as before';
    if (diff.length > 0) {
      let off = stateDiff(reference, await comparable(host, after));
      verdict = off.length === 0 ? 'complete' : 'half';
      if (verdict === 'half') {
        // Past the commit, its later stages cut (services not started yet): the next run, an
        // undisturbed deploy, must leave the host fully deployed.
        const next = await runDeploy(inventory, deployArgs(host));
        off = stateDiff(reference, await comparable(host, await hostState(host)));
        if (next.code === 0 && off.length === 0) verdict = 'completed by the next run';
      }
      if (verdict === 'half')
        problems.push(
          `neither as before nor complete: ${off.slice(0, 10).join('; ')} (vs before: ${diff.slice(0, 10).join('; ')})`,
        );
    }
    const trial = { delayMs, landed: wasRunning && killed !== '', killed, verdict, problems };
    console.log(
      `${fault} #${i + 1} at ${(delayMs / 1000).toFixed(2)} s: ${trial.landed ? `killed ${killed}` : 'did not land'}; ${verdict}${problems.length > 0 ? `; ${problems.join('; ')}` : ''}`,
    );
    trials.push(trial);
    if (verdict !== 'as before') await reset(host);
  }
  const final = await runDeploy(inventory, deployArgs(host));
  return { trials, final };
}

describe('randomized kills of a host-deploy run: every host ends as before or fully deployed', () => {
  const hosts = {} as Record<Fault, LabHost>;
  beforeAll(() => {
    FAULTS.forEach((f, i) => (hosts[f] = labHost(HOSTS.reliabilityRandomKill[i]!)));
  });

  it(
    `${TRIALS} random kills each of the installer, the engine, the SSH session and the network`,
    async () => {
      const started = performance.now();
      const results = await Promise.all(FAULTS.map((f) => series(f, hosts[f])));
      const minutes = (performance.now() - started) / 60_000;
      const parts = FAULTS.map((f, i) => {
        const { trials } = results[i]!;
        const landed = trials.filter((t) => t.landed);
        const ok = landed.filter((t) => t.problems.length === 0);
        const as = (v: Trial['verdict']): number => landed.filter((t) => t.verdict === v).length;
        return {
          f,
          trials,
          landed,
          ok,
          line: `${f} ${ok.length}/${landed.length} (${as('as before')} as before, ${as('complete')} complete; ${trials.length - landed.length} of ${trials.length} did not land)`,
        };
      });
      const line =
        `random kills: ${parts.map((p) => p.line).join(', ')}; ` +
        `then an undisturbed deploy: ${results.filter((r) => r.final.code === 0).length}/${FAULTS.length} installed (${minutes.toFixed(1)} min)`;
      recordFigure({
        item: 'random-kill',
        part: 'host-deploy',
        line,
        ok: parts.reduce((n, p) => n + p.ok.length, 0),
        total: parts.reduce((n, p) => n + p.landed.length, 0),
        data: Object.fromEntries(
          parts.flatMap((p) => [
            [`${p.f}Landed`, p.landed.length],
            [`${p.f}Trials`, p.trials.length],
          ]),
        ),
      });
      for (const [i, r] of results.entries()) expect(r.final.code, `${FAULTS[i]}: ${r.final.stdout}`).toBe(0);
      // Every trial, landed or not, leaves the host as before or complete once the next run started.
      const bad = parts.flatMap((p) =>
        p.trials.filter((t) => t.problems.length > 0).map((t) => `${p.f}: ${t.problems.join('; ')}`),
      );
      expect(bad).toEqual([]);
    },
    4 * 60 * 60_000,
  );
});
