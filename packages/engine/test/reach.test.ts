// Reaching hosts, against an in-process ssh2 server on loopback that also forwards TCP
// (direct-tcpip, as a bastion's sshd does): a jump through it with a strict key check at each
// hop, retries of what fails before login and only that, and the host's own reason when it
// refuses what was shipped. The lab tests (test/integration/deploy-reach.test.ts) do the same
// against real OpenSSH servers.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Server, utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/bundle/artifact.js';
import { treeEntries, writeTar } from '../src/bundle/tar.js';
import { deployBundle } from '../src/deploy/deploy.js';
import { fingerprintOf } from '../src/ssh/fingerprint.js';
import { connectThrough, withConnectRetries, type HopOptions } from '../src/ssh/jump.js';
import { serveExecs } from './exec-server.js';

const PASSWORD = 'jump-pw';
let server: Server;
let port: number;
let fingerprint: string;
let work: string;
let logins = 0;
let connections = 0;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'otopi-reach-test-'));
  const keys = utils.generateKeyPairSync('ed25519');
  fingerprint = fingerprintOf(Buffer.from(keys.public.split(' ')[1] ?? '', 'base64'));
  server = new Server({ hostKeys: [keys.private] }, (client) => {
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.password === PASSWORD) {
        logins++;
        return ctx.accept();
      }
      ctx.reject(['password']);
    });
    client.on('ready', () => {
      client.on('tcpip', (accept, reject, info) => {
        const socket = connect(info.destPort, info.destIP);
        socket.once('error', () => reject());
        socket.once('connect', () => {
          const channel = accept();
          socket.pipe(channel).pipe(socket);
        });
      });
      client.on('session', serveExecs);
    });
    client.on('error', () => {});
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.close();
  rmSync(work, { recursive: true, force: true });
});

const hop = (overrides: Partial<HopOptions> = {}): HopOptions => ({
  host: '127.0.0.1',
  port,
  user: 'deploy',
  auth: { password: PASSWORD },
  hostKey: { kind: 'fingerprint', fingerprint },
  ...overrides,
});

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const free = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return free;
}

describe('jump hosts', () => {
  it('reach the host through the bastion, each hop logged in and its key checked', async () => {
    const before = logins;
    const c = await connectThrough(hop(), [hop(), hop()]);
    try {
      expect(logins - before).toBe(3);
      expect(c.hostKey.fingerprint).toBe(fingerprint);
    } finally {
      c.close();
    }
  });

  it("refuse a bastion whose key does not match, as a host's, before anything logs in to the host", async () => {
    const before = logins;
    const wrong = `SHA256:${'B'.repeat(43)}`;
    await expect(
      connectThrough(hop(), [hop({ hostKey: { kind: 'fingerprint', fingerprint: wrong } })]),
    ).rejects.toMatchObject({
      code: 'HOSTKEY_MISMATCH',
      message: expect.stringMatching(
        new RegExp(`^jump host \\[127\\.0\\.0\\.1\\]:${port}: host key .* does not match`),
      ),
    });
    expect(logins).toBe(before);
    // A wrong key behind a good bastion is the host's own mismatch.
    await expect(
      connectThrough(hop({ hostKey: { kind: 'fingerprint', fingerprint: wrong } }), [hop()]),
    ).rejects.toMatchObject({
      code: 'HOSTKEY_MISMATCH',
      message: expect.not.stringMatching(/^jump host/),
    });
  });
});

describe('connection retries', () => {
  it('try again while the connection is refused, and connect once the server listens', async () => {
    const late = await freePort();
    let relay: NetServer | undefined;
    const retried: number[] = [];
    const c = await withConnectRetries(() => connectThrough(hop({ port: late }), []), {
      firstDelayMs: 20,
      onRetry: (error, attempt) => {
        expect(error.code).toBe('SSH_CONNECT');
        retried.push(attempt);
        // The server comes up during the pause: a relay on the refused port.
        relay ??= createServer((s) => s.pipe(connect(port, '127.0.0.1')).pipe(s)).listen(late, '127.0.0.1');
      },
    });
    c.close();
    relay?.close();
    expect(retried).toEqual([1]);
  });

  it('never try again after a refused login', async () => {
    const before = connections;
    await expect(
      withConnectRetries(() => connectThrough(hop({ auth: { password: 'wrong' } }), []), { firstDelayMs: 20 }),
    ).rejects.toMatchObject({ code: 'SSH_AUTH' });
    expect(connections - before).toBe(1);
  });

  it('give up after the retries set, with the last error', async () => {
    const refused = await freePort();
    let tries = 0;
    await expect(
      withConnectRetries(
        () => {
          tries++;
          return connectThrough(hop({ port: refused }), []);
        },
        { retries: 2, firstDelayMs: 10 },
      ),
    ).rejects.toMatchObject({ code: 'SSH_CONNECT' });
    expect(tries).toBe(3);
  });
});

describe('a host that refuses what was shipped', () => {
  it("says so with the host's own message, not that the session ended during the transfer", async () => {
    const files = new Map([['bin/otopi', { data: Buffer.from('#!/bin/sh\nexit 0\n'), mode: 0o755 }]]);
    const data = gzipSync(writeTar(treeEntries(files)));
    const bundleFile = join(work, 'bundle.tar.gz');
    writeFileSync(bundleFile, data);
    // Changed in transit: the engine announces one hash, the bytes have another.
    const announced = sha256Hex(Buffer.concat([data, Buffer.from('x')]));
    // A runtime large enough that the engine is still sending it when the host gives up.
    const runtimeFile = join(work, 'runtime.tar.gz');
    const runtimeData = randomBytes(8 * 1024 * 1024);
    writeFileSync(runtimeFile, runtimeData);
    const c = await connectThrough(hop(), []);
    try {
      const attempt = deployBundle(c, {
        bundle: { file: bundleFile, sha256: announced, size: data.length },
        runtime: {
          file: runtimeFile,
          sha256: sha256Hex(runtimeData),
          size: runtimeData.length,
          nodeVersion: 'v99.0.0',
          rawSize: runtimeData.length,
          originalSize: runtimeData.length,
          stripped: false,
        },
        preferRuntime: true,
        cacheRoot: join(mkdtempSync(join(work, 'host-')), 'cache'),
      });
      await expect(attempt).rejects.toMatchObject({
        code: 'BUNDLE_REJECTED',
        message: expect.stringContaining(`the bundle received does not match its SHA-256 ${announced}`),
      });
    } finally {
      c.close();
    }
  });
});
