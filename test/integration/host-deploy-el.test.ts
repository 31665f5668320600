// host-deploy on el hosts (docs/lab.md, "Host flavours"): NetworkManager owns eth0 (keyfiles),
// firewalld runs, tuned runs, and dnf/rpm install from the lab's rpm repository; the host has no
// apt. Driven as a user drives it, through `otopi deploy --group host-deploy` over SSH; the host is
// checked with labExec (nsenter), never through the SSH path under test.
// Hosts (HOSTS.hostDeployEl): the first is installed, survives a NetworkManager restart, is
// deployed again (nothing changes) and restarted; on the second, which has vdsm 4.50.1 from dnf,
// the engine stops answering once the bridge is up (the bridge comes down, the dnf transaction is
// undone), then a failure forced after every change was applied rolls all of them back.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost, restartHost } from '../lab/lab.js';
import { type DeployRun, runDeploy, writeInventory } from './support/deploy-lab.js';
import { ENGINE, engineDefaults, sh } from './support/host-deploy-lab.js';

let work: string;
const detail = (run: DeployRun): string => `${run.stdout}\n${run.stderr}`;
const deploy = (host: LabHost, extra: string[] = []): Promise<DeployRun> =>
  runDeploy(writeInventory([host], { defaults: engineDefaults(), extra: { [host.name]: extra } }), [
    '--group',
    'host-deploy',
    '--ca-dir',
    join(work, 'ca'),
  ]);
const engineLog = (run: DeployRun, host: LabHost): string => readFileSync(run.hosts[host.name]!.log!, 'utf8');
const q = async (host: LabHost, cmd: string): Promise<string> => (await labExec(host, cmd)).stdout.trim();
const KEYFILES = '/etc/NetworkManager/system-connections';

/** What a rollback must put back, and what a second run must not touch. */
async function elSnapshot(host: LabHost): Promise<Record<string, string>> {
  return {
    links: await q(host, "ip -o link show | sed 's/^[0-9]*: //; s/ qlen.*//; s/link\\/ether.*//' | sort"),
    addresses: await q(host, "ip -o addr show | awk '{print $2, $3, $4}' | sort"),
    profiles: await q(
      host,
      'for c in $(nmcli -g NAME con show | sort); do echo "$c: $(nmcli -g connection.type,connection.master,ipv4.method,ipv4.addresses con show "$c" | tr "\\n" " ")"; done',
    ),
    keyfiles: await q(host, `ls ${KEYFILES}`),
    rpms: await q(host, 'rpm -qa --qf "%{NAME} %{VERSION}-%{RELEASE}\\n" | sort'),
    firewalld: await q(
      host,
      'firewall-cmd --permanent --list-ports; firewall-cmd --list-ports; firewall-cmd --permanent --list-services; firewall-cmd --list-services',
    ),
    tuned: await q(host, 'tuned-adm active'),
    files: await q(host, 'ls -l --time-style=+%s /etc/vdsm /etc/pki/vdsm/* 2>/dev/null'),
    vdsmd: await q(host, 'systemctl show -p MainPID --value vdsmd 2>/dev/null'),
  };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'otopi-hd-el-'));
});

