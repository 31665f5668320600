// A SIGKILL of the installer while the package manager itself runs (docs/reliability.md,
// "Package manager kills"): the next run must find the package manager interrupted, repair
// it, undo the package change from the journal and say so, with no manual step; and the host
// must end as it was, account files included (`vdsm` and `kvm`, which the package's scripts
// add, are gone again, and /etc/passwd, group, shadow, gshadow and their `-` backups are
// byte-identical).
// The lab's fake packages hold a maintainer script on a FIFO while it exists (vdsm's postinst
// for dpkg, vdsm's %post for rpm), so the kill lands mid-transaction for sure. The kill takes
// the installer and the package manager under it (node, apt-get and dpkg; node and dnf, which
// runs rpm in its own process), as the end of a session or an OOM kill does; a held dpkg
// script then carries on by itself, as a real one would.
// The installer runs over SSH with the base group and the `basetest` fixture (remote-cli.ts);
// host state is read with labExec. Hosts: HOSTS.reliabilityPackageKill (apt, dnf).
import { mkdir, writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../../lab/allocation.js';
import { type LabHost, hostRootPath, labExec, labHost } from '../../lab/lab.js';
import { installCli, runOtopi, type RemoteRun } from '../../integration/support/remote-cli.js';
import { recordFigure } from '../support/figures.js';
import { type HostState, hostState, stateDiff } from './host-state.js';

const DPKG_HOLD = '/run/otopi-lab-dpkg-hold';
const RPM_HOLD = '/run/otopi-lab-rpm-hold';
const DNF = 'PACKAGER/packager=str:dnf';
/**
 * Landed randomized kills per package manager: OTOPI_RANDOM_KILLS (`npm run reliability` sets 5,
 * or 50 in long mode), else 2 (`npm test`); trials go on until that many landed, at most three
 * times as many trials.
 */
const TRIALS = Number(process.env['OTOPI_RANDOM_KILLS'] ?? '2');

const ok = (run: RemoteRun): void => expect(run.code, `${run.stdout}\n${run.stderr}\n${run.log.slice(-3000)}`).toBe(0);

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** Whether a process runs whose command line contains `text` (read from /proc). */
const running = async (host: LabHost, text: string): Promise<boolean> =>
  (await labExec(host, `ps -eo args | grep -F -- '${text}' | grep -v grep`)).code === 0;

/**
 * SIGKILL of the installer (the holder of the run lock) and of the processes `depth` levels
 * under it; returns what was killed.
 */
async function killInstaller(host: LabHost, depth: number, must = true): Promise<string> {
  const r = await labExec(
    host,
    `node=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p' /var/lib/otopi/run.lock 2>/dev/null)
     [ -n "$node" ] || exit ${must ? 1 : 0}
     all=$node level=$node
     for i in $(seq 2 ${depth}); do
       next=; for p in $level; do next="$next $(ps -o pid= --ppid "$p")"; done
       level=$next; all="$all $next"
     done
     ps -o comm= -p "$(echo $all | tr ' ' ,)" | tr '\\n' ' '
     kill -9 $all${must ? '' : ' 2>/dev/null; true'}`,
  );
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

interface RandomTrial {
  readonly landed: boolean;
  readonly verdict: 'as before' | 'complete' | 'half';
  readonly problems: readonly string[];
}

/**
 * Randomized SIGKILLs of the installer and everything under it (the package manager, its
 * scripts), at a random moment within a clean run's length; then the next run (which must
 * succeed), and the host as before or as the clean run left it. `reset` puts it back to
 * before after a complete run.
 */
async function randomKills(
  host: LabHost,
  statements: readonly string[],
  reset: string,
  label: string,
): Promise<RandomTrial[]> {
  const pristine = await hostState(host);
  const clean = await runOtopi(host, statements, { groups: ['basetest'] });
  ok(clean);
  const complete = await hostState(host);
  await labExec(host, reset, { check: true, timeoutMs: 120_000 });
  const trials: RandomTrial[] = [];
  // Trials go on until TRIALS kills landed (a kill after the run ended, or before its target
  // started, does not count), at most 3 × TRIALS trials.
  for (let i = 0; trials.filter((t) => t.landed).length < TRIALS && i < 3 * TRIALS; i++) {
    const before = await hostState(host);
    const problems: string[] = [];
    const notFresh = stateDiff(pristine, before);
    if (notFresh.length > 0) problems.push(`not fresh: ${notFresh.slice(0, 5).join('; ')}`);
    let ended = false;
    const run = runOtopi(host, statements, { groups: ['basetest'] }).finally(() => (ended = true));
    await new Promise((r) => setTimeout(r, Math.random() * clean.seconds * 1000));
    const killed = ended ? '' : await killInstaller(host, 9, false);
    const landed = killed !== '' && !ended;
    await run;
    // Scripts that outlived the kill finish on their own (the next run's check waits for them too).
    const next = await runOtopi(
      host,
      statements.filter((st) => st.startsWith('PACKAGER/')),
      { groups: ['basetest'] },
    );
    if (next.code !== 0) problems.push(`the next run failed: ${next.stdout.split('\n').slice(-4).join(' / ')}`);
    const after = await hostState(host);
    const verdict =
      stateDiff(before, after).length === 0
        ? 'as before'
        : stateDiff(complete, after).length === 0
          ? 'complete'
          : 'half';
    if (verdict === 'half') problems.push(`half: ${stateDiff(before, after).slice(0, 8).join('; ')}`);
    console.log(
      `${label} #${i + 1}: ${landed ? `killed ${killed}` : 'did not land'}; ${verdict}${problems.length > 0 ? `; ${problems.join('; ')}` : ''}`,
    );
    trials.push({ landed, verdict, problems });
    if (verdict !== 'as before') await labExec(host, reset, { check: true, timeoutMs: 120_000 });
  }
  const landed = trials.filter((t) => t.landed);
  const good = landed.filter((t) => t.problems.length === 0);
  const n = (v: RandomTrial['verdict']): number => landed.filter((t) => t.verdict === v).length;
  recordFigure({
    item: 'package-kill',
    part: label,
    line: `${label} random kills ${good.length}/${landed.length} landed kills clean (${n('as before')} as before, ${n('complete')} complete; ${trials.length - landed.length} of ${trials.length} did not land)`,
    ok: good.length,
    total: landed.length,
  });
  return trials;
}

describe('a SIGKILL while the package manager runs: the next run repairs it and undoes the change', () => {
  let apt: LabHost;
  let dnf: LabHost;

  beforeAll(async () => {
    apt = labHost(HOSTS.reliabilityPackageKill[0]);
    dnf = labHost(HOSTS.reliabilityPackageKill[1]);
    await Promise.all([installCli(apt), installCli(dnf)]);
    // dnf and rpm from the Debian mirror (through the lab's apt proxy), and the lab's rpm repo.
    await labExec(dnf, ['cp', '/etc/apt/otopi-lab-debian.list', '/etc/apt/sources.list.d/debian.list'], {
      check: true,
    });
    await labExec(dnf, 'apt-get update -qq && apt-get install -y -qq dnf rpm >/dev/null', {
      env: { DEBIAN_FRONTEND: 'noninteractive' },
      check: true,
      timeoutMs: 300_000,
    });
    const sw = dnf.labAddress.replace(/\.\d+$/, '.1');
    await mkdir(hostRootPath(dnf, '/etc/yum.repos.d'), { recursive: true });
    await writeFile(
      hostRootPath(dnf, '/etc/yum.repos.d/otopi-lab.repo'),
      `[otopi-lab]\nname=otopi lab\nbaseurl=http://${sw}:8080/rpm/\nenabled=1\ngpgcheck=0\n`,
    );
    await mkdir(hostRootPath(dnf, '/etc/dnf/vars'), { recursive: true });
    await writeFile(hostRootPath(dnf, '/etc/dnf/vars/releasever'), '9\n');
  }, 360_000);

  it('apt: killed while dpkg configures vdsm, the next run runs dpkg --configure -a, purges, puts the accounts back', async () => {
    const before: HostState = await hostState(apt);
    await labExec(apt, ['mkfifo', DPKG_HOLD], { check: true });
    const killed = runOtopi(apt, ['BASETEST/install=multi-str:ovirt-host'], { groups: ['basetest'] });
    // vdsm's postinst waits on the FIFO: dpkg is mid-configure (ovirt-imageio-daemon is set up, the rest unpacked).
    expect(await until(() => running(apt, `cat ${DPKG_HOLD}`), 60_000)).toBe(true);
    expect(await killInstaller(apt, 3)).toMatch(/node.*apt-get.*dpkg/);
    // The script goes on alone: it adds vdsm and kvm and starts vdsmd; dpkg never hears of it.
    await labExec(apt, `echo >${DPKG_HOLD}; rm -f ${DPKG_HOLD}`, { check: true });
    const run = await killed;
    expect(run.code).not.toBe(0);
    expect(await until(async () => !(await running(apt, 'postinst')), 30_000)).toBe(true);
    // What the kill left: dpkg interrupted, so apt-get refuses everything until someone repairs it.
    expect((await labExec(apt, 'dpkg --audit')).stdout).toMatch(/not yet configured|half/);
    expect((await labExec(apt, 'apt-get check')).stderr).toContain('dpkg was interrupted');
    expect((await labExec(apt, 'getent passwd vdsm')).code).toBe(0);

    const next = await runOtopi(apt, [], { groups: ['basetest'] });
    ok(next);
    expect(next.stdout).toMatch(/dpkg was interrupted \(packages left half-way: .*i[UF] /);
    expect(next.stdout).toMatch(/repaired with .*dpkg .*--configure -a/);
    expect(next.stdout).toContain('Recovered from an interrupted earlier run: rolled-back');
    expect(next.log).toMatch(/Recovery: dpkg was left interrupted by the killed run/);
    expect(stateDiff(before, await hostState(apt))).toEqual([]);
  }, 300_000);

  it('apt: a maintainer script the kill missed runs on; the next run waits for it, then repairs and undoes', async () => {
    const before: HostState = await hostState(apt);
    await labExec(apt, ['mkfifo', DPKG_HOLD], { check: true });
    const killed = runOtopi(apt, ['BASETEST/install=multi-str:ovirt-host'], { groups: ['basetest'] });
    expect(await until(() => running(apt, `cat ${DPKG_HOLD}`), 60_000)).toBe(true);
    // node, apt-get and dpkg die; vdsm's postinst is still held, as a script started after the
    // killer listed the processes would be.
    expect(await killInstaller(apt, 3)).toMatch(/node.*apt-get.*dpkg/);
    expect((await killed).code).not.toBe(0);
    expect(await running(apt, 'vdsm.postinst')).toBe(true);
    // The next run starts while the script runs; it must not repair or undo beside it. The
    // script is let go once the next run's check is seen waiting (or the run has ended, which
    // is a failure below).
    let ended = false;
    const next = runOtopi(apt, [], { groups: ['basetest'] }).finally(() => (ended = true));
    await until(async () => ended || (await running(apt, 'what dpkg left half-way')), 120_000);
    await new Promise((r) => setTimeout(r, 2000));
    await labExec(apt, `echo >${DPKG_HOLD}; rm -f ${DPKG_HOLD}`, { check: true });
    const run = await next;
    ok(run);
    expect(run.stdout).toMatch(/waited for what the killed run left running to end: vdsm\.postinst/);
    expect(run.stdout).toContain('Recovered from an interrupted earlier run: rolled-back');
    // The script added vdsm and kvm and started vdsmd before the undo: all of it is gone again.
    expect(stateDiff(before, await hostState(apt))).toEqual([]);
  }, 300_000);

  it('apt: a failure after the install puts the accounts back byte for byte in the same run', async () => {
    const before = await hostState(apt);
    const run = await runOtopi(apt, ['BASETEST/install=multi-str:ovirt-host', 'BASETEST/failAt=str:misc'], {
      groups: ['basetest'],
    });
    expect(run.code).not.toBe(0);
    expect(run.log).toContain('account files put back as before the package change (it added passwd: vdsm');
    expect(stateDiff(before, await hostState(apt))).toEqual([]);
  }, 300_000);

  it('dnf: killed in the middle of an rpm upgrade, the next run finishes it and undoes the transaction', async () => {
    await labExec(dnf, 'dnf -y -q install vdsm-4.50.1 >/dev/null && rm -f /var/lib/vdsm-rpm-fake/scriptlets', {
      check: true,
      timeoutMs: 120_000,
    });
    const before = await hostState(dnf);
    await labExec(dnf, ['mkfifo', RPM_HOLD], { check: true });
    const killed = runOtopi(dnf, [DNF, 'BASETEST/install=multi-str:vdsm-client'], { groups: ['basetest'] });
    // vdsm 4.50.2's %post waits on the FIFO inside rpm: both versions of vdsm are in the rpm database.
    expect(
      await until(
        async () =>
          (await labExec(dnf, 'rpm -q vdsm | wc -l')).stdout.trim() === '2' &&
          (await running(dnf, 'install --best vdsm-client')),
        120_000,
      ),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(await killInstaller(dnf, 2)).toMatch(/node.*dnf/);
    await labExec(dnf, ['rm', '-f', RPM_HOLD], { check: true });
    expect((await killed).code).not.toBe(0);
    // What the kill left: two versions of vdsm, and an unfinished transaction in dnf's history.
    expect((await labExec(dnf, 'rpm -q vdsm')).stdout.trim().split('\n')).toEqual([
      'vdsm-4.50.1-1.noarch',
      'vdsm-4.50.2-1.noarch',
    ]);

    const next = await runOtopi(dnf, [DNF], { groups: ['basetest'] });
    ok(next);
    expect(next.stdout).toMatch(/rpm was interrupted \(packages recorded twice in the rpm database .*vdsm\.noarch/);
    expect(next.stdout).toContain('Recovered from an interrupted earlier run: rolled-back');
    expect((await labExec(dnf, 'rpm -q vdsm vdsm-client')).stdout).toBe(
      'vdsm-4.50.1-1.noarch\npackage vdsm-client is not installed\n',
    );
    expect((await labExec(dnf, 'cat /usr/share/vdsm-rpm-fake/VERSION')).stdout).toBe('4.50.1-1\n');
    // dnf's own history grew (the undo is a transaction of its own); everything else is as before.
    const diff = stateDiff(before, await hostState(dnf)).filter((d) => !d.includes('/var/lib/dnf'));
    expect(diff).toEqual([]);
  }, 300_000);

  it(
    'apt and dnf: randomized kills of the installer and its package manager leave the host as before or complete',
    async () => {
      await labExec(
        apt,
        'cp -p /etc/passwd /etc/group /etc/shadow /etc/gshadow /root/ && for f in passwd group shadow gshadow; do cp -p /etc/$f- /root/$f- 2>/dev/null; done; true',
        { check: true },
      );
      const aptReset =
        // dpkg repaired first, whatever a failed trial left: a purge refuses to run on an interrupted dpkg.
        'export DEBIAN_FRONTEND=noninteractive; dpkg --configure -a >/dev/null 2>&1; apt-get -f install -y -q >/dev/null 2>&1; ' +
        `apt-get purge -y -q ${'vdsm vdsm-client ovirt-host ovirt-imageio-daemon'} >/dev/null 2>&1; ` +
        'for f in passwd group shadow gshadow; do cp -p /root/$f /etc/$f; if [ -e /root/$f- ]; then cp -p /root/$f- /etc/$f-; else rm -f /etc/$f-; fi; done';
      const dnfReset =
        'dnf -y -q remove vdsm-client >/dev/null 2>&1; dnf -y -q install vdsm-4.50.1 >/dev/null 2>&1; rpm -q vdsm-4.50.1 >/dev/null';
      const [aptTrials, dnfTrials] = await Promise.all([
        randomKills(apt, ['BASETEST/install=multi-str:ovirt-host'], aptReset, 'apt'),
        randomKills(dnf, [DNF, 'BASETEST/install=multi-str:vdsm-client'], dnfReset, 'dnf'),
      ]);
      const bad = [...aptTrials, ...dnfTrials].filter((t) => t.problems.length > 0).map((t) => t.problems.join('; '));
      expect(bad).toEqual([]);
    },
    4 * 60 * 60_000,
  );
});
