// A fresh lab host becomes a virtualization host, deployed the way the engine does it: one SSH
// exec carrying the bundle (built from the current sources, with the host-deploy group), the
// machine dialog driven by the engine's host-deploy program, a CA in a temporary folder. Host
// state is checked with labExec (nsenter), never through the SSH path under test.
// Hosts (HOSTS.hostDeploy): the first is installed, then deployed again (nothing changes); the
// second gets failures injected at misc and inside the commit (everything rolls back); the third
// is refused (hardware check, offline packager, a unique id the first already has); the fourth
// only looks at the others over the lab network.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, connectSsh, type HostDeployConfig } from '../../packages/engine/src/index.js';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { buildArtifacts, deployHost, type Artifacts, type Deployed } from './fixtures/host-deploy/deploy.js';
import { sh, snapshot } from './support/host-deploy-lab.js';

const ENGINE = '10.88.0.1'; // the lab switch; its repo server answers on 8080
const observer = (): LabHost => labHost(HOSTS.hostDeploy[3]);
let artifacts: Artifacts;
let ca: CertificateAuthority;
let caDir: string;

const config = (host: LabHost, over: Partial<HostDeployConfig> = {}): HostDeployConfig => ({
  host: { name: `${host.name}.lab`, address: host.labAddress },
  engine: {
    fqdn: 'engine.lab',
    address: ENGINE,
    port: 8080,
    sshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHcNTJc3xsw7Y6Zf1nH5VRSd9qNwHCTLlzSHNpOJ0VSY ovirt-engine',
  },
  cluster: { checkVirtHardware: false },
  pki: { ca },
  firewall: 'default',
  correlationId: `lab-${host.name}`,
  connection: { timeoutS: 2, retries: 5 },
  ...over,
});

const ok = (run: Deployed): void =>
  expect(
    run.result,
    `${run.records.join('\n')}\n${run.hostLog.filter((l) => / (ERROR|WARNING) /.test(l)).join('\n')}`,
  ).toMatchObject({ status: 'installed', errors: [] });

beforeAll(async () => {
  caDir = mkdtempSync(join(tmpdir(), 'otopi-engine-ca-'));
  [artifacts, ca] = await Promise.all([
    buildArtifacts(),
    CertificateAuthority.loadOrCreate(caDir, { organization: 'otopi lab' }),
  ]);
  console.log(
    `host-deploy bundle: ${artifacts.bundle.files.length} files, ${(artifacts.bundle.size / 1e3).toFixed(1)} kB`,
  );
}, 300_000);
afterAll(() => {
  rmSync(caDir, { recursive: true, force: true });
  if (artifacts !== undefined) rmSync(artifacts.dir, { recursive: true, force: true });
});

