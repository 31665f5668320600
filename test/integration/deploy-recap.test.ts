// What a person sees of `otopi deploy --group host-deploy` on three hosts, through the real CLI
// and SSH: a dry run that shows per host what would change (diffs, colour only on a terminal,
// run under `script` for a pseudo-terminal) and changes nothing; the install and its recap of
// changed hosts; a rerun that says "unchanged" on every host; a dry run of a deployed host that
// claims no new key and no reloaded rules; warnings folded across hosts; a failed host rerun
// alone with the one command the run printed (a retry file and --limit @FILE); --list-hosts with
// groups and globs, without connecting. Host state is checked with labExec (nsenter).
// Hosts (HOSTS.deployRecap): three, deployed together.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { CLI, FIXTURES, type DeployRun, runDeploy, writeInventory } from './support/deploy-lab.js';
import { engineDefaults, snapshot } from './support/host-deploy-lab.js';

let hosts: LabHost[];
let inventory: string;
let work: string;
const detail = (run: DeployRun): string => `${run.stdout}\n${run.stderr}`;
const hostDeploy = (more: string[] = []): string[] => [
  '--group',
  'host-deploy',
  '--ca-dir',
  join(work, 'ca'),
  '--parallel',
  '3',
  ...more,
];
const snapshots = (): Promise<Record<string, string>[]> => Promise.all(hosts.map((h) => snapshot(h)));

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'otopi-recap-'));
  hosts = HOSTS.deployRecap.map((n) => labHost(n));
  for (const h of hosts)
    await labExec(
      h,
      `mkdir -p /etc/network && printf 'auto eth0\\niface eth0 inet static\\n    address ${h.labAddress}/24\\n' > /etc/network/interfaces`,
      { check: true },
    );
  inventory = writeInventory(hosts, {
    defaults: engineDefaults(),
    extra: Object.fromEntries(hosts.map((h) => [h.name, [`host_fqdn = ${h.name}.lab`]])),
  });
  // A group for --limit and --list-hosts.
  appendFileSync(inventory, `\n[group first2]\nhosts = ${hosts[0]!.name}, ${hosts[1]!.name}\n`);
});

describe('a dry run on fresh hosts', () => {
  it('shows per host what would change, with diffs and no colour in a pipe, and changes nothing', async () => {
    const before = await snapshots();
    const run = await runDeploy(inventory, hostDeploy(['--dry-run']));
    expect(run.code, detail(run)).toBe(0);
    for (const h of hosts) {
      expect(run.stdout).toMatch(new RegExp(`^${h.name}: would change \\d+ things:$`, 'm'));
      expect(run.hosts[h.name]).toMatchObject({
        changed: true,
        diff: expect.stringContaining('+++ b/etc/vdsm/vdsm.conf'),
      });
    }
    expect(run.stdout).toContain('    +[addresses]');
    expect(run.stdout).toContain('3 would change, 0 would not');
    expect(run.stdout).not.toContain('\x1b[');
    expect(await snapshots()).toEqual(before);
  }, 600_000);

  it('in colour on a terminal (a pseudo-terminal from script)', () => {
    const command = [
      process.execPath,
      CLI,
      'deploy',
      '-i',
      inventory,
      '--plugin-path',
      FIXTURES,
      '--log-dir',
      join(work, 'tty-logs'),
      '--limit',
      hosts[0]!.name,
      ...hostDeploy(['--dry-run']),
    ].join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work, TERM: 'xterm', COLUMNS: '200' },
      timeout: 300_000,
    });
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toContain(`${hosts[0]!.name}: would change`);
    expect(r.stdout).toContain('\x1b[32m+'); // added lines in green
    expect(r.stdout).toContain('\x1b[1m+++ '); // file headers in bold
  }, 300_000);
});

