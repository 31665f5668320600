// ovirt-host-mgmt driven through the real `otopi deploy --group host-mgmt`, on hosts deployed
// first with `otopi deploy --group host-deploy`: a check for updates lists the newer vdsm of the
// lab repo and changes nothing; an upgrade installs it, keeps an edited vdsm.conf and restarts
// vdsmd; an upgrade whose package fails to configure is rolled back to the earlier version, and
// the next one succeeds, putting back a vdsm.conf the package overwrote; a re-enrollment
// replaces the certificate and keeps the key, unless asked for a new one. Host state is read
// with labExec, never through the SSH path under test.
// Hosts (HOSTS.hostMgmt): check and upgrade; the failed upgrade; the re-enrollments.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { type DeployRun, runDeploy, writeInventory } from './support/deploy-lab.js';
import { ENGINE, engineDefaults, sh, snapshot } from './support/host-deploy-lab.js';

let work: string;
let caDir: string;
let hosts: LabHost[];
const detail = (run: DeployRun): string => `${run.stdout}\n${run.stderr}`;
const engineLog = (run: DeployRun, host: LabHost): string => readFileSync(run.hosts[host.name]!.log!, 'utf8');
const VERSIONS = "dpkg-query -W -f '${Package} ${Status} ${Version}\\n' vdsm vdsm-client | sort";
const ADMIN_EDIT = '# tuned by the admin: kept across upgrades';

/** An inventory for host-mgmt: the deploy's fields, without its KEY=type:value settings (host-deploy keys). */
const mgmtInventory = (host: LabHost): string =>
  writeInventory([host], {
    defaults: [`engine_fqdn = ${ENGINE.fqdn}`, 'organization = otopi lab', `ca_dir = ${caDir}`],
  });
const mgmt = (host: LabHost, args: string[]): Promise<DeployRun> =>
  runDeploy(mgmtInventory(host), ['--group', 'host-mgmt', ...args]);
const vdsmdPid = async (host: LabHost): Promise<string> =>
  (await sh(host, 'systemctl show -p MainPID --value vdsmd')).trim();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'otopi-host-mgmt-'));
  caDir = join(work, 'ca');
  hosts = HOSTS.hostMgmt.map((n) => labHost(n));
  // vdsm 4.50.1 first, so the deploy keeps it and the lab repo's 4.50.2 is an update.
  await Promise.all(
    hosts.map((h) =>
      labExec(
        h,
        `mkdir -p /etc/network && printf 'auto eth0\\niface eth0 inet static\\n    address ${h.labAddress}/24\\n' > /etc/network/interfaces && ` +
          'apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q vdsm=4.50.1-1 vdsm-client=4.50.1-1 >/dev/null',
        { check: true },
      ),
    ),
  );
  const deployed = await runDeploy(writeInventory(hosts, { defaults: engineDefaults() }), [
    '--group',
    'host-deploy',
    '--ca-dir',
    caDir,
    '--parallel',
    '3',
  ]);
  if (deployed.code !== 0) throw new Error(`host-deploy failed:\n${detail(deployed)}`);
  for (const h of hosts) await sh(h, `printf '%s\\n' '${ADMIN_EDIT}' >> /etc/vdsm/vdsm.conf`);
}, 600_000);