describe('host-deploy on a fresh lab host', () => {
  let h1: LabHost;
  let first: Deployed;
  beforeAll(async () => {
    h1 = labHost(HOSTS.hostDeploy[0]);
    // Like a Debian host configured with ifupdown: the bridge must be made persistent there.
    await labExec(
      h1,
      [
        'sh',
        '-c',
        `mkdir -p /etc/network && printf 'auto lo\\niface lo inet loopback\\n\\nauto eth0\\niface eth0 inet static\\n    address ${h1.labAddress}/24\\n' > /etc/network/interfaces`,
      ],
      { check: true },
    );
    first = await deployHost(h1, artifacts, config(h1));
    console.log(
      `first deploy of ${h1.name}: ${first.seconds.toFixed(1)} s (shipped ${first.shipped.join(', ') || 'nothing'})`,
    );
  }, 600_000);

  it('installs, reports installed, and keeps stderr empty', () => {
    ok(first);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    expect(first.result.vdsmId).toMatch(/\S/);
    expect(first.result.logFile).toMatch(/^\/tmp\/ovirt-host-deploy-\d{14}-\w+\.log$/);
  });

  it('installs vdsm from the lab repo, writes vdsm.conf and the host id, installs the hook', async () => {
    expect(await sh(h1, "dpkg-query -W -f '${Status} ${Version}' vdsm")).toBe('install ok installed 4.50.2-1');
    expect(await sh(h1, "dpkg-query -W -f '${Status}' ovirt-host")).toBe('install ok installed');
    const conf = await sh(h1, 'cat /etc/vdsm/vdsm.conf');
    expect(conf).toContain('[addresses]\nmanagement_port = 54321\n');
    expect(conf).toContain('[vars]\nssl = true\nssl_excludes = OP_NO_TLSv1,OP_NO_TLSv1_1\n');
    expect((await sh(h1, 'cat /etc/vdsm/vdsm.id')).trim()).toBe(first.result.vdsmId);
    expect(await sh(h1, 'stat -c %a /usr/libexec/vdsm/hooks/after_vdsm_stop/50_ovirt_host_deploy_note')).toBe('755\n');
  });

  it('installs certificates that verify against the engine CA, and a private key only vdsm:kvm reads', async () => {
    expect(await sh(h1, 'cat /etc/pki/vdsm/certs/cacert.pem')).toBe(`${ca.pem.trim()}\n`);
    for (const [cafile, cert] of [
      ['/etc/pki/vdsm/certs/cacert.pem', '/etc/pki/vdsm/certs/vdsmcert.pem'],
      ['/etc/pki/vdsm/libvirt-spice/ca-cert.pem', '/etc/pki/vdsm/libvirt-spice/server-cert.pem'],
      ['/etc/pki/CA/cacert.pem', '/etc/pki/libvirt/clientcert.pem'],
    ])
      expect(await sh(h1, `openssl verify -CAfile ${cafile} ${cert}`)).toBe(`${cert}: OK\n`);
    expect(
      await sh(h1, 'openssl x509 -noout -subject -ext subjectAltName -in /etc/pki/vdsm/certs/vdsmcert.pem'),
    ).toMatch(
      new RegExp(
        `subject=O = otopi lab, CN = ${h1.name}\\.lab\\n[\\s\\S]*DNS:${h1.name}\\.lab, IP Address:${h1.labAddress.replace(/\./g, '\\.')}`,
      ),
    );
    for (const key of [
      '/etc/pki/vdsm/keys/vdsmkey.pem',
      '/etc/pki/vdsm/libvirt-spice/server-key.pem',
      '/etc/pki/libvirt/private/clientkey.pem',
    ])
      expect(await sh(h1, `stat -c '%a %U:%G' ${key}`)).toBe('440 vdsm:kvm\n');
    expect(await sh(h1, 'stat -c %a /etc/pki/vdsm/certs/vdsmcert.pem')).toBe('644\n');
    const pub = await sh(h1, 'openssl pkey -pubout -in /etc/pki/vdsm/keys/vdsmkey.pem');
    expect(await sh(h1, 'openssl x509 -noout -pubkey -in /etc/pki/vdsm/certs/vdsmcert.pem')).toBe(pub);
    // The private key never left the host: not on the wire, not in the host's log.
    const body = (await sh(h1, 'cat /etc/pki/vdsm/keys/vdsmkey.pem'))
      .split('\n')
      .filter((l) => l.length > 40 && !l.startsWith('-'));
    expect(body.length).toBeGreaterThan(20);
    for (const line of body.slice(0, 5)) {
      expect(first.transcript.some((t) => t.includes(line))).toBe(false);
      expect(first.hostLog.some((t) => t.includes(line))).toBe(false);
    }
    expect(first.hostLog.join('\n')).not.toContain('PRIVATE KEY');
  });

  it('moves the address onto ovirtmgmt, persists it for ifupdown, and SSH still works', async () => {
    expect(await sh(h1, 'ip -o -4 addr show dev ovirtmgmt')).toContain(`inet ${h1.labAddress}/24`);
    expect(await sh(h1, 'ip -o link show dev eth0')).toContain('master ovirtmgmt');
    expect((await sh(h1, 'ip -o -4 addr show dev eth0')).trim()).toBe('');
    expect(await sh(h1, 'cat /etc/network/interfaces')).toContain(
      `auto ovirtmgmt\niface ovirtmgmt inet static\n    bridge_ports eth0\n    bridge_stp off\n    bridge_fd 0\n    address ${h1.labAddress}/24\n`,
    );
    expect((await labExec(observer(), ['ping', '-c1', '-W2', h1.labAddress])).code).toBe(0);
    const connection = await connectSsh({
      host: h1.address,
      port: h1.port,
      user: h1.user,
      auth: { privateKey: (await import('node:fs')).readFileSync(h1.privateKeyPath) },
      hostKey: { kind: 'fingerprint', fingerprint: h1.hostKeyFingerprint },
    });
    connection.close();
  });

  it('applies the oVirt default firewall, persisted, and vdsmd is enabled, running and reachable through it', async () => {
    const rules = await sh(h1, 'iptables -S INPUT');
    expect(rules).toContain('-A INPUT -p tcp -m tcp --dport 54321 -j ACCEPT');
    expect(rules).toContain('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT');
    expect(rules).toContain('-A INPUT -j REJECT --reject-with icmp-host-prohibited');
    expect(await sh(h1, 'cat /etc/iptables/rules.v4')).toContain('--dport 54322 -j ACCEPT');
    expect((await sh(h1, 'systemctl is-enabled vdsmd')).trim()).toBe('enabled');
    expect((await sh(h1, 'systemctl is-active vdsmd')).trim()).toBe('active');
    const hello = await sh(observer(), `nc -w 3 ${h1.labAddress} 54321`);
    expect(JSON.parse(hello)).toMatchObject({ service: 'vdsmd', version: '4.50.2-1', ssl: true });
    // A port the template does not open is refused from another host.
    expect((await labExec(observer(), `nc -z -w 3 ${h1.labAddress} 8123`)).code).not.toBe(0);
  });

  it('tags every log line with the correlation id', () => {
    // Given as a statement, the id is known from the start; the group's first boot handler turns the tagging on.
    const after = first.hostLog.slice(
      first.hostLog.findIndex((l) => l.endsWith('METHOD host-deploy.core.misc.boot')) + 1,
    );
    // A record is its first line plus the indented lines of a multi-line message; the tag ends it.
    const records: string[] = [];
    for (const line of after) {
      if (/^\d{4}-\d\d-\d\d /.test(line)) records.push(line);
      else if (records.length > 0) records[records.length - 1] += `\n${line}`;
    }
    expect(records.length).toBeGreaterThan(50);
    expect(records.filter((l) => !l.includes(` correlationId=lab-${h1.name}`))).toEqual([]);
  });

  it('a second run changes nothing and restarts nothing', async () => {
    const before = await snapshot(h1);
    const pid = await sh(h1, 'systemctl show -p MainPID --value vdsmd');
    const again = await deployHost(h1, artifacts, config(h1));
    console.log(
      `second deploy of ${h1.name}: ${again.seconds.toFixed(1)} s (shipped ${again.shipped.join(', ') || 'nothing'})`,
    );
    ok(again);
    expect(again.shipped).toEqual([]);
    expect(await snapshot(h1)).toEqual(before);
    expect(await sh(h1, 'systemctl show -p MainPID --value vdsmd')).toBe(pid);
    const log = again.hostLog.join('\n');
    expect(log).toContain('Firewall (iptables): no changes');
    expect(log).toContain('Management bridge: ovirtmgmt already carries the traffic to the engine');
    // The engine said what its CA would issue: the host keeps the certificate without a request.
    expect(log).toContain(`The installed VDSM certificate (CN=${h1.name}.lab) is kept without a new request`);
    expect(log).toContain('vdsmd is running; nothing of it changed');
  }, 300_000);
});

