// SSH into the lab hosts the way a deploy tool does (ssh2, key login, pinned host key), with every
// effect checked through labExec instead of the SSH session.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { connect, run, sshRun } from './ssh.js';

describe('SSH to lab hosts', () => {
  let hosts: LabHost[];
  beforeAll(() => {
    hosts = [1, 2, 3].map(labHost);
  });

  it('runs commands on three hosts at once', async () => {
    const token = randomUUID();
    // Each command prints when it started and ended (the machine's one clock, in every host's
    // namespace) around a 2 s sleep: run at once, every start comes before every end.
    const results = await Promise.all(
      hosts.map((h) =>
        sshRun(h, `date +%s%N; sleep 2 && echo ${token}-${h.name} > /root/ssh-parallel && hostname; date +%s%N`),
      ),
    );
    expect(results.map((r) => [r.code, r.stdout.split('\n')[1]])).toEqual(hosts.map((h) => [0, h.name]));
    const spans = results.map((r) => r.stdout.trim().split('\n').map(Number));
    const lastStart = Math.max(...spans.map((s) => s[0]!));
    const firstEnd = Math.min(...spans.map((s) => s[2]!));
    expect(lastStart).toBeLessThan(firstEnd);
    for (const h of hosts) {
      const written = await labExec(h, ['cat', '/root/ssh-parallel'], {
        check: true,
      });
      expect(written.stdout).toBe(`${token}-${h.name}\n`);
    }
  });

  it('logs in with the pinned host key and the lab key only', async () => {
    const [h1] = hosts as [LabHost];
    const seen: string[] = [];
    const client = await connect(h1, { seen });
    try {
      const r = await run(client, 'echo "$USER $SSH_CONNECTION"; echo to-stderr >&2; exit 7');
      expect(r).toMatchObject({ code: 7, stderr: 'to-stderr\n' });
      expect(r.stdout).toMatch(/^root 127\.\S+ \d+ 127\.0\.0\.1 22\n$/);
    } finally {
      client.end();
    }
    expect(seen).toEqual([h1.hostKeyFingerprint]);
    const sshd = await labExec(h1, ['sshd', '-T'], { check: true });
    expect(sshd.stdout).toMatch(/^passwordauthentication no$/m);
    expect(sshd.stdout).toMatch(/^permitrootlogin without-password$/m);
  });

  it('refuses a host whose key does not match the pinned fingerprint', async () => {
    const [h1, h2] = hosts as [LabHost, LabHost];
    const seen: string[] = [];
    const marker = `/root/must-not-exist-${randomUUID()}`;
    const attempt = connect(h1, { pin: h2.hostKeyFingerprint, seen }).then(async (client) => {
      await run(client, `touch ${marker}`);
      client.end();
    });

    await expect(attempt).rejects.toThrow(/Host denied \(verification failed\)/);
    // The server did show its real key, and the client turned it down before logging in.
    expect(seen).toEqual([h1.hostKeyFingerprint]);
    expect((await labExec(h1, ['test', '-e', marker])).code).toBe(1);
  });
});
