// `otopi deploy` as a user who is not root, with `become = sudo`: sudo installed from the Debian
// mirror (the lab's apt proxy), a login user `deployer` with passwordless sudo on one host and
// with a sudo password on the other. The bundle must run as root from a root-owned, private
// cache; the password must show nowhere (output, events, logs, either side's process list,
// files or journal left on the host); and what the login user can reach must never be run as
// root: a cached bundle that was changed is fetched again, never executed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { type DeployRun, runDeploy } from './support/deploy-lab.js';

const CANARY = 'Sudo-canary-3f9e1c77';
const USER = 'deployer';
let nopasswd: LabHost;
let withPassword: LabHost;
const detail = (run: DeployRun): string => `${run.stdout}\n${run.stderr}`;

/** sudo from the Debian mirror, a login user with the lab's key, and its sudoers rule. */
async function prepare(host: LabHost, rule: string): Promise<void> {
  await labExec(
    host,
    `set -e
cp /etc/apt/otopi-lab-debian.list /etc/apt/sources.list.d/
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sudo >/dev/null 2>&1
rm /etc/apt/sources.list.d/otopi-lab-debian.list && apt-get update -qq
id ${USER} >/dev/null 2>&1 || useradd -m -s /bin/bash ${USER}
install -d -o ${USER} -g ${USER} -m 700 /home/${USER}/.ssh
install -o ${USER} -g ${USER} -m 600 /root/.ssh/authorized_keys /home/${USER}/.ssh/authorized_keys
echo '${USER} ${rule}' >/etc/sudoers.d/${USER} && chmod 440 /etc/sudoers.d/${USER}`,
    { check: true, timeoutMs: 300_000 },
  );
}

function inventory(host: LabHost, extra: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'otopi-become-'));
  const file = join(dir, 'hosts.ini');
  const lines = [
    `[host ${host.name}]`,
    `address = ${host.address}`,
    `user = ${USER}`,
    `identity_file = ${host.privateKeyPath}`,
    `fingerprint = ${host.hostKeyFingerprint}`,
    'ssh_config = none',
    'become = sudo',
    ...extra,
  ];
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}