describe('failures roll everything back', () => {
  let h2: LabHost;
  let before: Record<string, string>;
  beforeAll(async () => {
    h2 = labHost(HOSTS.hostDeploy[1]);
    await labExec(
      h2,
      [
        'sh',
        '-c',
        `mkdir -p /etc/network && printf 'auto eth0\\niface eth0 inet static\\n    address ${h2.labAddress}/24\\n' > /etc/network/interfaces`,
      ],
      { check: true },
    );
    before = await snapshot(h2);
  });

  for (const stage of ['misc', 'transaction-commit']) {
    it(`at ${stage}: packages, files, certificates, bridge and firewall are as before`, async () => {
      const run = await deployHost(
        h2,
        artifacts,
        config(h2, { settings: [{ key: 'ODEPLOY/forceFailStage', value: stage }] }),
      );
      expect(run.result.status).toBe('failed');
      expect(run.code).toBe(1);
      expect(run.records.join('\n')).toContain('Failing on purpose');
      if (stage === 'transaction-commit') {
        // Everything had been applied before the failing element: the bridge and firewall were live.
        const log = run.hostLog.join('\n');
        expect(log).toContain('The engine (10.88.0.1:8080) is reachable through ovirtmgmt');
        expect(log).toContain('The management bridge ovirtmgmt was removed; eth0 is configured as before');
        // The firewall too was live, then put back.
        expect(log).toContain('iptables: loaded the rules into filter');
        expect(log).toContain('iptables: the previous rules are back');
      }
      expect(await snapshot(h2)).toEqual(before);
      expect((await labExec(h2, 'test -e /etc/pki/vdsm/keys/vdsmkey.pem || test -e /etc/vdsm/vdsm.id')).code).not.toBe(
        0,
      );
      expect((await labExec(h2, ['ip', 'link', 'show', 'ovirtmgmt'])).code).not.toBe(0);
    }, 300_000);
  }
});

