/**
 * Deploys and runs that really start together.
 *
 * - Two `otopi deploy --group host-deploy` processes, each with its own host, started together
 *   against one new CA folder and one new vdsm id registry: one CA is created, both hosts get a
 *   certificate that verifies against the CA the folder keeps, and the registry has one header.
 * - Several installer runs started together on one host, rounds over: never two at once; every
 *   other run is refused with RUN_LOCKED while the holder runs.
 * - A host that stops answering (its link dead: the lab's forwarders frozen) is given up at the
 *   inactivity limit the user set, while the link is still dead, not when the SSH keepalive
 *   notices about a minute later.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../../lab/allocation.js';
import { labExec, labHost, type LabHost } from '../../lab/lab.js';
import { runDeploy, writeInventory } from '../../integration/support/deploy-lab.js';
import { engineDefaults } from '../../integration/support/host-deploy-lab.js';
import { recordFigure } from '../support/figures.js';
import { removeRunDirs } from '../support/cli.js';
import { buildShipment, hostSection, runDeployCli, runOnHost, type Shipment } from './support.js';

afterAll(removeRunDirs);

describe('two host-deploy runs started together against one new CA folder', () => {
  it('create one CA; both hosts hold certificates of it; the registry has one header and both ids', async () => {
    const hosts = HOSTS.reliabilityConcurrentDeploys.slice(0, 2).map((n) => labHost(n));
    const work = mkdtempSync(join(tmpdir(), 'otopi-shared-ca-'));
    const caDir = join(work, 'ca');
    const registry = join(work, 'vdsm-ids');
    const runs = await Promise.all(
      hosts.map((h) =>
        runDeploy(writeInventory([h], { defaults: engineDefaults() }), [
          '--group',
          'host-deploy',
          '--ca-dir',
          caDir,
          '--vdsm-id-registry',
          registry,
        ]),
      ),
    );
    for (const r of runs) expect(r.code, r.stdout + r.stderr).toBe(0);
    const created = runs.filter((r) => r.stdout.includes('created a CA')).length;
    const verified: string[] = [];
    for (const h of hosts) {
      const cert = join(work, `${h.name}.pem`);
      writeFileSync(cert, (await labExec(h, 'cat /etc/pki/vdsm/certs/vdsmcert.pem', { check: true })).stdout);
      verified.push(execFileSync('openssl', ['verify', '-CAfile', join(caDir, 'ca.pem'), cert], { encoding: 'utf8' }));
    }
    const lines = readFileSync(registry, 'utf8').split('\n').filter(Boolean);
    const ok = created === 1 && verified.every((v) => v.trim().endsWith(': OK'));
    recordFigure({
      item: 'concurrency',
      part: 'shared CA',
      line: `concurrency (shared CA): ${ok ? 'ok' : 'FAILED'}: two deploys started together, ${created} CA created, certificates ${verified.map((v) => (v.trim().endsWith(': OK') ? 'verify' : 'do not verify')).join(' and ')} against it`,
      ok: ok ? 1 : 0,
      total: 1,
    });
    expect(created).toBe(1);
    for (const v of verified) expect(v.trim()).toMatch(/: OK$/);
    expect(lines.filter((l) => l.startsWith('#'))).toHaveLength(1);
    expect(lines.filter((l) => !l.startsWith('#'))).toHaveLength(2);
  }, 600_000);
});

describe('runs started together on one host', () => {
  let host: LabHost;
  let shipment: Shipment;
  beforeAll(async () => {
    host = labHost(HOSTS.reliabilityConcurrentDeploys[2]);
    shipment = await buildShipment();
  }, 300_000);

  it('are never two at once: one holds the lock, the others are refused with RUN_LOCKED', async () => {
    const rounds = 4;
    const perRound = 4;
    let refused = 0;
    let overlaps = 0;
    for (let round = 0; round < rounds; round++) {
      await labExec(host, 'rm -f /tmp/ev-*.jsonl', { check: true });
      const runs = await Promise.all(
        Array.from({ length: perRound }, (_, i) =>
          runOnHost(host, shipment, ['CANARY/sleepMs=int:1500', `CORE/eventsFile=str:/tmp/ev-${i}.jsonl`]),
        ),
      );
      const codes: string[] = [];
      for (let i = 0; i < perRound; i++) {
        const events = (await labExec(host, ['cat', `/tmp/ev-${i}.jsonl`])).stdout;
        codes.push(/"error":\{"code":"([A-Z_]+)"/.exec(events)?.[1] ?? (runs[i]!.code === 0 ? 'ran' : 'failed'));
      }
      refused += codes.filter((c) => c === 'RUN_LOCKED').length;
      const ran = runs.filter((_, i) => codes[i] === 'ran');
      // Whoever ran did so alone: a run that ran overlapping another that ran is a violation.
      for (let i = 0; i < ran.length; i++)
        for (let j = i + 1; j < ran.length; j++)
          if (ran[i]!.started < ran[j]!.ended && ran[j]!.started < ran[i]!.ended) overlaps++;
      expect(
        codes.every((c) => c === 'ran' || c === 'RUN_LOCKED'),
        codes.join(),
      ).toBe(true);
      expect(ran.length).toBeGreaterThanOrEqual(1);
    }
    recordFigure({
      item: 'concurrency',
      part: 'same host, started together',
      line: `concurrency (same host): ${rounds * perRound} runs started together in rounds of ${perRound}: ${overlaps} overlapping holders, ${refused} refused with RUN_LOCKED`,
      ok: overlaps === 0 ? 1 : 0,
      total: 1,
    });
    expect(overlaps).toBe(0);
    expect(refused).toBeGreaterThan(0);
  }, 300_000);
});

describe('a host that stops answering', () => {
  it('is given up at the inactivity limit while its link is still dead', async () => {
    const host = labHost(HOSTS.reliabilityConcurrentDeploys[3]);
    // The lab's forwarders carry every byte between the engine and the hosts: frozen, the link
    // is dead as a cut cable (nothing answers, nothing closes), while the host itself runs on.
    const cgroup = servicesCgroup();
    const inventory = join(mkdtempSync(join(tmpdir(), 'otopi-frozen-')), 'hosts.ini');
    writeFileSync(inventory, `${hostSection(host, ['inactivity_timeout = 3']).join('\n')}\n`, { mode: 0o600 });
    let frozen = false;
    const freeze = (on: boolean): void => {
      writeFileSync(join(cgroup, 'cgroup.freeze'), on ? '1' : '0');
      frozen = on;
    };
    try {
      await labExec(host, 'rm -f /tmp/frozen.pid', { check: true });
      const run = runDeployCli(inventory, [
        '--group',
        'canary',
        'CANARY/sleepMs=int:60000',
        'CANARY/pidFile=str:/tmp/frozen.pid',
      ]);
      // Cut the link once the installer is sleeping in its run.
      for (let i = 0; i < 600; i++) {
        if ((await labExec(host, 'test -s /tmp/frozen.pid')).code === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      freeze(true);
      // The link stays dead for 20 s at most, far past the 3 s limit: an engine that waits for the
      // host to confirm anything ends only after the link is back.
      let endedWhileFrozen = false;
      void run.then(() => (endedWhileFrozen = frozen));
      await Promise.race([run, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      freeze(false);
      const result = await run;
      expect(endedWhileFrozen).toBe(true);
      expect(result.code).toBe(1);
      expect(result.events).toMatch(/"type":"host-end".*inactive for 3000 ms/);
    } finally {
      if (frozen) freeze(false);
    }
  }, 300_000);
});

/** The lab instance's services cgroup (v2; hybrid or pure layouts), whose cgroup.freeze stops its forwarders. */
function servicesCgroup(): string {
  const instance = `otopi-${process.env['OTOPI_LAB_NAME'] ?? 'vitest'}`;
  const found = [`/sys/fs/cgroup/unified/${instance}/services`, `/sys/fs/cgroup/${instance}/services`].find((dir) =>
    existsSync(join(dir, 'cgroup.freeze')),
  );
  if (found === undefined) throw new Error(`no cgroup v2 folder with cgroup.freeze for the lab's services`);
  return found;
}
