// A converged host-deploy rerun does nothing, shown by observation on the host (labExec, never
// the SSH path under test): apt records no index refresh and dpkg no run (apt's own hooks write
// a line for each), the iptables counters keep what packets added (a reload resets them), the
// certificate files keep their bytes and no request is made or signed. Round trips of the
// dialog are counted by the engine (host-end `roundTrips`), not timed.
// Host (HOSTS.convergedRerun): installed by the first deploy, then deployed again.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { type DeployRun, runDeploy, writeInventory } from './support/deploy-lab.js';
import { engineDefaults, sh } from './support/host-deploy-lab.js';

const detail = (run: DeployRun): string => `${run.stdout}\n${run.stderr}`;
/** Every apt index refresh and every dpkg run on the host appends a line here (apt's hooks). */
const HOOKS = '/etc/apt/apt.conf.d/00otopi-test-observe';
const SEEN = '/root/apt-dpkg-runs';

/** What a rerun must leave exactly as it was. */
async function observe(host: LabHost): Promise<Record<string, string>> {
  const q = async (cmd: string): Promise<string> => (await labExec(host, cmd)).stdout.trim();
  return {
    aptDpkgRuns: await q(`cat ${SEEN} 2>/dev/null`),
    // The ICMP rule: only new ICMP flows (the pings below) reach it; a reload sets it back to 0.
    icmpPackets: await q('iptables -L INPUT -v -x -n | awk \'$3 == "ACCEPT" && $4 == "1" { print $1; exit }\''),
    certificates: await q('sha256sum /etc/pki/vdsm/certs/*.pem /etc/pki/vdsm/keys/*.pem /etc/pki/libvirt/*.pem'),
    dpkgStatus: await q('stat -c %Y.%y /var/lib/dpkg/status'),
    vdsmd: await q('systemctl show -p ActiveEnterTimestampMonotonic vdsmd'),
  };
}

describe('a converged host-deploy rerun', () => {
  let host: LabHost;
  let first: DeployRun;
  let inventory: string;
  let work: string;
  const args = (): string[] => [
    '--group',
    'host-deploy',
    '--ca-dir',
    join(work, 'ca'),
    '--vdsm-id-registry',
    join(work, 'ids'),
  ];
  beforeAll(async () => {
    host = labHost(HOSTS.convergedRerun[0]);
    work = mkdtempSync(join(tmpdir(), 'otopi-converged-'));
    await labExec(
      host,
      `mkdir -p /etc/network && printf 'auto eth0\\niface eth0 inet static\\n    address ${host.labAddress}/24\\n' > /etc/network/interfaces; ` +
        `printf 'APT::Update::Pre-Invoke { "echo update >> ${SEEN}"; };\\nDPkg::Pre-Invoke { "echo dpkg >> ${SEEN}"; };\\n' > ${HOOKS}`,
      { check: true },
    );
    inventory = writeInventory([host], {
      defaults: [...engineDefaults(), 'firewall = default'],
      extra: { [host.name]: [`host_fqdn = ${host.name}.lab`] },
    });
    first = await runDeploy(inventory, args());
  }, 600_000);

  it('the first deploy installs, refreshing the index once, in five dialog round trips', async () => {
    expect(first.code, detail(first)).toBe(0);
    expect(first.hosts[host.name]).toMatchObject({ result: 'installed' });
    expect((await sh(host, `cat ${SEEN}`)).split('\n')).toContain('update');
    // The settings, the firewall (sent once the host said it is no vintage node), install, the
    // certificate chain, and the termination with the log.
    expect(first.hosts[host.name]!.roundTrips).toBe(5);
  });

  it('the rerun refreshes nothing, reloads nothing, signs nothing, in four round trips', async () => {
    // Five pings of one packet each: five new ICMP flows, which the ICMP rule counts.
    await labExec(host, 'for i in 1 2 3 4 5; do ping -c 1 -q 127.0.0.1 >/dev/null; done', { check: true });
    const before = await observe(host);
    expect(Number(before.icmpPackets)).toBeGreaterThanOrEqual(5);
    const again = await runDeploy(inventory, args());
    expect(again.code, detail(again)).toBe(0);
    expect(again.hosts[host.name]).toMatchObject({ result: 'installed', shipped: [] });
    expect(await observe(host)).toEqual(before);
    const log = readFileSync(again.hosts[host.name]!.log!, 'utf8');
    expect(log).not.toContain('VDSM_CERTIFICATE_REQUEST');
    expect(log).not.toMatch(/execute: \S*(apt-get|iptables-restore) /);
    expect(log).toContain('is kept without a new request');
    expect(log).toContain('iptables: the live rules are the ones these rules loaded before: not reloaded');
    expect(log).toContain('Packages: no changes (everything requested is already installed)');
    // The settings with their values, install, and the termination with the log.
    expect(again.hosts[host.name]!.roundTrips).toBe(4);
  }, 300_000);
});
