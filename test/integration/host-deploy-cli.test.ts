// host-deploy driven by the engine through the real `otopi deploy` CLI process: an inventory with
// the host-deploy fields, `--group host-deploy`, a CA folder and a vdsm id registry. Host state is
// checked with labExec (nsenter), never through the SSH path under test.
// Hosts (HOSTS.hostDeployCli): the first is installed, then deployed again (nothing changes); the
// second and third share a vdsm id (one of them is refused and rolls back); the fourth presents a
// host key the inventory does not pin (and is never changed).
// The failures injected at misc and inside the commit are in host-deploy-host.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { type DeployRun, runDeploy, writeInventory } from './support/deploy-lab.js';
import { engineDefaults, installedState, sh, snapshot } from './support/host-deploy-lab.js';

let work: string;
let caDir: string;
let registry: string;
const detail = (run: DeployRun): string => `${run.stdout}\n${run.stderr}`;
const hostDeploy = (more: string[] = []): string[] => [
  '--group',
  'host-deploy',
  '--ca-dir',
  caDir,
  '--vdsm-id-registry',
  registry,
  ...more,
];
/** The engine-side log of a host: the transcript, then the host's own log. */
const engineLog = (run: DeployRun, host: LabHost): string => readFileSync(run.hosts[host.name]!.log!, 'utf8');

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'otopi-hd-cli-'));
  caDir = join(work, 'ca');
  registry = join(work, 'vdsm-ids');
});

describe('otopi deploy --group host-deploy on a fresh host', () => {
  let h1: LabHost;
  let first: DeployRun;
  let inventory: string;
  beforeAll(async () => {
    h1 = labHost(HOSTS.hostDeployCli[0]);
    await labExec(
      h1,
      `mkdir -p /etc/network && printf 'auto eth0\\niface eth0 inet static\\n    address ${h1.labAddress}/24\\n' > /etc/network/interfaces`,
      { check: true },
    );
    inventory = writeInventory([h1], {
      defaults: engineDefaults(),
      extra: { [h1.name]: [`host_fqdn = ${h1.name}.lab`, `correlation_id = cli-${h1.name}`] },
    });
    first = await runDeploy(inventory, hostDeploy());
    console.log(`otopi deploy --group host-deploy, fresh host: ${first.seconds.toFixed(1)} s`);
  }, 600_000);

  it('reports the host installed with its vdsm id, and exits 0', async () => {
    expect(first.code, detail(first)).toBe(0);
    expect(first.stderr).toBe('');
    const id = (await sh(h1, 'cat /etc/vdsm/vdsm.id')).trim();
    expect(first.hosts[h1.name]).toMatchObject({ result: 'installed', facts: { vdsmId: id } });
    expect(first.stdout).toContain('1 host: 1 installed, 0 failed, 0 aborted');
    expect(first.stdout).toContain(`note: host-deploy: created a CA (O=otopi lab) in ${caDir}`);
    // The registry now holds the id, for the next runs.
    expect(readFileSync(registry, 'utf8')).toContain(`\n${id} ${h1.name}\n`);
    // The correlation id was on the command line: the host tagged its log with it.
    expect(engineLog(first, h1)).toContain(`correlationId=cli-${h1.name}`);
  });

  it('installs vdsm, its configuration, certificates from the engine CA, the bridge, the firewall, and starts vdsmd', async () => {
    const state = await installedState(h1);
    expect(state).toMatchObject({
      vdsm: 'install ok installed',
      verify: '/etc/pki/vdsm/certs/vdsmcert.pem: OK',
      keys: '440 vdsm:kvm',
      bridge: `${h1.labAddress}/24`,
      port: 'master ovirtmgmt',
      vdsmd: 'enabled\nactive',
    });
    expect(state['conf']).toContain('[addresses]\nmanagement_port = 54321');
    expect(state['firewall']).toContain('-A INPUT -p tcp -m tcp --dport 54321 -j ACCEPT');
    expect(state['firewall']).toContain('-A INPUT -j REJECT --reject-with icmp-host-prohibited');
    // The CA is the one in --ca-dir (0700), checked here with this machine's openssl too.
    expect((await sh(h1, 'cat /etc/pki/vdsm/certs/cacert.pem')).trim()).toBe(
      readFileSync(join(caDir, 'ca.pem'), 'utf8').trim(),
    );
    const cert = join(work, 'h1.pem');
    writeFileSync(cert, await sh(h1, 'cat /etc/pki/vdsm/certs/vdsmcert.pem'));
    expect(execFileSync('openssl', ['verify', '-CAfile', join(caDir, 'ca.pem'), cert], { encoding: 'utf8' })).toBe(
      `${cert}: OK\n`,
    );
    expect(execFileSync('openssl', ['x509', '-noout', '-subject', '-in', cert], { encoding: 'utf8' })).toBe(
      `subject=O = otopi lab, CN = ${h1.name}.lab\n`,
    );
    expect(execFileSync('stat', ['-c', '%a', caDir], { encoding: 'utf8' })).toBe('700\n');
  });

  it('a second run over SSH (through the bridge) changes nothing: the host says so', async () => {
    const before = await snapshot(h1);
    const again = await runDeploy(inventory, hostDeploy());
    console.log(`second deploy: ${again.seconds.toFixed(1)} s`);
    expect(again.code, detail(again)).toBe(0);
    expect(again.hosts[h1.name]).toMatchObject({ result: 'installed', shipped: [] });
    expect(again.stdout).toContain(`note: host-deploy: signing with the CA in ${caDir}`);
    expect(await snapshot(h1)).toEqual(before);
    const log = engineLog(again, h1);
    expect(log).toContain('Firewall (iptables): no changes');
    expect(log).toContain('Management bridge: ovirtmgmt already carries the traffic to the engine');
    expect(log).toContain(`The installed VDSM certificate (CN=${h1.name}.lab) is kept without a new request`);
    expect(log).toContain('vdsmd is running; nothing of it changed');
  }, 300_000);
});

