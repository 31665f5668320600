/**
 * Secrets canary through `otopi deploy`: canary values in the inventory (a setting of a
 * sensitive key, an answer to a hidden question), in an answer file (`--answers`) and on the
 * deploy command line, on a deploy whose host fails after the secrets were set; and refused
 * values for a sensitive key on each of those paths. Every output is searched: the deploy's
 * standard output and error (progress, summary), its JSON event stream, the per-host logs
 * (with the dialog transcript and the host's own log), and the host's files (/var/log,
 * /var/lib/otopi, /var/cache/otopi, /tmp, /root, /etc). Expected: 0 hits.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../../lab/allocation.js';
import { labExec, labHost, type LabHost } from '../../lab/lab.js';
import { filesUnder, runDir, removeRunDirs } from '../support/cli.js';
import { recordFigure } from '../support/figures.js';
import { hostSection, runDeployCli, writeInventory, type DeployCliRun } from './support.js';

afterAll(removeRunDirs);

const RUN_ID = randomBytes(4).toString('hex');
const canary = (path: string): string => `CNRY${RUN_ID}${path}`;
const numeric = `7${randomInt(10 ** 9, 10 ** 10 - 1)}`;
const CANARY_RE = new RegExp(`CNRY${RUN_ID}|${numeric}`, 'g');
const HOST_FOLDERS = ['/var/log', '/var/lib/otopi', '/var/cache/otopi', '/tmp', '/root', '/etc'];

let host: LabHost;
const tally = { outputs: 0, hits: 0, paths: 0, leaks: [] as string[] };

function count(label: string, what: string, text: string): boolean {
  tally.outputs++;
  const found = text.match(CANARY_RE) ?? [];
  tally.hits += found.length;
  if (found.length > 0) {
    const at = text.search(CANARY_RE);
    tally.leaks.push(`${label}: ${what}: …${text.slice(Math.max(0, at - 120), at + 40)}…`);
  }
  return text.includes('**REDACTED**');
}

/** Searches the deploy's outputs and the host's files; returns whether anything was redacted. */
async function inspect(label: string, run: DeployCliRun, inputs: readonly string[] = []): Promise<boolean> {
  tally.paths++;
  let redacted = count(label, 'stdout', run.stdout);
  redacted = count(label, 'stderr', run.stderr) || redacted;
  for (const [path, text] of filesUnder(run.dir)) {
    if (!inputs.includes(path)) redacted = count(label, path.slice(run.dir.length + 1), text) || redacted;
  }
  const onHost = await labExec(host, ['grep', '-rlE', `CNRY${RUN_ID}|${numeric}`, ...HOST_FOLDERS]);
  tally.outputs++;
  if (onHost.stdout.trim() !== '') {
    tally.hits++;
    tally.leaks.push(`${label}: on the host: ${onHost.stdout.trim()}`);
  }
  expect(tally.leaks.filter((l) => l.startsWith(`${label}:`))).toEqual([]);
  return redacted;
}

beforeAll(() => {
  host = labHost(HOSTS.reliabilitySecrets[0]);
});

afterAll(() => {
  recordFigure({
    item: 'secrets',
    part: 'deploy',
    line: `secrets canary (deploy): ${tally.hits} hits in ${tally.outputs} outputs of ${tally.paths} input paths`,
    ok: tally.outputs - tally.leaks.length,
    total: tally.outputs,
    data: { hits: tally.hits, outputs: tally.outputs, paths: tally.paths },
  });
});

describe('secrets canary through otopi deploy', () => {
  it('inventory settings and answers, an answer file and the command line, on a host that fails after they were set', async () => {
    const dir = runDir();
    const answers = join(dir, 'answers.conf');
    writeFileSync(answers, `[environment:default]\nCANARY/keys=multi-str:${canary('answersfile')}\n`, { mode: 0o600 });
    const inventory = writeInventory(
      hostSection(host, [
        `CANARY/password = str:${canary('inventory')}`,
        `CANARY/pin = int:${numeric}`,
        'CANARY/ask = bool:True',
        `answer.CANARY_SECRET = ${canary('inventoryanswer')}`,
        'CANARY/failAt = str:misc',
      ]),
    );
    const run = await runDeployCli(inventory, [
      '--group',
      'canary',
      '--answers',
      answers,
      `CANARY/token=str:${canary('cmdline')}`,
    ]);
    expect(run.code).toBe(1);
    expect(run.events).toContain('"result":"failed"');
    const redacted = await inspect('deploy', run, [inventory, answers]);
    expect(redacted, 'nothing was redacted, so the secrets were never in play').toBe(true);
  });

  it.each([
    [
      'an inventory setting',
      (dir: string) => ({
        inventory: writeInventory(hostSection(host, [`CANARY/pin = int:${canary('invbad')}`])),
        args: [] as string[],
        inputs: [dir],
      }),
    ],
    [
      'an answer file',
      (dir: string) => {
        const answers = join(dir, 'answers.conf');
        writeFileSync(answers, `[environment:default]\nCANARY/pin=int:${canary('answersbad')}\n`, { mode: 0o600 });
        return { inventory: writeInventory(hostSection(host)), args: ['--answers', answers], inputs: [answers] };
      },
    ],
    [
      'the command line',
      () => ({
        inventory: writeInventory(hostSection(host)),
        args: [`CANARY/pin=int:${canary('cmdlinebad')}`],
        inputs: [],
      }),
    ],
    [
      'the command line, unquoted',
      () => ({
        inventory: writeInventory(hostSection(host)),
        args: ['CANARY/password=str:abc', canary('cmdlinestray')],
        inputs: [],
      }),
    ],
  ])('a refused value for a sensitive key in %s is never repeated', async (_label, make) => {
    const dir = runDir();
    const { inventory, args, inputs } = make(dir);
    const run = await runDeployCli(inventory, ['--group', 'canary', ...args]);
    expect(run.code === 2 || run.code === 64, `exit ${run.code}: ${run.stderr}`).toBe(true);
    await inspect(`refused in ${_label}`, run, [...inputs, inventory]);
  });
});
