// host-deploy on vintage oVirt Node hosts (docs/lab.md, "Host flavours"): the image is read-only
// (what the host writes is gone at the next boot), /config keeps what `persist` put there and is
// bind-mounted over /etc at boot, and vdsm comes with the image: nothing is installed. Driven
// through `otopi deploy --group host-deploy` over SSH; the host is checked with labExec.
// Hosts (HOSTS.hostDeployNode): the first is installed, restarted and deployed again; the second
// enrolls its certificate in two phases (request, then accept), whose pending key and request
// must be unpersisted when they are removed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost, restartHost } from '../lab/lab.js';
import { CLI, type DeployRun, runDeploy, writeInventory } from './support/deploy-lab.js';
import { engineDefaults, sh } from './support/host-deploy-lab.js';

let work: string;
const detail = (run: DeployRun): string => `${run.stdout}\n${run.stderr}`;
const q = async (host: LabHost, cmd: string): Promise<string> => (await labExec(host, cmd)).stdout.trim();
const engineLog = (run: DeployRun, host: LabHost): string => readFileSync(run.hosts[host.name]!.log!, 'utf8');
/** The engine creates ovirtmgmt through vdsm once the node is added (reference §4 (b)): none here. */
const deploy = (host: LabHost, extra: string[] = [], args: string[] = []): Promise<DeployRun> =>
  runDeploy(
    writeInventory([host], {
      defaults: engineDefaults(),
      extra: { [host.name]: ['management_bridge = none', ...extra] },
    }),
    ['--group', 'host-deploy', '--ca-dir', join(work, 'ca'), ...args],
  );
/** The files this run persisted, from its own report. */
const persistedBy = (log: string): string[] =>
  (/oVirt Node: \d+ file\(s\) kept across reboots: (.*)$/m.exec(log)?.[1] ?? '').split(', ').filter((f) => f !== '');

/** What a second run must not touch: the files, what /config holds, and vdsmd. */
async function nodeSnapshot(host: LabHost): Promise<Record<string, string>> {
  return {
    config: await q(host, 'cat /config/files; find /config -type f | sort | xargs md5sum'),
    mounts: await q(host, "findmnt -rn -o TARGET | grep -E '^/(etc|usr)/' | sort"),
    files: await q(host, 'ls -l --time-style=+%s /etc/vdsm /etc/pki/vdsm/*'),
    vdsmd: await q(host, 'systemctl show -p MainPID --value vdsmd'),
  };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'otopi-hd-node-'));
});