// The CA's key is in there.
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('check for updates, then upgrade', () => {
  let h: LabHost;
  beforeAll(() => {
    h = hosts[0]!;
  });

  it('a check lists vdsm 4.50.2 of the lab repo and changes nothing', async () => {
    const before = await snapshot(h);
    const run = await mgmt(h, ['--mgmt-action', 'check-updates']);
    expect(run.code, detail(run)).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.hosts[h.name]).toMatchObject({
      result: 'installed',
      facts: { packagesInfo: 'vdsm-4.50.2-1 vdsm-client-4.50.2-1' },
      details: ['update available: vdsm-4.50.2-1', 'update available: vdsm-client-4.50.2-1'],
    });
    expect(run.stdout).toContain(`${h.name}: update available: vdsm-4.50.2-1; update available: vdsm-client-4.50.2-1`);
    expect(engineLog(run, h)).toContain('Check only (checkUpdate): nothing is changed');
    expect(await snapshot(h)).toEqual(before);
    expect(await sh(h, VERSIONS)).toContain('vdsm install ok installed 4.50.1-1');
  });

  it('with the offline packager (offline_packager in the inventory), a check consults no repository and lists nothing', async () => {
    const before = await snapshot(h);
    const inventory = writeInventory([h], {
      defaults: [`engine_fqdn = ${ENGINE.fqdn}`, 'offline_packager = true'],
    });
    const run = await runDeploy(inventory, ['--group', 'host-mgmt']);
    expect(run.code, detail(run)).toBe(0);
    expect(run.hosts[h.name]).toMatchObject({ result: 'installed', facts: { packagesInfo: '' }, details: [] });
    const log = engineLog(run, h);
    expect(log).toContain('OMGMT_CORE/offlinePackager=bool:True');
    expect(log).toContain('The offline packager consults no repository: no update is listed');
    expect(await snapshot(h)).toEqual(before);
  });

  it('an upgrade installs 4.50.2, keeps the edited vdsm.conf and restarts vdsmd', async () => {
    const conf = await sh(h, 'cat /etc/vdsm/vdsm.conf');
    const pid = await vdsmdPid(h);
    const run = await mgmt(h, ['--mgmt-action', 'upgrade', '--mgmt-packages', 'vdsm,vdsm-client']);
    expect(run.code, detail(run)).toBe(0);
    expect(run.hosts[h.name]).toMatchObject({
      result: 'installed',
      details: ['upgraded: vdsm-4.50.2-1', 'upgraded: vdsm-client-4.50.2-1'],
    });
    expect(await sh(h, VERSIONS)).toBe(
      'vdsm install ok installed 4.50.2-1\nvdsm-client install ok installed 4.50.2-1\n',
    );
    expect(await sh(h, 'cat /etc/vdsm/vdsm.conf')).toBe(conf);
    expect(conf).toContain(ADMIN_EDIT);
    const log = engineLog(run, h);
    expect(log).toContain('Upgraded vdsm 4.50.1-1 → 4.50.2-1');
    expect(log).toContain('Restarting vdsmd (changed: packages)');
    expect(await vdsmdPid(h)).not.toBe(pid);
    // The running vdsmd is the new one.
    expect(await sh(h, 'vdsm-client')).toContain('4.50.2-1');
  }, 300_000);

  it('a check after the upgrade finds nothing', async () => {
    const run = await mgmt(h, ['--mgmt-action', 'check-updates', '--mgmt-packages', 'vdsm,vdsm-client']);
    expect(run.code, detail(run)).toBe(0);
    expect(run.hosts[h.name]).toMatchObject({ result: 'installed', facts: { packagesInfo: '' }, details: [] });
  });
});

describe('a failed upgrade', () => {
  it('is rolled back: vdsm 4.50.1 configured again, vdsm.conf as it was, vdsmd running', async () => {
    const h = hosts[1]!;
    await sh(h, 'mkdir -p /var/lib/vdsm-lab && echo 4.50.2-1 > /var/lib/vdsm-lab/fail-configure');
    const conf = await sh(h, 'cat /etc/vdsm/vdsm.conf');
    const versions = await sh(h, VERSIONS);
    const run = await mgmt(h, ['--mgmt-action', 'upgrade', '--mgmt-packages', 'vdsm,vdsm-client']);
    expect(run.code, detail(run)).toBe(1);
    expect(run.hosts[h.name]).toMatchObject({ result: 'failed' });
    const log = engineLog(run, h);
    expect(log).toContain('configure fails on purpose');
    expect(log).toContain('Package changes undone');
    expect(await sh(h, VERSIONS)).toBe(versions);
    expect(versions).toContain('vdsm install ok installed 4.50.1-1');
    expect(await sh(h, 'cat /etc/vdsm/vdsm.conf')).toBe(conf);
    expect((await sh(h, 'systemctl is-active vdsmd')).trim()).toBe('active');
    expect(await sh(h, 'vdsm-client')).toContain('4.50.1-1');
  }, 300_000);

  it('the next upgrade succeeds, and puts back a vdsm.conf the package overwrote', async () => {
    const h = hosts[1]!;
    await sh(h, 'echo 4.50.2-1 > /var/lib/vdsm-lab/replace-conf && rm /var/lib/vdsm-lab/fail-configure');
    const conf = await sh(h, 'cat /etc/vdsm/vdsm.conf');
    const run = await mgmt(h, ['--mgmt-action', 'upgrade', '--mgmt-packages', 'vdsm,vdsm-client']);
    expect(run.code, detail(run)).toBe(0);
    expect(await sh(h, VERSIONS)).toContain('vdsm install ok installed 4.50.2-1');
    expect(engineLog(run, h)).toContain('The upgrade replaced /etc/vdsm/vdsm.conf: the file as it was is put back');
    expect(await sh(h, 'cat /etc/vdsm/vdsm.conf')).toBe(conf);
  }, 300_000);
});