describe('a vdsm id two hosts share', () => {
  it('installs one host, refuses the other, which rolls back, and says which host holds the id', async () => {
    const [h2, h3] = [labHost(HOSTS.hostDeployCli[1]), labHost(HOSTS.hostDeployCli[2])];
    const id = 'c0ffee00-1111-4222-8333-444455556666';
    for (const h of [h2, h3]) await labExec(h, `mkdir -p /etc/vdsm && echo ${id} > /etc/vdsm/vdsm.id`, { check: true });
    const before = { [h2.name]: await snapshot(h2), [h3.name]: await snapshot(h3) };
    const inventory = writeInventory([h2, h3], { defaults: engineDefaults() });
    const run = await runDeploy(inventory, hostDeploy(['--parallel', '2']));
    expect(run.code, detail(run)).toBe(1);
    const results = [h2, h3].map((h) => run.hosts[h.name]!);
    const holder = results.find((r) => r.result === 'installed');
    const refused = results.find((r) => r.result !== 'installed');
    expect(holder, detail(run)).toBeDefined();
    expect(refused).toMatchObject({ result: 'aborted', facts: { vdsmId: id } });
    const message = `Host ${refused!.host} reports unique id ${id} which already registered for ${holder!.host}`;
    expect(refused!.details).toContain(message);
    expect(run.stdout).toContain('2 hosts: 1 installed, 0 failed, 1 aborted');
    expect(run.stdout).toContain(message);
    // The refused host is exactly as it was: no packages, no bridge, no firewall.
    const refusedHost = refused!.host === h2.name ? h2 : h3;
    expect(await snapshot(refusedHost)).toEqual(before[refusedHost.name]);
    expect(engineLog(run, refusedHost)).toContain('> abort');
    // Only the holder is in the registry.
    expect(readFileSync(registry, 'utf8')).toContain(`\n${id} ${holder!.host}\n`);
  }, 600_000);
});

describe('refusals before anything changes', () => {
  let h4: LabHost;
  beforeAll(() => {
    h4 = labHost(HOSTS.hostDeployCli[3]);
  });

  it('refuses a host whose key is not the one pinned, before sending anything', async () => {
    const stranger = labHost(HOSTS.hostDeployCli[0]);
    const inventory = writeInventory([h4], { defaults: engineDefaults() });
    writeFileSync(
      inventory,
      readFileSync(inventory, 'utf8').replace(
        `fingerprint = ${h4.hostKeyFingerprint}`,
        `fingerprint = ${stranger.hostKeyFingerprint}`,
      ),
    );
    const before = await snapshot(h4);
    const run = await runDeploy(inventory, hostDeploy());
    expect(run.code, detail(run)).toBe(1);
    expect(run.hosts[h4.name]).toMatchObject({ result: 'failed', stage: 'SSH connection', bytes: { total: 0 } });
    expect(run.hosts[h4.name]!.cause).toContain(`it presented ssh-ed25519 ${h4.hostKeyFingerprint}`);
    expect(await snapshot(h4)).toEqual(before);
    expect((await labExec(h4, 'test -e /var/cache/otopi')).code).not.toBe(0);
  });

  it('refuses a bad answer file with its file, line and key, and a host-deploy field with its line: exit 2, nothing contacted', async () => {
    const inventory = writeInventory([h4], { defaults: engineDefaults() });
    const answers = join(work, 'bad-answers.conf');
    writeFileSync(answers, '[environment:default]\nVDSM/enginePort=int:eighty\n');
    const bad = await runDeploy(inventory, hostDeploy(['--answers', answers]));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`^otopi deploy: ANSWERS_INVALID: ${answers}:2: .*VDSM/enginePort`));
    expect(bad.events).toEqual([]);

    const noEngine = writeInventory([h4], { defaults: ['engine_port = 8080'] });
    const missing = await runDeploy(noEngine, hostDeploy());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`otopi deploy: INVENTORY_INVALID: ${noEngine}:`);
    expect(missing.stderr).toContain(`host ${h4.name}: engine_fqdn: the host-deploy group needs the engine host name`);
    expect((await labExec(h4, 'test -e /var/cache/otopi')).code).not.toBe(0);
  });
});
