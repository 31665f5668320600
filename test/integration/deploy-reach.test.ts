// How `otopi deploy` reaches hosts that are not simply "root with a key file": a target that only
// a bastion reaches, named in an OpenSSH client config with ProxyJump (and the bastion's wrong key
// refused); an ssh-agent holding an RSA key as the only credential; an encrypted key, its
// passphrase from a file or typed on a terminal; a full cache disk reported in the host's own
// words; a connection refused while sshd is down, tried again; a pin in the engine's MD5 form.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { hostRootPath, isolateHost, type LabHost, labExec, labHost } from '../lab/lab.js';
import { CLI, type DeployRun, runDeploy } from './support/deploy-lab.js';

let bastion: LabHost;
let target: LabHost;
let keys: LabHost;
let spare: LabHost;
let work: string;
let agent: ChildProcess | undefined;
const detail = (run: DeployRun): string => `${run.stdout}\n${run.stderr}`;
const hostKey = (h: LabHost): string =>
  readFileSync(hostRootPath(h, '/etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');

function write(name: string, text: string): string {
  const file = join(work, name);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

/** A direct host's inventory: address, port and pinned key, plus `extra`. */
function inventory(name: string, h: LabHost, extra: string[]): string {
  return write(
    `${name}.ini`,
    [
      `[host ${h.name}]`,
      `address = ${h.address}`,
      `fingerprint = ${h.hostKeyFingerprint}`,
      'ssh_config = none',
      ...extra,
    ].join('\n') + '\n',
  );
}

/** Where a TCP connection from this machine ends: 'connected', or the error code. */
function probe(host: string, port = 22): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve('connected')));
    s.once('timeout', () => (s.destroy(), resolve('timeout')));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

beforeAll(async () => {
  [bastion, target, keys, spare] = HOSTS.deployReach.map((n) => labHost(n)) as [LabHost, LabHost, LabHost, LabHost];
  work = mkdtempSync(join(tmpdir(), 'otopi-reach-'));
  await isolateHost(target);
}, 120_000);

afterAll(async () => {
  if (agent?.pid !== undefined) process.kill(agent.pid, 'SIGTERM');
  await labExec(spare, 'umount /var/cache/otopi 2>/dev/null; systemctl start ssh');
});