/** Every process's command line on this machine and on the host, sampled until `done` settles. */
function watchProcesses(host: LabHost, done: Promise<unknown>): Promise<string> {
  let seen = '';
  let running = true;
  void done.finally(() => (running = false));
  const local = (): Promise<string> =>
    new Promise((resolve) => {
      const ps = spawn('ps', ['-eo', 'args'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      ps.stdout.on('data', (d: Buffer) => (out += d.toString()));
      ps.on('close', () => resolve(out));
    });
  const loop = async (): Promise<string> => {
    while (running) {
      const [mine, theirs] = await Promise.all([local(), labExec(host, ['ps', '-eo', 'args'])]);
      seen += mine + theirs.stdout;
      await new Promise((r) => setTimeout(r, 50));
    }
    return seen;
  };
  return loop();
}

beforeAll(async () => {
  [nopasswd, withPassword] = HOSTS.deployBecome.map((n) => labHost(n)) as [LabHost, LabHost];
  await Promise.all([prepare(nopasswd, 'ALL=(ALL:ALL) NOPASSWD: ALL'), prepare(withPassword, 'ALL=(ALL:ALL) ALL')]);
  await labExec(withPassword, ['chpasswd'], { input: `${USER}:${CANARY}\n`, check: true });
}, 600_000);

afterAll(async () => {
  for (const h of [nopasswd, withPassword]) await labExec(h, `rm -f /etc/sudoers.d/${USER}`);
});

describe('become = sudo', () => {
  it('runs the bundle as root through sudo -n, from a cache only root can write', async () => {
    const run = await runDeploy(inventory(nopasswd, []), []);
    expect(run.code, detail(run)).toBe(0);
    expect(run.hosts[nopasswd.name]).toMatchObject({ result: 'installed', shipped: ['bundle', 'runtime'] });
    const modes = await labExec(nopasswd, 'stat -c "%U %a %n" /var/cache/otopi /var/cache/otopi/bundles/*', {
      check: true,
    });
    for (const line of modes.stdout.trim().split('\n')) expect(line).toMatch(/^root 700 /);
  });

  it('never runs a cached bundle that was changed: the login user cannot touch it, and a changed one is fetched again', async () => {
    const entry = (await labExec(nopasswd, 'ls -d /var/cache/otopi/bundles/*', { check: true })).stdout.trim();
    // The login user can neither write into the cache nor put a cache of its own in its place.
    const attempt = await labExec(nopasswd, [
      'runuser',
      '-u',
      USER,
      '--',
      'sh',
      '-c',
      `echo 'require("fs").writeFileSync("/tmp/pwned", "")' >>${entry}/bin/otopi.js || mv /var/cache/otopi /var/cache/otopi.old`,
    ]);
    expect(attempt.code).not.toBe(0);
    expect(attempt.stderr).toMatch(/Permission denied/);
    // Damage it as only root could (a bad disk, a careless admin): the next run must not execute it.
    await labExec(nopasswd, `echo 'require("fs").writeFileSync("/tmp/pwned", "")' >>${entry}/bin/otopi.js`, {
      check: true,
    });
    const run = await runDeploy(inventory(nopasswd, []), []);
    expect(run.code, detail(run)).toBe(0);
    expect(run.hosts[nopasswd.name]).toMatchObject({ result: 'installed', shipped: ['bundle'] });
    expect(run.eventsText).toContain('fails its check (SHA-256, owner or modes): set aside, fetched again');
    expect((await labExec(nopasswd, 'test -e /tmp/pwned')).code).not.toBe(0);
    expect((await labExec(nopasswd, `grep -c pwned ${entry}/bin/otopi.js`)).stdout.trim()).toBe('0');
  });

  it('feeds the sudo password through the session, and it shows nowhere', async () => {
    const secrets = mkdtempSync(join(tmpdir(), 'otopi-become-pw-'));
    const pwFile = join(secrets, 'sudo.pw');
    writeFileSync(pwFile, `${CANARY}\n`, { mode: 0o600 });
    const deploy = runDeploy(inventory(withPassword, [`become_password_file = ${pwFile}`]), ['--progress', 'tty']);
    const processes = watchProcesses(withPassword, deploy);
    const run = await deploy;
    expect(run.code, detail(run)).toBe(0);
    expect(run.hosts[withPassword.name]).toMatchObject({ result: 'installed' });
    const logs = readdirSync(run.logDir).map((f) => readFileSync(join(run.logDir, f), 'utf8'));
    expect(logs.join('\n')).toMatch(/---- host log \(\d+ lines\) ----/);
    const seen = await processes;
    expect(seen).toContain('otopi-become');
    for (const text of [run.stdout, run.stderr, run.eventsText, ...logs, seen]) expect(text).not.toContain(CANARY);
    const onHost = await labExec(
      withPassword,
      `grep -rlF -D skip '${CANARY}' /var/log /tmp /var/tmp /var/cache/otopi /root /home /run 2>/dev/null; journalctl -b --no-pager | grep -cF '${CANARY}'`,
    );
    expect(onHost.stdout.trim()).toBe('0');
    const cache = await labExec(withPassword, 'stat -c "%U %a" /var/cache/otopi', { check: true });
    expect(cache.stdout.trim()).toBe('root 700');
  });

  it('fails the host with sudo’s own words when the password is wrong, and never shows it', async () => {
    const wrong = 'Wrong-sudo-pw-81c2';
    const run = await runDeploy(inventory(withPassword, ['become_password_env = OTOPI_TEST_SUDO']), [], {
      OTOPI_TEST_SUDO: wrong,
    });
    expect(run.code, detail(run)).toBe(1);
    expect(run.hosts[withPassword.name]).toMatchObject({ result: 'failed', stage: 'Bundle transfer' });
    expect(run.hosts[withPassword.name]!.cause).toMatch(/sudo on .* refused: Sorry, try again/);
    for (const text of [run.stdout, run.stderr, run.eventsText]) expect(text).not.toContain(wrong);
  });
});
