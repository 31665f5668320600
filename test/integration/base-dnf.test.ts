// The base group's dnf packager against a real dnf (4.14, Debian's) on a lab host, driven by the
// fixture group 'basetest' over SSH like the apt test (base-packages.test.ts). The host installs
// dnf and rpm from the Debian mirror through the lab's apt proxy (OTOPI_LAB_APT_PROXY=1) and gets
// the lab's rpm repository (test/lab/packages/rpm.sh, served at /rpm/). dnf keeps its own rpmdb
// beside dpkg's, so the fake rpms depend on nothing. What this shows and what it cannot: docs/lab.md,
// "dnf on a Debian host". Host state is read with labExec.
import { mkdir, writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, hostRootPath, labExec, labHost } from '../lab/lab.js';
import { installCli, runOtopi, type RemoteRun } from './support/remote-cli.js';

const ok = (run: RemoteRun): void => expect(run.code, `${run.stdout}\n${run.stderr}\n${run.log.slice(-3000)}`).toBe(0);
const withProxy = process.env['OTOPI_LAB_APT_PROXY'] === '1';
const DNF = 'PACKAGER/packager=str:dnf';

describe('dnf packager on a lab host (needs OTOPI_LAB_APT_PROXY=1)', () => {
  it('has the lab apt proxy it needs', () => {
    expect(withProxy, 'the lab was brought up without OTOPI_LAB_APT_PROXY=1').toBe(true);
  });

  let h1: LabHost;
  const timings: string[] = [];
  const rpmQ = async (...names: string[]): Promise<string> =>
    (await labExec(h1, ['rpm', '-q', ...names])).stdout.trim().replace(/\n/g, ' ');
  const scriptlets = async (): Promise<string[]> =>
    (await labExec(h1, ['cat', '/var/lib/vdsm-rpm-fake/scriptlets'])).stdout.trim().split('\n');
  const lastHistoryLine = async (): Promise<string> =>
    (await labExec(h1, 'dnf history list | sed -n 3p', { check: true })).stdout.trim();
  const dnf = (args: string): Promise<unknown> => labExec(h1, `dnf -y -q ${args}`, { check: true });

  beforeAll(async () => {
    h1 = labHost(HOSTS.baseDnf[0]);
    // The lab leaves the Debian mirror (through its proxy) off; this host needs it for dnf itself.
    await labExec(h1, ['cp', '/etc/apt/otopi-lab-debian.list', '/etc/apt/sources.list.d/debian.list'], { check: true });
    const started = performance.now();
    // rpm is only a Recommends of dnf here; the packager needs it for what is installed.
    await labExec(h1, 'apt-get update -qq && apt-get install -y -qq dnf rpm >/dev/null', {
      env: { DEBIAN_FRONTEND: 'noninteractive' },
      check: true,
      timeoutMs: 300_000,
    });
    timings.push(`apt-get install dnf rpm: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // The lab switch serves the repo folder; rpm.sh put the rpm repository under rpm/.
    const sw = h1.labAddress.replace(/\.\d+$/, '.1');
    await mkdir(hostRootPath(h1, '/etc/yum.repos.d'), { recursive: true });
    await writeFile(
      hostRootPath(h1, '/etc/yum.repos.d/otopi-lab.repo'),
      `[otopi-lab]\nname=otopi lab\nbaseurl=http://${sw}:8080/rpm/\nenabled=1\ngpgcheck=0\n`,
    );
    // Debian has no system-release package to take $releasever from; dnf reads it from here.
    await mkdir(hostRootPath(h1, '/etc/dnf/vars'), { recursive: true });
    await writeFile(hostRootPath(h1, '/etc/dnf/vars/releasever'), '9\n');
    await installCli(h1);
  });

  it('installs vdsm from the lab rpm repo at the packages stage; its %post runs', async () => {
    const run = await runOtopi(h1, [DNF, 'BASETEST/install=multi-str:vdsm'], { groups: ['basetest'] });
    ok(run);
    timings.push(`install vdsm: ${run.seconds.toFixed(2)} s`);
    expect(await rpmQ('vdsm')).toBe('vdsm-4.50.2-1.noarch');
    expect(run.stdout).toContain('Packages: installed vdsm.noarch 4.50.2-1');
    expect(await scriptlets()).toEqual(['post 4.50.2-1 1']);
    // dnf 4 gets exit_on_lock, so a held lock is ours to retry (see the lock test below).
    expect(run.log).toMatch(/execute: \/usr\/bin\/dnf --setopt=exit_on_lock=True -y install --best vdsm/);
    // Two package databases: dpkg knows nothing of what rpm installed.
    expect((await labExec(h1, ['dpkg-query', '-W', 'vdsm'])).code).not.toBe(0);
  });

  it('a second run with the same input changes nothing and says so', async () => {
    const before = await lastHistoryLine();
    const run = await runOtopi(h1, [DNF, 'BASETEST/install=multi-str:vdsm'], { groups: ['basetest'] });
    ok(run);
    timings.push(`install vdsm again: ${run.seconds.toFixed(2)} s`);
    expect(run.stdout).toContain('Packages: no changes');
    expect(await lastHistoryLine()).toBe(before);
  });

  it('queries installed and available versions, newest first, and the update', async () => {
    await dnf('downgrade vdsm');
    const run = await runOtopi(h1, [DNF, 'BASETEST/query=str:vdsm'], { groups: ['basetest'] });
    ok(run);
    expect(run.stdout).toContain(
      'query vdsm: installed 4.50.1-1; available 4.50.2-1,4.50.1-1; updates 4.50.1-1->4.50.2-1',
    );
  });

  it('updates 4.50.1 to 4.50.2, leaving a package that is not installed alone', async () => {
    expect(await rpmQ('vdsm')).toBe('vdsm-4.50.1-1.noarch');
    const run = await runOtopi(h1, [DNF, 'BASETEST/update=multi-str:vdsm\nvdsm-client'], { groups: ['basetest'] });
    ok(run);
    timings.push(`update vdsm: ${run.seconds.toFixed(2)} s`);
    expect(run.stdout).toContain('Not installed, so not updated: vdsm-client');
    expect(run.stdout).toContain('Packages: upgraded vdsm.noarch 4.50.1-1 → 4.50.2-1');
    expect(await rpmQ('vdsm', 'vdsm-client')).toBe('vdsm-4.50.2-1.noarch package vdsm-client is not installed');
    // Alone, that package would make `dnf upgrade` fail ("No packages marked for upgrade").
    const alone = await runOtopi(h1, [DNF, 'BASETEST/update=multi-str:vdsm-client'], { groups: ['basetest'] });
    ok(alone);
    expect(alone.stdout).toContain('Packages: no changes');
  });

  it('dry run says what it would do, with the version before, and installs nothing', async () => {
    await dnf('downgrade vdsm');
    const before = await lastHistoryLine();
    const run = await runOtopi(h1, [DNF, 'BASETEST/install=multi-str:vdsm-client'], {
      groups: ['basetest'],
      args: ['--dry-run'],
    });
    ok(run);
    expect(run.stdout).toContain(
      'Dry run: dnf would: install vdsm-client.noarch 4.50.2-1; upgrade vdsm.noarch 4.50.1-1 → 4.50.2-1',
    );
    expect(run.stdout).toMatch(/# packages \(dnf\)\n.*install vdsm-client\.noarch 4\.50\.2-1/s);
    expect(await rpmQ('vdsm', 'vdsm-client')).toBe('vdsm-4.50.1-1.noarch package vdsm-client is not installed');
    expect(await lastHistoryLine()).toBe(before);
  });

  it('a failure after the install undoes it with dnf history undo: vdsm-client removed, vdsm back to 4.50.1', async () => {
    const marks = (await scriptlets()).length;
    const run = await runOtopi(h1, [DNF, 'BASETEST/install=multi-str:vdsm-client', 'BASETEST/failAt=str:misc'], {
      groups: ['basetest'],
    });
    timings.push(`install vdsm-client, fail, undo: ${run.seconds.toFixed(2)} s`);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('failing at misc on purpose');
    // vdsm-client needs vdsm of its own version, so dnf upgraded vdsm in the same transaction.
    expect(run.stdout).toContain(
      'Undoing the package changes of this run: installed vdsm-client.noarch 4.50.2-1; upgraded vdsm.noarch 4.50.1-1 → 4.50.2-1',
    );
    expect(run.stdout).toContain('Package changes undone');
    expect(run.log).toMatch(/execute: \/usr\/bin\/dnf --setopt=exit_on_lock=True -y history undo \d+/);
    expect(await rpmQ('vdsm', 'vdsm-client')).toBe('vdsm-4.50.1-1.noarch package vdsm-client is not installed');
    // The undo is a dnf transaction of its own: Downgrade and Erase.
    expect(await lastHistoryLine()).toMatch(/\| D, E +\|/);
    // Up to 4.50.2 and back down: each step ran the new version's %post and the old one's %postun.
    expect((await scriptlets()).slice(marks)).toEqual([
      'post 4.50.2-1 2',
      'postun 4.50.1-1 1',
      'post 4.50.1-1 2',
      'postun 4.50.2-1 1',
    ]);
  });

  it('retries while another process holds the dnf lock, and says who holds it', async () => {
    // dnf's own lock is a pid file: a live process named in it holds the rpmdb for 3 s.
    const holder = labExec(h1, 'sleep 3 & echo $! >/var/lib/dnf/rpmdb_lock.pid; wait');
    await new Promise((r) => setTimeout(r, 300));
    const run = await runOtopi(
      h1,
      [DNF, 'BASETEST/install=multi-str:vdsm-client', 'PACKAGER/lockRetryInterval=int:1'],
      {
        groups: ['basetest'],
      },
    );
    await holder;
    ok(run);
    expect(run.stdout).toMatch(
      /Installing vdsm-client: another process holds the package manager lock \(process \d+, sleep\); retrying in 1 s/,
    );
    expect(await rpmQ('vdsm-client')).toBe('vdsm-client-4.50.2-1.noarch');
  });

  it('removes vdsm and what needs it; its %postun runs', async () => {
    const run = await runOtopi(h1, [DNF, 'BASETEST/remove=multi-str:vdsm'], { groups: ['basetest'] });
    ok(run);
    timings.push(`remove vdsm: ${run.seconds.toFixed(2)} s`);
    expect(run.stdout).toContain('Packages: removed vdsm-client.noarch 4.50.2-1, vdsm.noarch 4.50.2-1');
    expect(await rpmQ('vdsm')).toBe('package vdsm is not installed');
    expect((await scriptlets()).at(-1)).toBe('postun 4.50.2-1 0');
    console.log(`dnf on a lab host: ${timings.join('; ')}`);
  });
});