describe('host-deploy on an el host', () => {
  let h: LabHost;
  let first: DeployRun;
  beforeAll(async () => {
    h = labHost(HOSTS.hostDeployEl[0]);
    expect(h.flavour).toBe('el');
    first = await deploy(h);
    console.log(`host-deploy on an el host, fresh: ${first.seconds.toFixed(1)} s`);
  }, 600_000);

  it('finds dnf by what the host has (no apt, and os-release says Debian) and installs from the rpm repository', async () => {
    expect(first.code, detail(first)).toBe(0);
    expect(first.hosts[h.name]).toMatchObject({ result: 'installed' });
    expect((await labExec(h, 'command -v apt-get')).code).not.toBe(0);
    expect(await q(h, '. /etc/os-release; echo $ID')).toBe('debian');
    const log = engineLog(first, h);
    expect(log).toContain('Packager: dnf (debian is debian-like, but apt-get, apt-cache, dpkg-query cannot be found');
    expect(log).toContain('Packages (dnf): install ovirt-host');
    expect(await q(h, 'rpm -q ovirt-host vdsm vdsm-client')).toBe(
      'ovirt-host-4.5.0-1.noarch\nvdsm-4.50.2-1.noarch\nvdsm-client-4.50.2-1.noarch',
    );
    // The rpm's own scriptlets made the user, and the deploy enabled and started its unit.
    expect(await q(h, "stat -c '%U:%G' /var/lib/vdsm")).toBe('vdsm:kvm');
    expect(await q(h, 'systemctl is-enabled vdsmd; systemctl is-active vdsmd')).toBe('enabled\nactive');
    expect(await q(h, 'vdsm-client')).toContain('"version": "4.50.2-1"');
    expect(await q(h, 'openssl verify -CAfile /etc/pki/vdsm/certs/cacert.pem /etc/pki/vdsm/certs/vdsmcert.pem')).toBe(
      '/etc/pki/vdsm/certs/vdsmcert.pem: OK',
    );
  });

  it('makes ovirtmgmt through NetworkManager, as keyfiles: the bridge carries the address, eth0 is its port', async () => {
    expect(await q(h, 'ip -o -4 addr show dev ovirtmgmt | awk "{print \\$4}"')).toBe(`${h.labAddress}/24`);
    expect(await q(h, "ip -o link show dev eth0 | grep -o 'master [a-z]*'")).toBe('master ovirtmgmt');
    expect(await q(h, 'nmcli -g GENERAL.STATE con show ovirtmgmt')).toBe('activated');
    const bridge = await sh(h, `cat ${KEYFILES}/ovirtmgmt.nmconnection`);
    expect(bridge).toContain('type=bridge');
    expect(bridge).toContain(`address1=${h.labAddress}/24`);
    expect(bridge).toContain('stp=false');
    const port = await sh(h, `cat ${KEYFILES}/lab-eth0.nmconnection`);
    expect(port).toContain('master=ovirtmgmt');
    expect(port).toContain('slave-type=bridge');
    expect(engineLog(first, h)).toContain(
      `The engine (${ENGINE.address}:${ENGINE.port}) is reachable through ovirtmgmt`,
    );
  });

  it('opens the oVirt firewall in firewalld as its services and ports, permanent and runtime; SSH stays open', async () => {
    for (const permanent of ['--permanent', '']) {
      const ports = (await q(h, `firewall-cmd ${permanent} --list-ports`)).split(' ');
      expect(ports).toEqual(
        expect.arrayContaining(['54321/tcp', '54322/tcp', '2223/tcp', '5900-6923/tcp', '49152-49216/tcp']),
      );
      const services = (await q(h, `firewall-cmd ${permanent} --list-services`)).split(' ');
      expect(services).toEqual(expect.arrayContaining(['ssh', 'rpc-bind', 'snmp', 'cockpit', 'libvirt-tls']));
      // A port firewalld has a service for goes in as the service only.
      expect(ports).not.toContain('22/tcp');
    }
    expect(engineLog(first, h)).toContain(
      'Firewall: the oVirt default through firewalld: services ssh, rpc-bind, snmp, cockpit, libvirt-tls;',
    );
    // Through the bridge and the firewall, from another host on the lab switch.
    const other = labHost(HOSTS.hostDeployEl[1]);
    expect((await labExec(other, `nc -z -w 3 ${h.labAddress} 22 && nc -z -w 3 ${h.labAddress} 54321`)).code).toBe(0);
  });

  it('activates the virtual-host tuned profile', async () => {
    expect(await q(h, 'tuned-adm active')).toBe('Current active profile: virtual-host');
    expect(engineLog(first, h)).toMatch(/tuned profile 'virtual-host' is active \(it was '[\w-]+'\)/);
  });

  it('keeps the bridge through a NetworkManager restart', async () => {
    await sh(h, 'systemctl restart NetworkManager && nm-online -s -q -t 30');
    expect(await q(h, 'ip -o -4 addr show dev ovirtmgmt | awk "{print \\$4}"')).toBe(`${h.labAddress}/24`);
    expect(await q(h, "ip -o link show dev eth0 | grep -o 'master [a-z]*'")).toBe('master ovirtmgmt');
    expect((await labExec(h, `nc -z -w 3 ${ENGINE.address} ${ENGINE.port}`)).code).toBe(0);
  }, 60_000);

  it('a second run changes nothing, and says so', async () => {
    const before = await elSnapshot(h);
    const again = await deploy(h);
    console.log(`host-deploy on an el host, second run: ${again.seconds.toFixed(1)} s`);
    expect(again.code, detail(again)).toBe(0);
    expect(await elSnapshot(h)).toEqual(before);
    const log = engineLog(again, h);
    expect(log).toContain('Packages: no changes');
    expect(log).toContain('Management bridge: ovirtmgmt already carries the traffic to the engine');
    expect(log).toMatch(/firewalld: zone public already allows .*: no changes/);
    expect(log).toContain("tuned profile 'virtual-host' is already active");
    expect(log).toContain('vdsmd is running; nothing of it changed');
  }, 300_000);

  it('comes back after a restart with the bridge from its keyfiles, the firewall, tuned and vdsmd', async () => {
    await restartHost(h);
    await labExec(h, 'nm-online -s -q -t 60; systemctl is-system-running --wait', { timeoutMs: 90_000 });
    expect(await q(h, 'ip -o -4 addr show dev ovirtmgmt | awk "{print \\$4}"')).toBe(`${h.labAddress}/24`);
    expect(await q(h, "ip -o link show dev eth0 | grep -o 'master [a-z]*'")).toBe('master ovirtmgmt');
    expect((await q(h, 'firewall-cmd --list-ports')).split(' ')).toContain('54321/tcp');
    expect(await q(h, 'tuned-adm active')).toBe('Current active profile: virtual-host');
    expect(await q(h, 'systemctl is-active vdsmd')).toBe('active');
  }, 120_000);
});

