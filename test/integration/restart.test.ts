// A restarted host is like a rebooted machine: its files stay, its runtime state goes, and it
// answers SSH again with the same host key.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, hostRootPath, labExec, labHost, restartHost } from '../lab/lab.js';
import { sshRun } from './ssh.js';

describe('restarting a host', () => {
  let h3: LabHost;
  beforeAll(() => {
    h3 = labHost(HOSTS.restart[0]);
  });

  it('keeps its files and identity, drops its runtime state', async () => {
    const token = randomUUID();
    const before = await sshRun(
      h3,
      `echo ${token} > /root/restart-token && echo ${token} > /run/restart-token && ` +
        `ip link add br-restart type bridge && ln -s /dev/null /etc/systemd/system/restart-test.service`,
    );
    expect(before).toMatchObject({ code: 0, stderr: '' });
    const machineId = (await labExec(h3, ['cat', '/etc/machine-id'], { check: true })).stdout;
    // Field 22 of /proc/1/stat: when PID 1 started, in ticks since the (shared) kernel booted.
    const pid1Start = async (): Promise<number> =>
      Number((await labExec(h3, ['cat', '/proc/1/stat'], { check: true })).stdout.split(' ')[21]);
    const startedBefore = await pid1Start();

    await restartHost(h3);

    expect((await labExec(h3, ['cat', '/root/restart-token'], { check: true })).stdout).toBe(`${token}\n`);
    expect(readFileSync(hostRootPath(h3, 'root/restart-token'), 'utf8')).toBe(`${token}\n`);
    expect((await labExec(h3, ['cat', '/etc/machine-id'], { check: true })).stdout).toBe(machineId);
    expect((await labExec(h3, ['readlink', '/etc/systemd/system/restart-test.service'])).stdout).toBe('/dev/null\n');
    // A new boot: a new PID 1, an empty /run, no runtime bridge.
    expect(await pid1Start()).toBeGreaterThan(startedBefore);
    expect((await labExec(h3, ['test', '-e', '/run/restart-token'])).code).toBe(1);
    expect((await labExec(h3, ['ip', 'link', 'show', 'br-restart'])).code).not.toBe(0);
    expect((await labExec(h3, 'systemctl is-system-running --wait')).stdout.trim()).toBe('running');

    // Same address, same pinned host key.
    const after = await sshRun(h3, 'hostname');
    expect(after).toMatchObject({ code: 0, stdout: `${h3.name}\n` });
  });
});