describe('the install, then a rerun', () => {
  let first: DeployRun;
  beforeAll(async () => {
    first = await runDeploy(inventory, hostDeploy());
  }, 900_000);

  it('counts the changed hosts like a recap and folds warnings repeated across hosts', () => {
    expect(first.code, detail(first)).toBe(0);
    expect(first.stdout).toContain('3 hosts: 3 installed, 0 failed, 0 aborted; 3 changed, 0 unchanged');
    for (const h of hosts) expect(first.stdout).toMatch(new RegExp(`^${h.name} +installed +changed `, 'm'));
    // Each warning text is shown live once, whatever the number of hosts that gave it.
    const live = first.stdout.split('\n').filter((l) => / WARNING /.test(l) && !l.startsWith('WARNING on'));
    const texts = live.map((l) => l.replace(/^\S+: WARNING /, ''));
    expect(new Set(texts).size).toBe(texts.length);
    for (const line of first.stdout.split('\n').filter((l) => l.startsWith('WARNING on ')))
      expect(line).toMatch(/^WARNING on [123] hosts? \(/);
  });

  it('names the logs as the engine does, with the run correlation id', () => {
    const start = first.events.find((e) => e.type === 'run-start') as { correlationId: string };
    for (const h of hosts)
      expect(first.hosts[h.name]!.log).toMatch(
        new RegExp(`/ovirt-host-deploy-\\d{14}-${h.name}-${start.correlationId}\\.log$`),
      );
  });

  it('a second run says unchanged on every host, and a dry run claims no new key or reloaded rules', async () => {
    const before = await snapshots();
    const again = await runDeploy(inventory, hostDeploy());
    expect(again.code, detail(again)).toBe(0);
    for (const h of hosts) {
      expect(again.stdout, detail(again)).toContain(`${h.name}: installed, unchanged in`);
      expect(again.hosts[h.name]).toMatchObject({ changed: false, changes: [] });
    }
    expect(again.stdout).toContain('3 installed, 0 failed, 0 aborted; 0 changed, 3 unchanged');
    const dry = await runDeploy(inventory, hostDeploy(['--dry-run']));
    expect(dry.code, detail(dry)).toBe(0);
    expect(dry.stdout).not.toContain('would make a key');
    expect(dry.stdout).not.toContain('load into');
    for (const h of hosts) expect(dry.hosts[h.name]?.changes).toEqual([]);
    expect(await snapshots()).toEqual(before);
  }, 900_000);
});

describe('after a failure', () => {
  it('prints the one command that reruns only the failed host, and that command works', async () => {
    const broken = hosts[2]!;
    await labExec(broken, 'systemctl stop ssh.socket ssh.service', { check: true });
    let run: DeployRun;
    try {
      run = await runDeploy(inventory, hostDeploy(['--connect-timeout', '5']));
    } finally {
      await labExec(broken, 'systemctl start ssh.service', { check: true });
    }
    expect(run.code, detail(run)).toBe(1);
    expect(run.stdout).toContain(`${broken.name}: failed at SSH connection`);
    expect(run.stdout).toMatch(/\(Check .*sshd runs on the host/);
    const lines = run.stdout.split('\n');
    const at = lines.indexOf('To rerun only the 1 host that failed:');
    expect(at, run.stdout).toBeGreaterThan(0);
    const command = lines[at + 1]!.trim();
    expect(command).toMatch(/^otopi deploy .*--limit @\S+\.retry$/);
    const retryFile = /--limit @(\S+)$/.exec(command)![1]!;
    expect(readFileSync(retryFile, 'utf8')).toBe(`${broken.name}\n`);
    // The printed command, run as printed (with this tree's otopi).
    const again = spawnSync('sh', ['-c', command.replace(/^otopi /, `${process.execPath} ${CLI} `)], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work },
      timeout: 600_000,
    });
    expect(again.status, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(again.stdout).toContain(`deploying to 1 host`);
    expect(again.stdout).toContain(`1 host: 1 installed, 0 failed, 0 aborted`);
  }, 900_000);

  it('--list-hosts shows what a limit selects without connecting', () => {
    const r = spawnSync(
      process.execPath,
      [CLI, 'deploy', '-i', inventory, '--list-hosts', '--limit', `first2,!${hosts[0]!.name}`],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`1 host:\n  ${hosts[1]!.name}  root@${hosts[1]!.address}  first2\n`);
  });
});