describe('a target behind a bastion (ProxyJump from an ssh config)', () => {
  it('is not reachable from this machine, only from the bastion', async () => {
    expect(await probe(target.address)).toBe('ECONNREFUSED');
    // No route to the lab network here (nothing is sent to find out: it would leave the machine).
    const route = execFileSync('ip', ['route', 'get', target.labAddress], { encoding: 'utf8' });
    expect(route).not.toMatch(/labbr0|otopi-|veth/);
    expect(execFileSync('ip', ['-o', 'addr'], { encoding: 'utf8' })).not.toContain(
      `${target.labAddress.split('.').slice(0, 3).join('.')}.`,
    );
    const fromBastion = await labExec(bastion, `nc -z -w 2 ${target.labAddress} 22 && echo open`);
    expect(fromBastion.stdout.trim()).toBe('open');
  });

  const config = (knownHosts: string): string =>
    write(
      `ssh_config-${knownHosts.length}`,
      `# As a user would write it; OpenSSH's own ssh reads it too.
Host bastion
  HostName ${bastion.address}
  User root
Host behind
  HostName ${target.labAddress}
  ProxyJump bastion
Host *
  IdentityFile ${bastion.privateKeyPath}
  IdentitiesOnly yes
  UserKnownHostsFile ${knownHosts}
  StrictHostKeyChecking yes
  ConnectTimeout 10
`,
    );

  it('deploys through the bastion, with the config given by -F, each hop checked strictly', async () => {
    const known = write(
      'known_hosts',
      `${bastion.address} ${hostKey(bastion)}\n${target.labAddress} ${hostKey(target)}\n`,
    );
    const file = config(known);
    // The same file works with OpenSSH itself.
    const name = execFileSync('ssh', ['-F', file, '-o', 'BatchMode=yes', 'behind', 'hostname'], { encoding: 'utf8' });
    expect(name.trim()).toBe(target.name);
    const run = await runDeploy(write('jump.ini', '[host behind]\n'), ['-F', file]);
    expect(run.code, detail(run)).toBe(0);
    expect(run.hosts['behind']).toMatchObject({
      result: 'installed',
      hostKey: { fingerprint: target.hostKeyFingerprint },
    });
    // The installer ran on the target, not on the bastion.
    expect((await labExec(target, 'ls /var/cache/otopi/bundles | wc -l')).stdout.trim()).toBe('1');
    expect((await labExec(bastion, 'test -e /var/cache/otopi')).code).not.toBe(0);
  });

  it("refuses a bastion whose key does not match, as a target's, and never logs in behind it", async () => {
    // The bastion recorded with another lab host's key: as if something else answered at its address.
    const known = write(
      'known_hosts.bad',
      `${bastion.address} ${hostKey(keys)}\n${target.labAddress} ${hostKey(target)}\n`,
    );
    const before = (await labExec(target, 'journalctl -u ssh --no-pager | grep -c Accepted')).stdout.trim();
    const run = await runDeploy(write('jump-bad.ini', `[host behind]\nssh_config = ${config(known)}\n`), []);
    expect(run.code, detail(run)).toBe(1);
    expect(run.hosts['behind']).toMatchObject({ result: 'failed', stage: 'SSH connection' });
    expect(run.hosts['behind']!.cause).toMatch(
      new RegExp(
        `jump host ${bastion.address.replace(/\./g, '\\.')}: host key of .* does not match: it presented ssh-ed25519 ${bastion.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}`,
      ),
    );
    const after = (await labExec(target, 'journalctl -u ssh --no-pager | grep -c Accepted')).stdout.trim();
    expect(after).toBe(before);
  });
});

