// The base group's apt packager on a real host, driven by the fixture group 'basetest' over
// SSH: installs and removes the lab repo's fake oVirt packages, changes nothing the second
// time, and undoes an install when the run fails after it. Host state is read with labExec.
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { installCli, runOtopi, type RemoteRun } from './support/remote-cli.js';

const dpkg = async (host: LabHost, pkg: string): Promise<string> => {
  const r = await labExec(host, ['dpkg-query', '-W', '-f=${Version} ${db:Status-Status}', pkg]);
  return r.code === 0 ? r.stdout : 'unknown';
};
const unit = async (host: LabHost, verb: string, name: string): Promise<string> =>
  (await labExec(host, ['systemctl', verb, name])).stdout.trim();
const ok = (run: RemoteRun): void => expect(run.code, `${run.stdout}\n${run.stderr}\n${run.log.slice(-3000)}`).toBe(0);
const basetest = (...statements: string[]) => statements;

describe('apt packager on a lab host', () => {
  let h1: LabHost;
  const timings: string[] = [];
  beforeAll(async () => {
    h1 = labHost(HOSTS.basePackages[0]);
    await installCli(h1);
  });

  it('installs vdsm from the lab repo at the packages stage, and the unit comes up', async () => {
    const run = await runOtopi(h1, basetest('BASETEST/install=multi-str:vdsm'), { groups: ['basetest'] });
    ok(run);
    timings.push(`install vdsm: ${run.seconds.toFixed(2)} s`);
    expect(await dpkg(h1, 'vdsm')).toBe('4.50.2-1 installed');
    expect(await unit(h1, 'is-active', 'vdsmd.service')).toBe('active');
    expect(run.stdout).toContain('Packages: installed vdsm 4.50.2-1');
    // Every apt command is in the log, with LC_ALL=C output.
    expect(run.log).toMatch(/execute: \/usr\/bin\/apt-get install -y -q .* vdsm/);
  });

  it('a second run with the same input changes nothing and says so', async () => {
    const run = await runOtopi(h1, basetest('BASETEST/install=multi-str:vdsm'), { groups: ['basetest'] });
    ok(run);
    timings.push(`install vdsm again: ${run.seconds.toFixed(2)} s`);
    expect(run.stdout).toContain('Packages: no changes');
  });

  it('queries installed and available versions, and updates', async () => {
    await labExec(h1, 'DEBIAN_FRONTEND=noninteractive apt-get -qy --allow-downgrades install vdsm=4.50.1-1', {
      check: true,
    });
    const run = await runOtopi(h1, ['BASETEST/query=str:vdsm'], { groups: ['basetest'] });
    ok(run);
    expect(run.stdout).toContain(
      'query vdsm: installed 4.50.1-1; available 4.50.2-1,4.50.1-1; updates 4.50.1-1->4.50.2-1',
    );
  });

  it('a failure after the install undoes it: new packages purged, the upgraded vdsm put back to 4.50.1', async () => {
    expect(await dpkg(h1, 'vdsm')).toBe('4.50.1-1 installed');
    const run = await runOtopi(h1, ['BASETEST/install=multi-str:ovirt-host', 'BASETEST/failAt=str:misc'], {
      groups: ['basetest'],
    });
    timings.push(`install ovirt-host, fail, undo: ${run.seconds.toFixed(2)} s`);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('failing at misc on purpose');
    expect(run.stdout).toContain('Undoing the package changes of this run');
    for (const pkg of ['ovirt-host', 'vdsm-client', 'ovirt-imageio-daemon'])
      expect(await dpkg(h1, pkg), pkg).toBe('unknown');
    expect(await dpkg(h1, 'vdsm')).toBe('4.50.1-1 installed');
    expect(await unit(h1, 'is-active', 'ovirt-imageio.service')).not.toBe('active');
  });

  it('dry run says what it would install and installs nothing', async () => {
    const run = await runOtopi(h1, ['BASETEST/install=multi-str:ovirt-host'], {
      groups: ['basetest'],
      args: ['--dry-run'],
    });
    ok(run);
    expect(run.stdout).toMatch(/Dry run: apt would: .*install ovirt-host 4\.5\.0-1/);
    expect(run.stdout).toMatch(/# packages \(apt\)\n.*upgrade vdsm 4\.50\.1-1 → 4\.50\.2-1/s);
    expect(await dpkg(h1, 'ovirt-host')).toBe('unknown');
  });

  it('removes vdsm; the unit stops', async () => {
    const run = await runOtopi(h1, ['BASETEST/remove=multi-str:vdsm'], { groups: ['basetest'] });
    ok(run);
    expect(run.stdout).toContain('Packages: removed vdsm 4.50.1-1');
    expect(await dpkg(h1, 'vdsm')).toBe('4.50.1-1 config-files');
    expect(await unit(h1, 'is-active', 'vdsmd.service')).not.toBe('active');
    console.log(`apt on a lab host: ${timings.join('; ')}`);
  });

  it('waits while another process holds the dpkg lock, and says so', async () => {
    // A POSIX lock on the dpkg frontend lock, as apt itself takes it (flock(1) would not conflict), for 3 s.
    const holder = labExec(h1, [
      'python3',
      '-c',
      "import fcntl, time; f = open('/var/lib/dpkg/lock-frontend', 'w'); fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(3)",
    ]);
    await new Promise((r) => setTimeout(r, 300));
    const run = await runOtopi(h1, ['BASETEST/install=multi-str:vdsm', 'PACKAGER/lockRetryInterval=int:1'], {
      groups: ['basetest'],
    });
    await holder;
    ok(run);
    expect(run.stdout).toMatch(/another process holds the package manager lock .*retrying in 1 s/);
    expect(await dpkg(h1, 'vdsm')).toBe('4.50.2-1 installed');
  });
});
