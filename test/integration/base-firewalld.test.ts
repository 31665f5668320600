// firewalld through the base group on a real host. The lab base has no firewalld and the
// hosts see only the lab repo, so this needs the lab's apt proxy to the Debian mirror
// (OTOPI_LAB_APT_PROXY=1, apt-cacher-ng installed with `deps.sh --apt-proxy`); the lab's
// global setup turns it on. firewalld is also covered by unit tests against a fake firewall-cmd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost, restartHost } from '../lab/lab.js';
import { installCli, runOtopi, type RemoteRun } from './support/remote-cli.js';

const ok = (run: RemoteRun): void => expect(run.code, `${run.stdout}\n${run.stderr}\n${run.log.slice(-3000)}`).toBe(0);
const withProxy = process.env['OTOPI_LAB_APT_PROXY'] === '1';

describe('firewalld on a lab host (needs OTOPI_LAB_APT_PROXY=1)', () => {
  it('has the lab apt proxy it needs', () => {
    expect(withProxy, 'the lab was brought up without OTOPI_LAB_APT_PROXY=1').toBe(true);
  });

  let h1: LabHost;
  const query = async (what: string, permanent: boolean): Promise<string> =>
    (await labExec(h1, ['firewall-cmd', ...(permanent ? ['--permanent'] : []), '--zone=public', what])).stdout.trim();

  beforeAll(async () => {
    h1 = labHost(HOSTS.baseFirewalld[0]);
    // The lab leaves the Debian mirror (through its proxy) off; this host needs it.
    await labExec(h1, ['cp', '/etc/apt/otopi-lab-debian.list', '/etc/apt/sources.list.d/debian.list'], { check: true });
    await installCli(h1);
  });
  afterAll(async () => {
    await labExec(h1, 'DEBIAN_FRONTEND=noninteractive apt-get -qy purge firewalld >/dev/null; nft flush ruleset');
  });

  it('installs firewalld from the Debian mirror with the apt packager', async () => {
    const run = await runOtopi(h1, ['BASETEST/install=multi-str:firewalld'], { groups: ['basetest'] });
    ok(run);
    console.log(`apt install firewalld through the lab proxy: ${run.seconds.toFixed(1)} s`);
    expect((await labExec(h1, 'systemctl is-active firewalld')).stdout.trim()).toBe('active');
  });

  it('opens services and ports, permanent and runtime; a second run changes nothing', async () => {
    const statements = ['NETWORK/firewalldServices=multi-str:cockpit', 'NETWORK/firewalldPorts=multi-str:54321/tcp'];
    const run = await runOtopi(h1, statements);
    ok(run);
    expect(run.stdout).toContain('Firewall: firewalld (firewalld is running)');
    for (const permanent of [true, false]) {
      expect(await query('--query-port=54321/tcp', permanent)).toBe('yes');
      expect(await query('--query-service=cockpit', permanent)).toBe('yes');
    }
    const again = await runOtopi(h1, statements);
    ok(again);
    expect(again.stdout).toContain('Firewall (firewalld): no changes');
  });

  it('a run that fails in the commit removes what it added', async () => {
    const run = await runOtopi(h1, ['NETWORK/firewalldPorts=multi-str:16514/tcp', 'BASETEST/failAt=str:commit'], {
      groups: ['basetest'],
    });
    expect(run.code).toBe(1);
    expect(run.log).toContain('firewalld: added to zone public: port 16514/tcp (permanent), port 16514/tcp (runtime)');
    expect(await query('--query-port=16514/tcp', true)).toBe('no');
    expect(await query('--query-port=16514/tcp', false)).toBe('no');
    expect(await query('--query-port=54321/tcp', true)).toBe('yes');
  });

  it('refuses raw iptables rules while firewalld runs, unless asked to replace it', async () => {
    const run = await runOtopi(h1, ['NETWORK/iptablesRules=multi-str:*filter\n:INPUT ACCEPT [0:0]\nCOMMIT']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('firewalld is running, and only NETWORK/iptablesRules is set');
  });

  it('the permanent settings survive a restart', async () => {
    await restartHost(h1);
    await labExec(h1, 'systemctl is-system-running --wait');
    expect(await query('--query-port=54321/tcp', false)).toBe('yes');
  });
});
