// Network changes made over SSH on one host stay in that host: the other hosts and the root
// namespace (checked read-only) are unaffected, and the SSH session survives them.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost, restartHost } from '../lab/lab.js';
import { connect, run } from './ssh.js';

const rootNs = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });
const comment = 'otopi-lab-network-test';

describe('network changes inside one host', () => {
  let h1: LabHost;
  let others: LabHost[];
  beforeAll(() => {
    h1 = labHost(HOSTS.network[0]);
    others = [labHost(HOSTS.network[1]), labHost(HOSTS.network[2])];
  });
  // The next test file gets h1 with a fresh network, as after a reboot.
  afterAll(async () => {
    await restartHost(1);
  });

  it('adds a bridge and an iptables rule on h1 only', async () => {
    const client = await connect(h1);
    try {
      const r = await run(
        client,
        `ip link add ovirtmgmt type bridge && ip link set ovirtmgmt up && ` +
          `iptables -A INPUT -p tcp --dport 54321 -j ACCEPT -m comment --comment ${comment}`,
      );
      expect(r).toMatchObject({ code: 0, stderr: '' });
    } finally {
      client.end();
    }

    const link = await labExec(h1, ['ip', '-d', '-j', 'link', 'show', 'ovirtmgmt'], { check: true });
    const [info] = JSON.parse(link.stdout) as [{ linkinfo: { info_kind: string } }];
    expect(info.linkinfo.info_kind).toBe('bridge');
    const rules = await labExec(h1, ['iptables', '-S', 'INPUT'], {
      check: true,
    });
    expect(rules.stdout).toContain(`--dport 54321 -m comment --comment ${comment} -j ACCEPT`);

    for (const h of others) {
      expect((await labExec(h, ['ip', 'link', 'show', 'ovirtmgmt'])).code).not.toBe(0);
      expect((await labExec(h, ['iptables', '-S'], { check: true })).stdout).not.toContain(comment);
    }
    expect(rootNs('ip', '-o', 'link')).not.toContain('ovirtmgmt');
    expect(rootNs('iptables', '-S')).not.toContain(comment);
  });

  it('moves the lab address onto the bridge without cutting the SSH session', async () => {
    const client = await connect(h1);
    try {
      const moved = await run(
        client,
        `ip link set eth0 master ovirtmgmt && ip addr del ${h1.labAddress}/24 dev eth0 && ` +
          `ip addr add ${h1.labAddress}/24 dev ovirtmgmt`,
      );
      expect(moved).toMatchObject({ code: 0, stderr: '' });
      // Same session, after the change: the SSH path does not use the host's eth0.
      expect((await run(client, 'hostname')).stdout).toBe(`${h1.name}\n`);
    } finally {
      client.end();
    }

    const addr = await labExec(h1, ['ip', '-o', '-4', 'addr', 'show', 'ovirtmgmt'], { check: true });
    expect(addr.stdout).toContain(`inet ${h1.labAddress}/24`);
    const master = await labExec(h1, ['ip', '-o', 'link', 'show', 'eth0'], {
      check: true,
    });
    expect(master.stdout).toContain('master ovirtmgmt');
    // The other hosts still reach h1, now through its bridge.
    for (const h of others) {
      expect((await labExec(h, ['ping', '-c1', '-W2', h1.labAddress])).code).toBe(0);
    }
    expect(rootNs('ip', '-o', 'addr')).not.toContain(h1.labAddress);
  });
});
