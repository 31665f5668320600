/**
 * Concurrency: two runs against one host at once, and two engines deploying different hosts.
 *
 * - A second run on a host while a first one holds the run lock (`CORE/lockFile`) is refused
 *   at once with a message naming the holder (pid, command without statement values, since
 *   when), and the first run finishes undisturbed.
 * - A run whose process was killed leaves a stale lock; the next run takes it over, says so,
 *   and succeeds.
 * - Two `otopi deploy` processes, each with its own inventory, deploying two hosts at the same
 *   time, do not interfere: both succeed and each host holds exactly its own files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../../lab/allocation.js';
import { labExec, labHost, type LabHost } from '../../lab/lab.js';
import { recordFigure } from '../support/figures.js';
import { removeRunDirs } from '../support/cli.js';
import {
  buildShipment,
  errorsOf,
  hostSection,
  runDeployCli,
  runOnHost,
  writeInventory,
  type Shipment,
} from './support.js';

afterAll(removeRunDirs);

let shipment: Shipment;
let a: LabHost;
let b: LabHost;

async function waitForFile(host: LabHost, path: string): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const r = await labExec(host, ['cat', path]);
    if (r.code === 0 && r.stdout.trim() !== '') return r.stdout.trim();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${host.name}: ${path} never appeared`);
}

function figure(part: string, ok: boolean, line: string): void {
  recordFigure({
    item: 'concurrency',
    part,
    line: `concurrency (${part}): ${ok ? 'ok' : 'FAILED'}: ${line}`,
    ok: ok ? 1 : 0,
    total: 1,
  });
}

beforeAll(async () => {
  [a, b] = HOSTS.reliabilityConcurrency.map((n) => labHost(n)) as [LabHost, LabHost];
  shipment = await buildShipment();
}, 300_000);

describe('two runs against one host, two engines against two hosts', () => {
  it('refuses a second run while the first holds the lock, naming the holder; the first finishes', async () => {
    await labExec(a, 'rm -f /tmp/first.pid', { check: true });
    const first = runOnHost(a, shipment, [
      'CANARY/sleepMs=int:8000',
      'CANARY/pidFile=str:/tmp/first.pid',
      'CANARY/password=str:not-for-the-second-run',
    ]);
    const pid = await waitForFile(a, '/tmp/first.pid');
    const second = await runOnHost(a, shipment, []);
    const refusal = errorsOf(second).find((e) => e.includes('another run holds the lock')) ?? '';
    const done = await first;
    const ok =
      second.code === 1 &&
      refusal.includes(`/var/lib/otopi/run.lock: pid ${pid} (`) &&
      refusal.includes('CANARY/password=…') &&
      !refusal.includes('not-for-the-second-run') &&
      done.code === 0 &&
      second.ended < done.ended;
    figure('same host', ok, `second run refused with "${refusal.slice(0, 140)}…"; first exit ${done.code}`);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe('');
    expect(refusal).toMatch(
      new RegExp(`another run holds the lock /var/lib/otopi/run\\.lock: pid ${pid} \\(otopi\\.js .*\\) since \\d{4}-`),
    );
    expect(refusal).toContain('CANARY/password=…');
    expect(refusal).not.toContain('not-for-the-second-run');
    expect(second.lines.at(-1)).toBe('***TERMINATE');
    expect(done.code).toBe(0);
    expect(second.ended).toBeLessThan(done.ended);
  });

  it('takes over the stale lock of a killed run, and says so', async () => {
    await labExec(a, 'rm -f /tmp/killed.pid', { check: true });
    const killed = runOnHost(a, shipment, ['CANARY/sleepMs=int:60000', 'CANARY/pidFile=str:/tmp/killed.pid']);
    const pid = await waitForFile(a, '/tmp/killed.pid');
    await labExec(a, ['kill', '-KILL', pid], { check: true });
    const gone = await killed;
    expect((await labExec(a, 'cat /var/lib/otopi/run.lock')).stdout).toContain(`"pid":${pid}`);
    const next = await runOnHost(a, shipment, []);
    const warning = next.lines.find((l) => l.includes('Took over a stale run lock')) ?? '';
    const ok = gone.code !== 0 && next.code === 0 && warning.includes(`pid ${pid}`);
    figure(
      'stale lock',
      ok,
      `killed run exit ${gone.code ?? 'none'}; next run exit ${next.code}, "${warning.replace(/^\*\*\*L:\w+ /, '')}"`,
    );
    expect(next.code).toBe(0);
    expect(warning).toContain(`pid ${pid}`);
    expect((await labExec(a, 'test -e /var/lib/otopi/run.lock')).code).not.toBe(0);
  });

  it('two otopi deploy processes on two hosts at once do not interfere', async () => {
    await Promise.all([a, b].map((h) => labExec(h, 'rm -rf /srv/conc', { check: true })));
    const deploys = await Promise.all(
      [a, b].map((h) =>
        runDeployCli(writeInventory(hostSection(h)), [
          '--group',
          'canary',
          'CANARY/dir=str:/srv/conc',
          `CANARY/tag=str:from-${h.name}`,
          'CANARY/files=int:3',
          'CANARY/bytes=int:100',
          'CANARY/sleepMs=int:3000',
        ]),
      ),
    );
    const windows = deploys.map((d) => {
      const times = d.events
        .split('\n')
        .filter((l) => /"type":"host-(start|end)"/.test(l))
        .map((l) => Date.parse((JSON.parse(l) as { at: string }).at));
      return { start: Math.min(...times), end: Math.max(...times) };
    });
    const overlap = windows[0]!.start < windows[1]!.end && windows[1]!.start < windows[0]!.end;
    const contents = await Promise.all([a, b].map((h) => labExec(h, 'head -qn1 /srv/conc/*.conf', { check: true })));
    const own = [a, b].every((h, i) =>
      contents[i]!.stdout.split('\n')
        .filter((l) => l !== '')
        .every((l) => l.startsWith(`from-${h.name} `)),
    );
    const ok = deploys.every((d) => d.code === 0) && overlap && own;
    figure(
      'two hosts',
      ok,
      `exits ${deploys.map((d) => d.code).join(', ')}; ran at the same time: ${overlap}; each host holds only its own files: ${own}`,
    );
    for (const d of deploys) expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(overlap).toBe(true);
    expect(own).toBe(true);
    expect(contents.map((c) => c.stdout.split('\n').filter((l) => l !== '').length)).toEqual([3, 3]);
  });
});
