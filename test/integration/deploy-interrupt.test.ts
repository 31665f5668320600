// Cutting the SSH connection in the middle of a deploy. The sample group sleeps at a stage
// after writing its PID; when the host announces that stage (an event of deployMany), the test
// kills the host's sshd session processes by PID: the connection drops without a goodbye, as
// when a network or the manager dies. The host must roll back (its file byte-identical) and the
// engine must report that host as failed at that stage, while another host installs.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deployMany,
  loadInventory,
  resolveBundle,
  type BundleChoice,
  type DeployEvent,
  type InventoryHost,
} from '../../packages/engine/src/index.js';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { FIXTURES, ROOT, writeInventory } from './support/deploy-lab.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TARGET = '/etc/otopi-interrupt.conf';
const PID_FILE = '/run/otopi-sample.pid';
const ORIGINAL = 'the original content\n';
let victim: LabHost;
let bystander: LabHost;
let hosts: InventoryHost[];
let bundle: BundleChoice;

/** Kills, by PID, the sshd processes between the installer and the sshd listener. */
const KILL_SESSION = `
p=$(cat ${PID_FILE}); victims=
while [ "$p" -gt 1 ]; do
  pp=$(ps -o ppid= -p "$p" | tr -d ' ')
  if [ "$(ps -o comm= -p "$p")" = sshd ] && [ "$pp" != 1 ]; then victims="$victims $p"; fi
  p=$pp
done
[ -n "$victims" ] && kill -9 $victims && echo "$victims"`;

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  [victim, bystander] = HOSTS.deployInterrupt.map((n) => labHost(n)) as [LabHost, LabHost];
  hosts = [
    ...loadInventory(
      writeInventory([victim, bystander], {
        defaults: [`SAMPLE/outputFile = str:${TARGET}`, 'SAMPLE/content = str:the new content'],
      }),
    ).hosts,
  ];
  bundle = await resolveBundle({
    dir: join(ROOT, 'bundle/dist'),
    root: ROOT,
    groups: ['sample'],
    groupDirs: { sample: join(FIXTURES, 'sample') },
    buildDir: mkdtempSync(join(tmpdir(), 'otopi-interrupt-bundle-')),
  });
}, 60_000);

describe('a deploy whose SSH connection is killed', () => {
  const cases = [
    ['customization', 'Environment customization', 'rolled back'],
    ['validation', 'Setup validation', 'rolled back'],
    // The installer learns of the closed connection (EPIPE) on a later turn of the event loop;
    // the runtime yields before each handler so it stops before the commit.
    ['misc', 'Misc configuration', 'rolled back'],
    ['closeup', 'Closing up', 'committed'],
  ] as const;
  for (const [stage, description, expected] of cases) {
    it(`at ${stage}: the host is reported failed at "${description}" and its file is ${expected}`, async () => {
      await labExec(victim, `printf '${ORIGINAL}' >${TARGET}; rm -f ${PID_FILE}`, { check: true });
      const before = (await labExec(victim, ['sha256sum', TARGET], { check: true })).stdout;
      let killed: Promise<string> | undefined;
      const events: DeployEvent[] = [];
      const report = await deployMany({
        hosts,
        bundle: bundle.bundle,
        runtime: bundle.runtime,
        groups: ['sample'],
        overrides: [
          { op: 'set', key: 'SAMPLE/sleepAt', value: stage, source: 'test' },
          { op: 'set', key: 'SAMPLE/sleepMs', value: 4000, source: 'test' },
          { op: 'set', key: 'SAMPLE/pidFile', value: PID_FILE, source: 'test' },
        ],
        logDir: mkdtempSync(join(tmpdir(), 'otopi-interrupt-logs-')),
        timeouts: { inactivityMs: 60_000 },
        onEvent: (event) => {
          events.push(event);
          if (
            event.type === 'stage' &&
            event.host === victim.name &&
            event.stage === description &&
            killed === undefined
          ) {
            killed = (async () => {
              await until('the PID file', async () => (await labExec(victim, ['test', '-s', PID_FILE])).code === 0);
              return (await labExec(victim, KILL_SESSION, { check: true })).stdout.trim();
            })();
          }
        },
      });
      expect(await killed).toMatch(/^\d+( \d+)*$/);
      const r = report.hosts[0]!;
      expect(r, JSON.stringify(r)).toMatchObject({
        host: victim.name,
        result: 'failed',
        stage: description,
        exitCode: null,
      });
      expect(r.cause).toBe('the SSH session ended without an exit status (connection lost)');
      expect(r.durationMs).toBeLessThan(30_000);
      expect(report.hosts[1]).toMatchObject({ host: bystander.name, result: 'installed' });

      // The installer notices the closed connection when it next writes, rolls back and exits.
      const pid = (await labExec(victim, ['cat', PID_FILE], { check: true })).stdout.trim();
      await until('the installer to exit', async () => (await labExec(victim, ['kill', '-0', pid])).code !== 0);
      const after = (await labExec(victim, ['sha256sum', TARGET], { check: true })).stdout;
      if (expected === 'rolled back') {
        expect(after).toBe(before);
      } else {
        // Closing up comes after the transaction committed: the new file stands, whole.
        expect((await labExec(victim, ['cat', TARGET], { check: true })).stdout).toBe('the new content\n');
      }
    });
  }

  it('leaves the host able to deploy again (no stale lock, no half state)', async () => {
    const report = await deployMany({
      hosts: hosts.slice(0, 1),
      bundle: bundle.bundle,
      runtime: bundle.runtime,
      groups: ['sample'],
      logDir: mkdtempSync(join(tmpdir(), 'otopi-interrupt-logs-')),
    });
    expect(report.hosts[0], JSON.stringify(report.hosts[0])).toMatchObject({ result: 'installed' });
    expect((await labExec(victim, ['cat', TARGET], { check: true })).stdout).toBe('the new content\n');
  });
});