describe('credentials', () => {
  it('logs in through an ssh-agent holding an RSA key, signed with rsa-sha2 as OpenSSH 8.8+ requires', async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '3072', '-N', '', '-C', 'agent-key', '-f', join(work, 'rsa')]);
    await labExec(keys, `cat >>/root/.ssh/authorized_keys`, {
      input: readFileSync(join(work, 'rsa.pub'), 'utf8'),
      check: true,
    });
    const algorithms = (await labExec(keys, 'sshd -T | grep -i ^pubkeyacceptedalgorithms', { check: true })).stdout;
    expect(algorithms.split(/[ ,\n]/)).not.toContain('ssh-rsa'); // SHA-1 signatures are refused here
    const sock = join(work, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
    execFileSync('ssh-add', ['-q', join(work, 'rsa')], { env: { SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    const home = mkdtempSync(join(tmpdir(), 'otopi-empty-home-')); // no default keys to fall back on

    const run = await runDeploy(inventory('agent', keys, []), [], { HOME: home, SSH_AUTH_SOCK: sock });
    expect(run.code, detail(run)).toBe(0);
    expect(run.hosts[keys.name]?.result).toBe('installed');
    const rsaFingerprint = execFileSync('ssh-keygen', ['-lf', join(work, 'rsa.pub')], { encoding: 'utf8' }).split(
      ' ',
    )[1]!;
    const journal = await labExec(keys, 'journalctl -u ssh --no-pager | grep "Accepted publickey for root"');
    expect(journal.stdout).toContain(`RSA ${rsaFingerprint}`);
    process.kill(agent.pid!, 'SIGTERM');
    agent = undefined;
  });

  it('opens an encrypted key with its passphrase from a file, or typed once on a terminal', async () => {
    const passphrase = 'Key-passphrase-0b51';
    const key = join(work, 'locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'locked', '-f', key]);
    await labExec(keys, `cat >>/root/.ssh/authorized_keys`, { input: readFileSync(`${key}.pub`, 'utf8'), check: true });
    const pwFile = write('passphrase', `${passphrase}\n`);
    const fromFile = await runDeploy(
      inventory('locked', keys, [`identity_file = ${key}`, `passphrase_file = ${pwFile}`]),
      [],
    );
    expect(fromFile.code, detail(fromFile)).toBe(0);
    for (const text of [fromFile.stdout, fromFile.eventsText]) expect(text).not.toContain(passphrase);

    // On a terminal (script(1) gives the command a pseudo-terminal): asked once, nothing echoed.
    const inv = inventory('typed', keys, [`identity_file = ${key}`]);
    const events = join(work, 'typed.jsonl');
    const command = [
      process.execPath,
      CLI,
      'deploy',
      '-i',
      inv,
      '--events',
      events,
      '--log-dir',
      join(work, 'typed-logs'),
      '--progress',
      'plain',
    ];
    const child = spawn('script', ['-qfec', command.map((w) => `'${w}'`).join(' '), '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work, TERM: 'dumb' },
    });
    let output = '';
    let typed = false;
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!typed && output.includes(`Enter passphrase for key '${key}': `)) {
        typed = true;
        child.stdin.write(`${passphrase}\r`);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, output).toBe(0);
    expect(output.match(/Enter passphrase/g)).toHaveLength(1);
    expect(output).not.toContain(passphrase);
    expect(readFileSync(events, 'utf8')).toContain('"result":"installed"');
  });
});

describe('failures before the installer runs', () => {
  it("reports a full cache disk in the host's own words, on the console and in the log", async () => {
    await labExec(spare, 'mkdir -p /var/cache/otopi && mount -t tmpfs -o size=1m,mode=0700 tmpfs /var/cache/otopi', {
      check: true,
    });
    try {
      const run = await runDeploy(inventory('full', spare, [`identity_file = ${spare.privateKeyPath}`]), []);
      expect(run.code, detail(run)).toBe(1);
      const report = run.hosts[spare.name]!;
      expect(report).toMatchObject({ result: 'failed', stage: 'Bundle transfer' });
      expect(report.cause).toMatch(
        /cannot (?:store|unpack) the (?:bundle|runtime) in \/var\/cache\/otopi: .*No space left on device/,
      );
      expect(report.cause).not.toMatch(/ended during the transfer/);
      expect(run.stdout).toContain('No space left on device');
      const log = readdirSync(run.logDir).map((f) => readFileSync(join(run.logDir, f), 'utf8'));
      expect(log.join('\n')).toContain('No space left on device');
    } finally {
      // The mount point stays behind (mode 0755): the bootstrap would rightly refuse it.
      await labExec(spare, 'umount /var/cache/otopi && rm -rf /var/cache/otopi', { check: true });
    }
  });

  it('tries again while sshd is down, and connects once it is back; pinned in the MD5 form', async () => {
    const md5 = execFileSync(
      'ssh-keygen',
      ['-E', 'md5', '-lf', hostRootPath(spare, '/etc/ssh/ssh_host_ed25519_key.pub')],
      {
        encoding: 'utf8',
      },
    ).split(' ')[1]!;
    expect(md5).toMatch(/^MD5:/);
    const file = inventory('retry', spare, [`identity_file = ${spare.privateKeyPath}`]);
    writeFileSync(file, readFileSync(file, 'utf8').replace(spare.hostKeyFingerprint, md5.slice('MD5:'.length)));
    await labExec(spare, 'systemctl stop ssh', { check: true });
    const deploy = runDeploy(file, []);
    await new Promise((r) => setTimeout(r, 2500));
    await labExec(spare, 'systemctl start ssh', { check: true });
    const run = await deploy;
    expect(run.code, detail(run)).toBe(0);
    expect(run.hosts[spare.name]?.result).toBe('installed');
    const log = readdirSync(run.logDir).map((f) => readFileSync(join(run.logDir, f), 'utf8'));
    expect(log.join('\n')).toMatch(/connection attempt 1 failed before login .*; trying again in 1\.5 s/);
  });
});