describe('an el host whose engine stops answering once the bridge is up', () => {
  it('takes the bridge and its keyfiles down, never applies the rest, and undoes the dnf transaction', async () => {
    const h = labHost(HOSTS.hostDeployEl[1]);
    // vdsm 4.50.1 is there before: the undo must take out what the run added, and only that.
    await sh(h, 'dnf -q -y install vdsm-4.50.1 >/dev/null');
    // The engine answers on eth0 (validation) and never through ovirtmgmt: a host-side rule
    // makes the engine unreachable for whatever leaves by the bridge (a refused connection would
    // still prove the engine is there).
    await sh(
      h,
      `nft add table inet labcut && nft add chain inet labcut out '{ type filter hook output priority 0; }' && ` +
        `nft add rule inet labcut out oifname ovirtmgmt ip daddr ${ENGINE.address} tcp dport ${ENGINE.port} reject with icmpx type host-unreachable`,
    );
    const before = await elSnapshot(h);
    const run = await deploy(h);
    expect(run.code, detail(run)).toBe(1);
    expect(run.hosts[h.name]).toMatchObject({ result: 'failed' });
    const log = engineLog(run, h);
    expect(log).toContain(
      `The engine (${ENGINE.address}:${ENGINE.port}) is not reachable through ovirtmgmt (EHOSTUNREACH); the bridge was rolled back`,
    );
    expect(log).toContain('Packages: installed ovirt-host.noarch 4.5.0-1, vdsm-client.noarch 4.50.1-1');
    expect(log).toContain('Package changes undone');
    expect(await elSnapshot(h)).toEqual(before);
    expect(await q(h, 'rpm -q vdsm; rpm -q ovirt-host || true')).toBe(
      'vdsm-4.50.1-1.noarch\npackage ovirt-host is not installed',
    );
    expect((await labExec(h, `test -e ${KEYFILES}/ovirtmgmt.nmconnection`)).code).not.toBe(0);
  }, 300_000);

  it('a failure after every change was applied rolls back the bridge, firewalld, tuned, the files and the packages', async () => {
    const h = labHost(HOSTS.hostDeployEl[1]);
    await sh(h, 'nft delete table inet labcut');
    const before = await elSnapshot(h);
    const run = await deploy(h, ['ODEPLOY/forceFailStage = str:transaction-commit']);
    expect(run.code, detail(run)).toBe(1);
    const log = engineLog(run, h);
    // Applied first: the engine answered through the bridge, firewalld and tuned were changed.
    expect(log).toContain(`The engine (${ENGINE.address}:${ENGINE.port}) is reachable through ovirtmgmt`);
    expect(log).toMatch(/firewalld: added to zone public: service rpc-bind/);
    expect(log).toMatch(/tuned profile 'virtual-host' is active/);
    // Then all of it undone.
    expect(log).toContain('firewalld: removed what this run added to zone public');
    expect(log).toContain('The management bridge ovirtmgmt was removed; eth0 is configured as before');
    expect(log).toContain('Package changes undone');
    expect(await elSnapshot(h)).toEqual(before);
  }, 300_000);
});