describe('refusals', () => {
  let h3: LabHost;
  beforeAll(() => {
    h3 = labHost(HOSTS.hostDeploy[2]);
  });

  it('refuses a host without hardware virtualization unless the check is off', async () => {
    const run = await deployHost(h3, artifacts, config(h3, { cluster: {} }));
    expect(run.result.status).toBe('failed');
    expect(run.records.join('\n')).toMatch(/ERROR .*Hardware does not support virtualization: .*\/dev\/kvm is missing/);
    expect((await labExec(h3, 'dpkg-query -W vdsm')).code).not.toBe(0);
  }, 300_000);

  it('with the offline packager installs nothing, and needs vdsm to be there already', async () => {
    const run = await deployHost(h3, artifacts, config(h3, { offlinePackager: true }));
    expect(run.result.status).toBe('failed');
    const records = run.records.join('\n');
    expect(records).toContain('Offline packager: no package is installed');
    expect(records).toMatch(/ERROR .*Cannot locate vdsm package, possible cause is incorrect channels/);
    expect((await labExec(h3, 'dpkg-query -W vdsm')).code).not.toBe(0);
  }, 300_000);

  it('reports a unique id that another host already has, and changes nothing', async () => {
    const h1 = labHost(HOSTS.hostDeploy[0]);
    const id = (await sh(h1, 'cat /etc/vdsm/vdsm.id')).trim();
    await labExec(h3, ['sh', '-c', `mkdir -p /etc/vdsm && echo ${id} > /etc/vdsm/vdsm.id`], { check: true });
    const inventory = new Map([[id, `${h1.name}.lab`]]);
    const run = await deployHost(h3, artifacts, config(h3, { checkUniqueId: (seen) => inventory.get(seen) }));
    expect(run.result).toMatchObject({
      status: 'failed',
      vdsmId: id,
      errors: [`Host ${h3.name}.lab reports unique id ${id} which already registered for ${h1.name}.lab`],
    });
    expect(run.transcript).toContain('> abort');
    expect((await labExec(h3, 'dpkg-query -W vdsm')).code).not.toBe(0);
    expect((await labExec(h3, ['ip', 'link', 'show', 'ovirtmgmt'])).code).not.toBe(0);
  }, 300_000);
});
