// Checks of the lab itself: what hosts.json promises, what labExec does, and the safety rules
// (no lab address in the root namespace, no way out of the lab, teardown can verify its PIDs).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LabHost, hostRootPath, labExec, labHost, readHosts } from './lab.js';

// Read-only commands in the root namespace.
const rootNs = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });
const netPrefix = (h: LabHost): string => h.labAddress.replace(/\.\d+$/, '.');
const cmdline = (pidFile: string): string => {
  const pid = readFileSync(pidFile, 'utf8').trim();
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
};

describe('the lab', () => {
  let h1: LabHost;
  let h2: LabHost;
  beforeAll(() => {
    h1 = labHost(1);
    h2 = labHost(2);
  });

  it('describes each host in hosts.json', () => {
    const hosts = readHosts();
    expect(hosts.length).toBeGreaterThanOrEqual(3);
    for (const h of hosts) {
      expect(h.name).toBe(`h${h.index}`);
      expect(h.address).toMatch(/^127\.\d+\.\d+\.\d+$/);
      expect(h.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(existsSync(h.privateKeyPath)).toBe(true);
      expect(existsSync(join(h.rootfs, 'etc/otopi-lab-base'))).toBe(true);
    }
    expect(new Set(hosts.map((h) => h.hostKeyFingerprint)).size).toBe(hosts.length);
    expect(new Set(hosts.map((h) => h.labAddress)).size).toBe(hosts.length);
  });

  it('pins the host key each host really has', async () => {
    for (const h of readHosts()) {
      const r = await labExec(h, ['ssh-keygen', '-lf', '/etc/ssh/ssh_host_ed25519_key.pub'], { check: true });
      expect(r.stdout.split(' ')[1]).toBe(h.hostKeyFingerprint);
    }
  });

  it('runs labExec inside the host, under its systemd, with a clean environment', async () => {
    const r = await labExec(
      h2,
      'hostname; cat /proc/1/comm; echo "$HOME ${OTOPI_LAB_NAME:-unset}"; echo oops >&2; exit 3',
    );
    expect(r).toEqual({
      stdout: 'h2\nsystemd\n/root unset\n',
      stderr: 'oops\n',
      code: 3,
    });
    expect((await labExec(h1, ['cat'], { input: 'to stdin' })).stdout).toBe('to stdin');
    expect((await labExec(h1, ['printenv', 'X'], { env: { X: 'y' } })).stdout).toBe('y\n');
    await expect(labExec(h1, 'exit 4', { check: true })).rejects.toThrow(/exited with 4/);
    expect((await labExec(h1, 'systemctl is-system-running')).stdout.trim()).toBe('running');
  });

  it('gives each host its own file system', async () => {
    await labExec(h1, 'echo mine > /root/lab-test-own-fs', { check: true });
    expect(readFileSync(hostRootPath(h1, '/root/lab-test-own-fs'), 'utf8')).toBe('mine\n');
    expect(existsSync(hostRootPath(h2, '/root/lab-test-own-fs'))).toBe(false);
    expect(() => hostRootPath(h1, '../../etc/passwd')).toThrow(/leaves the host's root/);
  });

  it('keeps the lab network out of the root namespace', () => {
    expect(rootNs('ip', '-o', 'addr')).not.toContain(netPrefix(h1));
    expect(rootNs('ip', '-o', 'link')).not.toMatch(/labbr0|\bv\d+@/);
    for (const h of readHosts()) expect(rootNs('ip', 'netns', 'list')).toContain(h.netns);
  });

  it('gives the hosts each other and the lab repo, and no way out', async () => {
    const out = await labExec(h1, ['ip', 'route', 'get', '1.1.1.1']);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/unreachable/i);
    expect((await labExec(h1, ['ip', '-o', 'route'])).stdout).not.toContain('default');
    expect((await labExec(h1, ['ping', '-c1', '-W2', h2.labAddress])).code).toBe(0);
    const sources = await labExec(h1, 'grep -rh "^deb" /etc/apt/sources.list /etc/apt/sources.list.d/');
    expect(sources.stdout.trim().split('\n')).toEqual([`deb [trusted=yes] http://${netPrefix(h1)}1:8080 ./`]);
  });

  it('records PIDs whose command lines teardown can check', () => {
    let forwarders = 0;
    for (const h of readHosts()) {
      const dir = dirname(h.rootfs);
      expect(cmdline(join(dir, 'nspawn.pid'))).toContain(`--directory=${h.rootfs}`);
      // A host behind a bastion (isolate.sh) has no forwarder left, and no PID file for it.
      if (!existsSync(join(dir, 'forwarder.pid'))) continue;
      expect(cmdline(join(dir, 'forwarder.pid'))).toContain(`bind=${h.address},`);
      forwarders++;
    }
    // At most the one host a reach test isolates has none.
    expect(forwarders).toBeGreaterThanOrEqual(readHosts().length - 1);
  });
});

describe('host flavours', () => {
  const up = (...args: string[]): { code: number; stderr: string } => {
    try {
      execFileSync('bash', [join(dirname(new URL(import.meta.url).pathname), 'up.sh'), ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { code: 0, stderr: '' };
    } catch (error) {
      const e = error as { status: number; stderr: string };
      return { code: e.status, stderr: e.stderr };
    }
  };

  it('refuses an unknown flavour, a host beyond N and a malformed list, before anything is created', () => {
    // The instance is up: a list that passed would be refused next for that reason instead.
    expect(up('3', '--flavour', '2=bogus')).toMatchObject({ code: 1 });
    expect(up('3', '--flavour', '2=bogus').stderr).toContain("unknown flavour 'bogus' for h2 (known: debian el node");
    expect(up('3', '--flavour', '4=el').stderr).toContain('flavour for h4, but only h1..h3 come up');
    expect(up('3', '--flavour', 'el').stderr).toContain("bad flavour 'el': expected HOST=FLAVOUR");
    expect(up('3', '--flavour', '2=el').stderr).toContain('is up (namespaces');
  });

  it("says each host's flavour in hosts.json", () => {
    for (const h of readHosts()) expect(['debian', 'el', 'node']).toContain(h.flavour);
  });
});
