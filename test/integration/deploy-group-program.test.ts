// A plugin group that brings its own engine-side program, deployed through the real
// `otopi deploy` to a lab host (docs/plugins.md, "A group's engine program"): the 'stamp'
// fixture group declares its program in its package.json, otopi deploy finds it in the
// group's folder on --plugin-path, and the program reads the host's id, sets a key, answers the
// host's question and reports what it did; nothing of the engine or the CLI knows the group.
// The host's copy of the group carries its plugin and contract, not the engine program.
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { type DeployRun, runDeploy, writeInventory } from './support/deploy-lab.js';

const TARGET = '/etc/otopi-stamp.txt';
let host: LabHost;
let hostName: string;

const detail = (run: DeployRun): string => `${run.stdout}\n${run.stderr}`;

beforeAll(async () => {
  host = labHost(HOSTS.deployGroupProgram[0]);
  await labExec(host, `rm -f ${TARGET}`, { check: true });
  hostName = (await labExec(host, ['hostname'], { check: true })).stdout.trim();
}, 60_000);

describe("a group's own engine program through otopi deploy", () => {
  it("is loaded from the group's folder and drives the group's dialog on the host", async () => {
    const inventory = writeInventory([host], { defaults: [`STAMP/file = str:${TARGET}`] });
    const run = await runDeploy(inventory, ['--group', 'stamp']);
    expect(run.code, detail(run)).toBe(0);
    expect(run.stdout).toContain('note: stamp: stamping 1 host(s)');
    expect(run.hosts[host.name]).toMatchObject({
      result: 'installed',
      exitCode: 0,
      details: [`stamped ${hostName}`],
      facts: { stampHostId: hostName },
    });
    // The program set STAMP/text and answered STAMP_SIGNATURE with what the host said it is.
    expect((await labExec(host, ['cat', TARGET], { check: true })).stdout).toBe(
      `stamped by the engine for ${host.name}\nsigned:${hostName}\n`,
    );
    // The bundle the host got has the group's plugin and contract, not its engine program.
    const shipped = await labExec(host, "find /var/cache/otopi -path '*/plugins/stamp/*' -type f | sort", {
      check: true,
    });
    expect(shipped.stdout).toMatch(/plugins\/stamp\/stamp\.mjs$/m);
    expect(shipped.stdout).toMatch(/plugins\/stamp\/_lib\/contract\.mjs$/m);
    expect(shipped.stdout).not.toContain('_engine');
    expect(shipped.stdout).not.toContain('package.json');
  });

  it('leaves a key the inventory gives to the inventory', async () => {
    const inventory = writeInventory([host], {
      defaults: [`STAMP/file = str:${TARGET}`, 'STAMP/text = str:from the inventory'],
    });
    const run = await runDeploy(inventory, ['--group', 'stamp']);
    expect(run.code, detail(run)).toBe(0);
    expect((await labExec(host, ['cat', TARGET], { check: true })).stdout).toBe(
      `from the inventory\nsigned:${hostName}\n`,
    );
  });
});