describe('certificate re-enrollment', () => {
  let h: LabHost;
  const pki = async (): Promise<{ key: string; cert: string }> => ({
    key: await sh(h, 'cat /etc/pki/vdsm/keys/vdsmkey.pem'),
    cert: await sh(h, 'cat /etc/pki/vdsm/certs/vdsmcert.pem'),
  });
  /** The certificate verifies against the CA, and carries the public key of the installed key. */
  const consistent = async (): Promise<void> => {
    const cert = join(work, `${h.name}.pem`);
    writeFileSync(cert, await sh(h, 'cat /etc/pki/vdsm/certs/vdsmcert.pem'));
    expect(execFileSync('openssl', ['verify', '-CAfile', join(caDir, 'ca.pem'), cert], { encoding: 'utf8' })).toBe(
      `${cert}: OK\n`,
    );
    const fromCert = execFileSync('openssl', ['x509', '-noout', '-pubkey', '-in', cert], { encoding: 'utf8' });
    expect(await sh(h, 'openssl pkey -pubout -in /etc/pki/vdsm/keys/vdsmkey.pem')).toBe(fromCert);
  };
  beforeAll(() => {
    h = hosts[2]!;
  });

  it('replaces the certificate, keeps the key, restarts vdsmd', async () => {
    const before = await pki();
    const pid = await vdsmdPid(h);
    const run = await mgmt(h, ['--mgmt-action', 'enroll-certificate']);
    expect(run.code, detail(run)).toBe(0);
    expect(run.hosts[h.name]).toMatchObject({ result: 'installed', details: ['certificate re-enrolled'] });
    expect(run.stdout).toContain(`note: host-mgmt: signing with the CA in ${caDir}`);
    const after = await pki();
    expect(after.key).toBe(before.key);
    expect(after.cert).not.toBe(before.cert);
    await consistent();
    expect(engineLog(run, h)).toContain('Requesting a certificate for the installed host key');
    expect(await vdsmdPid(h)).not.toBe(pid);
  }, 300_000);

  it('with --mgmt-new-key, makes a new key and a certificate for it', async () => {
    const before = await pki();
    const run = await mgmt(h, ['--mgmt-action', 'enroll-certificate', '--mgmt-new-key']);
    expect(run.code, detail(run)).toBe(0);
    const after = await pki();
    expect(after.key).not.toBe(before.key);
    expect(after.cert).not.toBe(before.cert);
    await consistent();
    expect(await sh(h, "stat -c '%a %U:%G' /etc/pki/vdsm/keys/vdsmkey.pem")).toBe('440 vdsm:kvm\n');
  }, 300_000);

  it('refuses --mgmt-action without --group host-mgmt, before contacting any host', async () => {
    const run = await runDeploy(mgmtInventory(h), ['--group', 'host-deploy', '--mgmt-action', 'upgrade']);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('--mgmt-action needs --group host-mgmt');
    expect(run.events).toEqual([]);
  });
});
