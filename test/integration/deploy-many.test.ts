// `otopi deploy` to ten lab hosts at once, as a user runs it: the base group plus the sample
// fixture group, the self-contained flavour (the hosts have no Node.js), a repeat that sends no
// bundle, and a dry run that changes nothing. Host state is checked with labExec.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { type DeployRun, runDeploy, writeInventory } from './support/deploy-lab.js';

const TARGET = '/etc/otopi-sample.conf';
const CACHE = '/var/cache/otopi';
let hosts: LabHost[];
let inventory: string;

const detail = (run: DeployRun): string => `${run.stdout}\n${run.stderr}`;

beforeAll(async () => {
  hosts = HOSTS.deployMany.map((n) => labHost(n));
  // Fresh hosts: no cache, no file, no Node.js.
  await Promise.all(hosts.map((h) => labExec(h, `rm -rf ${CACHE} ${TARGET}; ! command -v node`, { check: true })));
  inventory = writeInventory(hosts, { defaults: [`SAMPLE/outputFile = str:${TARGET}`] });
}, 60_000);

describe('otopi deploy to ten hosts', () => {
  let first: DeployRun;

  it('installs the base and sample groups on all ten at once, shipping the self-contained flavour', async () => {
    first = await runDeploy(inventory, [
      '--group',
      'sample',
      '--parallel',
      '10',
      'SAMPLE/content=str:deployed by the test',
    ]);
    expect(first.code, detail(first)).toBe(0);
    expect(Object.keys(first.hosts).sort()).toEqual(hosts.map((h) => h.name).sort());
    for (const h of hosts) {
      const r = first.hosts[h.name]!;
      expect(r, `${h.name}: ${r.cause ?? ''}`).toMatchObject({
        result: 'installed',
        stage: 'Termination',
        exitCode: 0,
      });
      // No Node.js on the hosts: bundle and runtime both went.
      expect(r.shipped).toEqual(['bundle', 'runtime']);
      expect(r.bytes.payload).toBeGreaterThan(30e6);
      expect(r.hostKey).toMatchObject({ fingerprint: h.hostKeyFingerprint, learnt: false });
    }
    const files = await Promise.all(hosts.map((h) => labExec(h, ['cat', TARGET], { check: true })));
    expect(files.map((f) => f.stdout)).toEqual(hosts.map(() => 'deployed by the test\n'));
    // All ten ran at the same time: every host started before the first one ended.
    const firstEnd = first.events.findIndex((e) => e.type === 'host-end');
    expect(first.events.slice(0, firstEnd).filter((e) => e.type === 'host-start')).toHaveLength(10);
    // The note of the sample group and a summary row per host.
    const h1 = hosts[0]!.name;
    expect(first.stdout).toMatch(
      new RegExp(
        `^${h1} +installed +changed +Termination +\\d+\\.\\d s +\\d+\\.\\d MB +/.*/otopi-deploy-\\d{14}-${h1}-[0-9a-f]{8}\\.log$`,
        'm',
      ),
    );
    expect(first.stdout).toContain('10 hosts: 10 installed, 0 failed, 0 aborted');
    // One private log per host, holding the transcript and the host's own log.
    expect(statSync(first.logDir).mode & 0o777).toBe(0o700);
    const logs = readdirSync(first.logDir);
    expect(logs).toHaveLength(10);
    const log = join(
      first.logDir,
      logs.find((l) => l.includes(`-${h1}-`))!,
    );
    expect(statSync(log).mode & 0o777).toBe(0o600);
    const text = readFileSync(log, 'utf8');
    expect(text).toContain('> env-query -k SAMPLE/content');
    expect(text).toContain('### sample: wrote /etc/otopi-sample.conf');
    expect(text).toMatch(/---- host log \(\d+ lines\) ----/);
    console.log(`10 hosts, first deploy (bundle + runtime each): ${first.seconds.toFixed(1)} s`);
  });

  it('sends no bundle and no runtime on a repeat, only the command and the dialog', async () => {
    const repeat = await runDeploy(inventory, ['--group', 'sample', 'SAMPLE/content=str:deployed by the test']);
    expect(repeat.code, detail(repeat)).toBe(0);
    for (const h of hosts) {
      const r = repeat.hosts[h.name]!;
      expect(r.shipped).toEqual([]);
      expect(r.bytes.payload).toBe(0);
      // The exec command (the bootstrap with its cache checks, about 5 kB) and the dialog: no artifact.
      expect(r.bytes.total).toBeLessThan(6000);
    }
    expect(repeat.stdout).toContain(`${hosts[2]!.name}: bundle cached on the host, nothing to send`);
    const total = Object.values(repeat.hosts).reduce((n, r) => n + r.bytes.total, 0);
    console.log(
      `10 hosts, repeat: ${repeat.seconds.toFixed(1)} s, ${total} bytes sent in all (${Math.round(total / 10)} per host)`,
    );
  });

  it('a dry run shows the change and changes nothing', async () => {
    const before = await labExec(hosts[0]!, ['sha256sum', TARGET], { check: true });
    const [a, b] = [hosts[0]!.name, hosts[1]!.name];
    const dry = await runDeploy(inventory, [
      '--group',
      'sample',
      '--dry-run',
      '--limit',
      `${a},${b}`,
      'SAMPLE/content=str:changed',
    ]);
    expect(dry.code, detail(dry)).toBe(0);
    expect(Object.keys(dry.hosts).sort()).toEqual([a, b].sort());
    expect(dry.stdout).toContain('2 hosts: 2 installed, 0 failed, 0 aborted');
    expect(dry.stdout).toContain('dry run: nothing was changed');
    expect((await labExec(hosts[0]!, ['sha256sum', TARGET], { check: true })).stdout).toBe(before.stdout);
    const log = readFileSync(dry.hosts[a]!.log!, 'utf8');
    expect(log).toContain('CORE/dryRun=bool:True');
    expect(log).toMatch(/\+changed/);
  });
});
