// apt inside a lab host installs the fake oVirt packages from the lab's own repo, and their
// maintainer scripts drive systemd as real packages do. Commands go over SSH; checks use labExec.
import { connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { sshRun } from './ssh.js';

const apt =
  'DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

async function sshOk(host: LabHost, command: string): Promise<void> {
  const r = await sshRun(host, command);
  expect(r.code, `${command}\n${r.stdout}\n${r.stderr}`).toBe(0);
}

async function dpkgStatus(host: LabHost, pkg: string): Promise<string> {
  const r = await labExec(host, ['dpkg-query', '-W', '-f=${Version} ${db:Status-Status}', pkg]);
  return r.code === 0 ? r.stdout : 'not installed';
}

/** The JSON line a fake daemon greets with, once it listens (it may still be starting). */
async function greeting(host: LabHost, port: number): Promise<Record<string, unknown>> {
  for (let tries = 0; ; tries++) {
    const r = await labExec(host, ['nc', '-w2', '127.0.0.1', String(port)]);
    if (r.code === 0 && r.stdout !== '') return JSON.parse(r.stdout) as Record<string, unknown>;
    if (tries >= 50) throw new Error(`${host.name}: nothing answers on port ${port}`);
    await sleep(100);
  }
}

const unit = async (host: LabHost, verb: string, name: string): Promise<string> =>
  (await labExec(host, ['systemctl', verb, name])).stdout.trim();

describe('fake oVirt packages from the lab repo', () => {
  let h1: LabHost;
  let h2: LabHost;
  let h3: LabHost;
  beforeAll(() => {
    [h1, h2, h3] = HOSTS.packages.map(labHost) as [LabHost, LabHost, LabHost];
  });
  afterAll(async () => {
    for (const h of [h2, h3]) {
      await labExec(h, `${apt} purge ovirt-host vdsm-client vdsm ovirt-imageio-daemon`, { check: true });
    }
  });

  it('installs vdsm; systemd enables and starts vdsmd', async () => {
    await sshOk(h2, `apt-get -q update && ${apt} install vdsm`);

    expect(await dpkgStatus(h2, 'vdsm')).toBe('4.50.2-1 installed');
    expect(await unit(h2, 'is-enabled', 'vdsmd.service')).toBe('enabled');
    expect(await unit(h2, 'is-active', 'vdsmd.service')).toBe('active');
    expect(await greeting(h2, 54321)).toEqual({
      service: 'vdsmd',
      version: '4.50.2-1',
      ssl: true,
    });
    expect((await labExec(h2, ['id', 'vdsm'])).stdout).toBe('uid=36(vdsm) gid=36(kvm) groups=36(kvm)\n');
    expect((await labExec(h2, ['stat', '-c', '%U:%G', '/var/lib/vdsm'])).stdout).toBe('vdsm:kvm\n');
    const conffiles = await labExec(h2, ['dpkg-query', '-W', '-f=${Conffiles}', 'vdsm']);
    expect(conffiles.stdout).toContain('/etc/vdsm/vdsm.conf');
    // The daemon runs as vdsm, as the unit says.
    expect((await labExec(h2, ['systemctl', 'show', '-P', 'User', 'vdsmd'])).stdout).toBe('vdsm\n');

    // Nowhere else: not on the other hosts, not in the root namespace.
    for (const h of [h1, h3]) {
      expect(await dpkgStatus(h, 'vdsm')).toBe('not installed');
      expect((await labExec(h, ['nc', '-z', '-w1', '127.0.0.1', '54321'])).code).not.toBe(0);
    }
    const rootNs = await new Promise<string>((resolve) => {
      const socket = tcpConnect(54321, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve('open');
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        resolve(err.code ?? '');
      });
    });
    expect(rootNs).toBe('ECONNREFUSED');
  });

  it('upgrades vdsm 4.50.1 to 4.50.2, keeping a changed conffile and restarting vdsmd', async () => {
    const madison = await labExec(h3, 'apt-get -q update >/dev/null && apt-cache madison vdsm', { check: true });
    expect(madison.stdout).toMatch(/4\.50\.1-1/);
    expect(madison.stdout).toMatch(/4\.50\.2-1/);

    await sshOk(h3, `${apt} install vdsm=4.50.1-1`);
    expect(await dpkgStatus(h3, 'vdsm')).toBe('4.50.1-1 installed');
    expect((await greeting(h3, 54321))['version']).toBe('4.50.1-1');
    await labExec(h3, 'echo "# changed by the admin" >> /etc/vdsm/vdsm.conf', {
      check: true,
    });

    await sshOk(h3, `${apt} install ovirt-host`);
    expect(await dpkgStatus(h3, 'vdsm')).toBe('4.50.2-1 installed');
    expect(await dpkgStatus(h3, 'vdsm-client')).toBe('4.50.2-1 installed');
    expect((await labExec(h3, ['tail', '-1', '/etc/vdsm/vdsm.conf'])).stdout).toBe('# changed by the admin\n');
    expect((await greeting(h3, 54321))['version']).toBe('4.50.2-1');
    expect(JSON.parse((await labExec(h3, ['vdsm-client'], { check: true })).stdout)).toMatchObject({
      version: '4.50.2-1',
    });
    expect(await unit(h3, 'is-active', 'ovirt-imageio.service')).toBe('active');
    expect(await greeting(h3, 54322)).toEqual({
      service: 'ovirt-imageio',
      version: '2.4.7-1',
    });
  });

  it('stops and disables vdsmd when vdsm is removed, keeping its conffile', async () => {
    await sshOk(h2, `${apt} remove vdsm`);

    expect(await dpkgStatus(h2, 'vdsm')).toBe('4.50.2-1 config-files');
    expect(await unit(h2, 'is-active', 'vdsmd.service')).toBe('inactive');
    expect(await unit(h2, 'is-enabled', 'vdsmd.service')).not.toBe('enabled');
    expect((await labExec(h2, ['nc', '-z', '-w1', '127.0.0.1', '54321'])).code).not.toBe(0);
    expect((await labExec(h2, ['test', '-f', '/etc/vdsm/vdsm.conf'])).code).toBe(0);
  });
});
