/**
 * Bad input tour, the part that needs a real sshd: `otopi deploy` to a lab host with a wrong
 * user, with a key the host does not know, and to the host's address on a port nothing
 * listens on. Each fails that host at the SSH connection with a cause naming the host and
 * the reason, and the host is left exactly as it was (checked without SSH).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HOSTS } from '../../lab/allocation.js';
import { labExec, labHost, type LabHost } from '../../lab/lab.js';
import { ROOT, runDir, removeRunDirs } from '../support/cli.js';
import { recordFigure } from '../support/figures.js';
import { runDeployCli, writeInventory } from './support.js';

afterAll(removeRunDirs);

let host: LabHost;
const rows: { case: string; message: string; ok: boolean }[] = [];

/** What a deploy could have touched on the host. */
async function state(): Promise<string> {
  return (
    await labExec(
      host,
      'for d in /var/cache/otopi /var/lib/otopi /var/log/otopi /tmp /root; do [ -e $d ] && find $d -printf "%p %y %s\\n" | sort || echo "$d absent"; done',
      { check: true },
    )
  ).stdout;
}

beforeAll(() => {
  host = labHost(HOSTS.reliabilityBadHosts[0]);
});

afterAll(() => {
  const ok = rows.filter((r) => r.ok).length;
  const table = rows
    .map(
      (r) =>
        `| host | ${r.case} | 1 | failed at SSH connection | ${r.message
          .replace(/\/tmp\/otopi-reliability-[^/ ]+/g, '<dir>')
          .replaceAll('|', '\\|')
          .slice(0, 170)} |`,
    )
    .join('\n');
  mkdirSync(join(ROOT, 'test/.artifacts'), { recursive: true });
  writeFileSync(join(ROOT, 'test/.artifacts/reliability-bad-input-hosts.md'), `${table}\n`);
  console.log(table);
  recordFigure({
    item: 'bad-input',
    part: 'hosts',
    line: `bad input tour (hosts): ${ok}/${rows.length} refused at the SSH connection, naming the host and the reason, host unchanged`,
    ok,
    total: rows.length,
  });
});

it.each([
  [
    'a user the host does not have',
    () => ['user = nobody-here', `identity_file = ${host.privateKeyPath}`],
    /authentication|auth/i,
  ],
  [
    'a key the host does not know',
    () => {
      const key = join(runDir(), 'id_stranger');
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      return [`user = ${host.user}`, `identity_file = ${key}`];
    },
    /authentication|auth/i,
  ],
  [
    'its address on a port nothing listens on',
    () => ['port = 2', `user = ${host.user}`, `identity_file = ${host.privateKeyPath}`],
    /ECONNREFUSED/,
  ],
])('a deploy to %s fails at the SSH connection and changes nothing', async (what, fields, reason) => {
  const before = await state();
  const lines = fields();
  const port = lines.some((l) => l.startsWith('port = ')) ? [] : [`port = ${host.port}`];
  const inventory = writeInventory([
    `[host ${host.name}]`,
    `address = ${host.address}`,
    ...port,
    `fingerprint = ${host.hostKeyFingerprint}`,
    ...lines,
  ]);
  const run = await runDeployCli(inventory, []);
  const end = /\{"at":"[^"]*","type":"host-end".*/.exec(run.events)?.[0] ?? '';
  const message = (run.stdout + run.stderr).split('\n').find((l) => l.startsWith(`${host.name}: FAILED`)) ?? '';
  const problems: string[] = [];
  if (run.code !== 1) problems.push(`exit code ${run.code}`);
  if (!end.includes('"stage":"SSH connection"') || !end.includes('"result":"failed"'))
    problems.push(`host-end: ${end.slice(0, 300)}`);
  if (!reason.test(end)) problems.push(`the cause does not say ${String(reason)}: ${end.slice(0, 300)}`);
  if (!message.includes(host.address)) problems.push(`the message does not name ${host.address}: ${message}`);
  if (!end.includes('"payload":0')) problems.push('something was sent');
  if ((await state()) !== before) problems.push('the host changed');
  rows.push({ case: what, message, ok: problems.length === 0 });
  expect(problems).toEqual([]);
});
