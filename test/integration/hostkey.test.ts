// Host key checking of @otopi/engine's connectSsh against the lab hosts' real sshd: known
// keys pass (plain and hashed known_hosts lines, pinned fingerprints), anything else is
// refused before login, and trust on first use stores the key so the next connection pins it.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectSsh,
  type ConnectOptions,
  type HostKeyPolicy,
  type SshConnection,
} from '../../packages/engine/src/index.js';
import { type LabHost, hostRootPath, labExec, labHost } from '../lab/lab.js';

let dir: string;
let h1: LabHost;
let h2: LabHost;
/** `ssh-ed25519 AAAA...` of a host, from its own files (not through SSH). */
const publicKey = (h: LabHost): string =>
  readFileSync(hostRootPath(h, '/etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');

function options(host: LabHost, hostKey: HostKeyPolicy): ConnectOptions {
  return {
    host: host.address,
    port: host.port,
    user: host.user,
    auth: { privateKey: readFileSync(host.privateKeyPath) },
    hostKey,
  };
}

async function run(connection: SshConnection, command: string): Promise<string> {
  const channel = await connection.exec(command);
  let out = '';
  channel.on('data', (d: Buffer) => (out += d.toString()));
  channel.stderr.resume();
  await new Promise((resolve) => channel.on('close', resolve));
  return out;
}

/** Connects and, if that worked, would create `marker` on the host: proof of a login. */
async function attempt(
  host: LabHost,
  hostKey: HostKeyPolicy,
): Promise<{ marker: string; result: Promise<SshConnection> }> {
  const marker = `/root/hostkey-${randomUUID()}`;
  const result = connectSsh(options(host, hostKey)).then(async (c) => {
    await run(c, `touch ${marker}`);
    c.close();
    return c;
  });
  return { marker, result };
}
const exists = async (host: LabHost, path: string): Promise<boolean> =>
  (await labExec(host, ['test', '-e', path])).code === 0;

function knownHosts(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'otopi-hostkey-'));
  h1 = labHost(1);
  h2 = labHost(2);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('host keys on a real sshd', () => {
  it('connects with the key in known_hosts, plain or hashed by ssh-keygen -H, or pinned by fingerprint', async () => {
    const plain = knownHosts('plain', `${h2.address} ${publicKey(h2)}\n${h1.address} ${publicKey(h1)}\n`);
    const hashed = knownHosts('hashed', `${h1.address} ${publicKey(h1)}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    expect(readFileSync(hashed, 'utf8')).not.toContain(h1.address);
    for (const policy of [
      { kind: 'known-hosts', file: plain },
      { kind: 'known-hosts', file: hashed },
      { kind: 'fingerprint', fingerprint: h1.hostKeyFingerprint },
    ] satisfies HostKeyPolicy[]) {
      const c = await connectSsh(options(h1, policy));
      expect(c.hostKey).toMatchObject({ type: 'ssh-ed25519', fingerprint: h1.hostKeyFingerprint, learnt: false });
      expect(await run(c, 'hostname')).toBe('h1\n');
      c.close();
    }
  });

  it('refuses a host whose key differs from known_hosts, naming both fingerprints, before logging in', async () => {
    // h2's key recorded for h1's address: what a man in the middle looks like.
    const file = knownHosts('rotated', `${h1.address} ${publicKey(h2)}\n`);
    const { marker, result } = await attempt(h1, { kind: 'known-hosts', file, trustOnFirstUse: true });
    const error = await result.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'HOSTKEY_MISMATCH', host: h1.address });
    expect(String((error as Error).message)).toContain(`presented ssh-ed25519 ${h1.hostKeyFingerprint}`);
    expect(String((error as Error).message)).toContain(`expected ssh-ed25519 ${h2.hostKeyFingerprint}`);
    expect(await exists(h1, marker)).toBe(false);
    // Trust on first use does not overwrite a recorded key.
    expect(readFileSync(file, 'utf8')).toBe(`${h1.address} ${publicKey(h2)}\n`);
  });

  it('refuses a key that does not match the pinned fingerprint, naming both', async () => {
    const { marker, result } = await attempt(h1, { kind: 'fingerprint', fingerprint: h2.hostKeyFingerprint });
    await expect(result).rejects.toMatchObject({
      code: 'HOSTKEY_MISMATCH',
      message: expect.stringMatching(new RegExp(`${escape(h1.hostKeyFingerprint)}.*${escape(h2.hostKeyFingerprint)}`)),
    });
    expect(await exists(h1, marker)).toBe(false);
  });

  it('refuses an unknown host unless trust on first use is asked for, and refuses a @revoked key', async () => {
    const empty = knownHosts('empty', `${h2.address} ${publicKey(h2)}\n`);
    const unknown = await attempt(h1, { kind: 'known-hosts', file: empty });
    await expect(unknown.result).rejects.toMatchObject({
      code: 'HOSTKEY_UNKNOWN',
      message: expect.stringContaining(h1.hostKeyFingerprint),
    });
    expect(await exists(h1, unknown.marker)).toBe(false);

    const revoked = knownHosts('revoked', `${h1.address} ${publicKey(h1)}\n@revoked * ${publicKey(h1)}\n`);
    const refused = await attempt(h1, { kind: 'known-hosts', file: revoked, trustOnFirstUse: true });
    await expect(refused.result).rejects.toMatchObject({ code: 'HOSTKEY_REVOKED' });
    expect(await exists(h1, refused.marker)).toBe(false);
  });

  it('trusts on first use when asked, stores the key, and pins it from then on', async () => {
    const file = knownHosts('tofu', `${h2.address} ${publicKey(h2)}\n`);
    const first = await connectSsh(options(h1, { kind: 'known-hosts', file, trustOnFirstUse: true }));
    expect(first.hostKey).toMatchObject({ fingerprint: h1.hostKeyFingerprint, learnt: true });
    first.close();
    expect(readFileSync(file, 'utf8')).toBe(`${h2.address} ${publicKey(h2)}\n${h1.address} ${publicKey(h1)}\n`);

    // Without trust on first use now, and the stored key is what lets it in.
    const second = await connectSsh(options(h1, { kind: 'known-hosts', file }));
    expect(second.hostKey.learnt).toBe(false);
    second.close();

    // The stored line pins h1's key: the same file refuses h2's key at h1's name.
    const swapped = knownHosts(
      'tofu-swapped',
      readFileSync(file, 'utf8').replace(`${h1.address} ${publicKey(h1)}`, `${h1.address} ${publicKey(h2)}`),
    );
    await expect(
      connectSsh(options(h1, { kind: 'known-hosts', file: swapped, trustOnFirstUse: true })),
    ).rejects.toMatchObject({
      code: 'HOSTKEY_MISMATCH',
    });
  });

  it('refuses to connect without a host key policy, before opening a socket', async () => {
    const { marker, result } = await attempt(h1, undefined as unknown as HostKeyPolicy);
    await expect(result).rejects.toMatchObject({ code: 'HOSTKEY_POLICY_MISSING' });
    expect(await exists(h1, marker)).toBe(false);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