describe('host-deploy on a vintage oVirt Node', () => {
  let h: LabHost;
  let first: DeployRun;
  let persisted: string[];
  beforeAll(async () => {
    h = labHost(HOSTS.hostDeployNode[0]);
    expect(h.flavour).toBe('node');
    first = await deploy(h);
    console.log(`host-deploy on a node, fresh: ${first.seconds.toFixed(1)} s`);
    persisted = persistedBy(engineLog(first, h));
  }, 600_000);

  it('detects the node, installs no package, and leaves its firewall alone', async () => {
    expect(first.code, detail(first)).toBe(0);
    expect(first.hosts[h.name]).toMatchObject({ result: 'installed' });
    const log = engineLog(first, h);
    expect(log).toContain('oVirt Node: vintage (read-only root)');
    expect(log).toContain('Offline packager: no package is installed');
    expect(log).toContain('Packages: no changes');
    expect(log).not.toMatch(/execute: \S*apt-get/);
    // The repository offers 4.50.2; the image's 4.50.1 stays.
    expect(await q(h, "dpkg-query -W -f '${Version}' vdsm")).toBe('4.50.1-1');
    expect(log).toContain('host-deploy: The host firewall is not configured on a vintage oVirt Node');
    expect(await q(h, 'iptables -S INPUT')).toBe('-P INPUT ACCEPT');
    expect(await q(h, 'systemctl is-active vdsmd')).toBe('active');
  });

  it('persists every file it changed and the vdsm id: each is in /config and mounted from there', async () => {
    expect(persisted).toEqual(
      expect.arrayContaining([
        '/etc/vdsm/vdsm.id',
        '/etc/vdsm/vdsm.conf',
        '/etc/pki/vdsm/certs/vdsmcert.pem',
        '/etc/pki/vdsm/keys/vdsmkey.pem',
        '/etc/pki/libvirt/private/clientkey.pem',
      ]),
    );
    expect((await sh(h, 'cat /config/files')).trim().split('\n').sort()).toEqual([...persisted].sort());
    for (const file of persisted) {
      expect(await q(h, `findmnt -n -o SOURCE ${file}`), file).toMatch(new RegExp(`/config${file}\\]$`));
    }
  });

  it('keeps what it persisted across a restart, and nothing else', async () => {
    const id = await sh(h, 'cat /etc/vdsm/vdsm.id');
    const conf = await sh(h, 'md5sum /etc/vdsm/vdsm.conf');
    await sh(h, 'echo not persisted > /etc/otopi-lab-marker');
    await restartHost(h);
    await labExec(h, 'systemctl is-system-running --wait', { timeoutMs: 90_000 });
    expect((await labExec(h, 'test -e /etc/otopi-lab-marker')).code).not.toBe(0);
    expect(await sh(h, 'cat /etc/vdsm/vdsm.id')).toBe(id);
    expect(await sh(h, 'md5sum /etc/vdsm/vdsm.conf')).toBe(conf);
    expect(await q(h, 'openssl verify -CAfile /etc/pki/vdsm/certs/cacert.pem /etc/pki/vdsm/certs/vdsmcert.pem')).toBe(
      '/etc/pki/vdsm/certs/vdsmcert.pem: OK',
    );
    expect(await q(h, "stat -c '%a %U:%G' /etc/pki/vdsm/keys /etc/pki/vdsm/keys/vdsmkey.pem")).toBe(
      '750 vdsm:kvm\n440 vdsm:kvm',
    );
    expect(await q(h, 'systemctl is-active vdsmd')).toBe('active');
  }, 120_000);

  it('a second run changes nothing, and says so', async () => {
    const before = await nodeSnapshot(h);
    const again = await deploy(h);
    expect(again.code, detail(again)).toBe(0);
    expect(await nodeSnapshot(h)).toEqual(before);
    const log = engineLog(again, h);
    expect(log).toContain('Packages: no changes');
    expect(log).toContain('vdsmd is running; nothing of it changed');
    expect(log).toContain('oVirt Node: 1 file(s) kept across reboots: /etc/vdsm/vdsm.id');
    expect(log).toContain('File already persisted: /etc/vdsm/vdsm.id');
  }, 300_000);

  it('a run that changes a persisted file writes it through its mount into /config, and it stays', async () => {
    const run = await deploy(h, ['vdsm_config =', '    vars/otopi_lab_marker = changed']);
    expect(run.code, detail(run)).toBe(0);
    expect(engineLog(run, h)).toContain('/etc/vdsm/vdsm.conf is a mount point: written in place');
    expect(await sh(h, 'cat /config/etc/vdsm/vdsm.conf')).toContain('otopi_lab_marker = changed');
    await restartHost(h);
    await labExec(h, 'systemctl is-system-running --wait', { timeoutMs: 90_000 });
    expect(await sh(h, 'cat /etc/vdsm/vdsm.conf')).toContain('otopi_lab_marker = changed');
  }, 300_000);
});

describe('two-phase enrollment on a vintage oVirt Node', () => {
  it('persists the pending key and request, then unpersists them when accept removes them', async () => {
    const h = labHost(HOSTS.hostDeployNode[1]);
    const pending = ['/etc/pki/vdsm/keys/vdsmkey.pending.pem', '/etc/pki/vdsm/requests/vdsm.csr'];
    const request = await deploy(h, ['VDSM/certificateEnrollment = str:request']);
    expect(request.code, detail(request)).toBe(3);
    expect(request.hosts[h.name]).toMatchObject({ result: 'incomplete' });
    const files = (await sh(h, 'cat /config/files')).split('\n');
    expect(files).toEqual(expect.arrayContaining(pending));

    const chain = join(work, 'chain.conf');
    writeFileSync(
      chain,
      execFileSync(
        process.execPath,
        [CLI, 'ca', 'sign', '--ca-dir', join(work, 'ca'), '--host', h.name, '--as-config'],
        { input: await sh(h, 'cat /etc/pki/vdsm/requests/vdsm.csr'), encoding: 'utf8' },
      ),
    );
    const accept = await deploy(
      h,
      ['certificate = none', 'VDSM/certificateEnrollment = str:accept'],
      ['--answers', chain],
    );
    expect(accept.code, detail(accept)).toBe(0);
    const log = engineLog(accept, h);
    for (const file of pending) {
      expect(log).toContain(`execute: /usr/sbin/unpersist ${file}`);
      expect((await labExec(h, `test -e ${file} || test -e /config${file}`)).code, file).not.toBe(0);
    }
    expect((await sh(h, 'cat /config/files')).split('\n')).not.toEqual(expect.arrayContaining([pending[0]]));

    await restartHost(h);
    await labExec(h, 'systemctl is-system-running --wait', { timeoutMs: 90_000 });
    for (const file of pending) expect((await labExec(h, `test -e ${file}`)).code, file).not.toBe(0);
    expect(await q(h, 'openssl verify -CAfile /etc/pki/vdsm/certs/cacert.pem /etc/pki/vdsm/certs/vdsmcert.pem')).toBe(
      '/etc/pki/vdsm/certs/vdsmcert.pem: OK',
    );
  }, 600_000);
});
