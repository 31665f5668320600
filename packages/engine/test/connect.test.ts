// connectSsh and deployBundle against an in-process ssh2 server on loopback (commands run
// by a local /bin/sh): password and keyboard-interactive logins, custom port and user, coded
// errors, time limits, and the one-exec deploy with fake artifacts. The lab tests cover the
// same paths against a real OpenSSH server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Server, utils, type AuthContext } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/bundle/artifact.js';
import { treeEntries, writeTar } from '../src/bundle/tar.js';
import { deployBundle } from '../src/deploy/deploy.js';
import { openLineSession } from '../src/deploy/session.js';
import { connectSsh, type ConnectOptions } from '../src/ssh/connect.js';
import { fingerprintOf } from '../src/ssh/fingerprint.js';
import { serveExecs } from './exec-server.js';

const USER = 'deploy';
const PASSWORD = 'correct horse';
let server: Server;
let port: number;
let fingerprint: string;
let work: string;
let keyboardOnly = false;
let tcpConnections = 0;

function accept(ctx: AuthContext): void {
  if (ctx.username !== USER) return ctx.reject();
  if (ctx.method === 'password' && !keyboardOnly) return ctx.password === PASSWORD ? ctx.accept() : ctx.reject();
  if (ctx.method === 'keyboard-interactive') {
    return ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) =>
      answers[0] === PASSWORD ? ctx.accept() : ctx.reject(),
    );
  }
  ctx.reject(keyboardOnly ? ['keyboard-interactive'] : ['password', 'keyboard-interactive']);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'otopi-connect-test-'));
  const keys = utils.generateKeyPairSync('ed25519');
  fingerprint = fingerprintOf(Buffer.from(keys.public.split(' ')[1] ?? '', 'base64'));
  server = new Server({ hostKeys: [keys.private] }, (client) => {
    client.on('authentication', accept).on('ready', () => {
      client.on('session', serveExecs);
    });
    client.on('error', () => {});
  });
  server.on('connection', () => tcpConnections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.close();
  rmSync(work, { recursive: true, force: true });
});

const options = (overrides: Partial<ConnectOptions> = {}): ConnectOptions => ({
  host: '127.0.0.1',
  port,
  user: USER,
  auth: { password: PASSWORD },
  hostKey: { kind: 'fingerprint', fingerprint },
  ...overrides,
});

describe('connectSsh', () => {
  it('logs in with a password as another user on another port', async () => {
    const c = await connectSsh(options());
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port,
      user: USER,
      hostKey: { type: 'ssh-ed25519', fingerprint, learnt: false },
    });
    const channel = await c.exec('echo "$0"');
    const control = openLineSession(channel, { where: 'test', commandBytes: 0 });
    const lines: string[] = [];
    for await (const line of control.session.lines) lines.push(line);
    expect(lines).toEqual(['/bin/sh']);
    expect(await control.session.done).toEqual({ code: 0, signal: null, stderr: '' });
    c.close();
    await c.closed;
  });

  it('answers keyboard-interactive prompts with the password', async () => {
    keyboardOnly = true;
    try {
      const c = await connectSsh(options());
      c.close();
    } finally {
      keyboardOnly = false;
    }
  });

  it('reports a refused login as SSH_AUTH', async () => {
    await expect(connectSsh(options({ auth: { password: 'wrong' } }))).rejects.toMatchObject({
      code: 'SSH_AUTH',
      host: `[127.0.0.1]:${port}`,
    });
  });

  it('gives up on a server that never speaks after the connect timeout', async () => {
    const silent: NetServer = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      await expect(
        connectSsh(options({ port: (silent.address() as AddressInfo).port, connectTimeoutMs: 300 })),
      ).rejects.toMatchObject({
        code: 'SSH_CONNECT_TIMEOUT',
        message: expect.stringContaining('within 300 ms') as unknown,
      });
    } finally {
      silent.close();
    }
  });

  it('refuses to start without a host key policy, before any connection is made', async () => {
    const before = tcpConnections;
    for (const hostKey of [
      undefined,
      null,
      {},
      { kind: 'any' },
      { kind: 'known-hosts' },
      { kind: 'known-hosts', file: '' },
    ]) {
      await expect(connectSsh(options({ hostKey: hostKey as never }))).rejects.toMatchObject({
        code: 'HOSTKEY_POLICY_MISSING',
      });
    }
    expect(tcpConnections).toBe(before);
  });

  it('refuses a wrongly pinned key with both fingerprints', async () => {
    const other = `SHA256:${'A'.repeat(43)}`;
    await expect(connectSsh(options({ hostKey: { kind: 'fingerprint', fingerprint: other } }))).rejects.toMatchObject({
      code: 'HOSTKEY_MISMATCH',
      message: expect.stringContaining(`presented ssh-ed25519 ${fingerprint}, expected ${other}`),
    });
  });
});

describe('session time limits', () => {
  it('ends a command that stays silent past the inactivity limit', async () => {
    const c = await connectSsh(options());
    try {
      const control = openLineSession(await c.exec('sleep 30'), {
        where: 'test',
        commandBytes: 0,
        inactivityTimeoutMs: 300,
      });
      await expect(control.session.done).rejects.toMatchObject({ code: 'SSH_INACTIVITY_TIMEOUT' });
    } finally {
      c.close();
    }
  });

  it('ends a busy command at the hard limit', async () => {
    const c = await connectSsh(options());
    try {
      const control = openLineSession(await c.exec('while :; do echo tick; sleep 0.05; done'), {
        where: 'test',
        commandBytes: 0,
        inactivityTimeoutMs: 1000,
        hardTimeoutMs: 500,
      });
      const lines: string[] = [];
      for await (const line of control.session.lines) lines.push(line);
      expect(lines.length).toBeGreaterThan(2);
      await expect(control.session.done).rejects.toMatchObject({ code: 'SSH_HARD_TIMEOUT' });
    } finally {
      c.close();
    }
  });
});

describe('deployBundle', () => {
  it('ships what the host lacks in one exec, then carries the dialog', async () => {
    const files = new Map([
      [
        'bin/otopi',
        {
          data: Buffer.from('#!/bin/sh\necho "***Q:STRING NAME"\nread -r name\necho "***L:INFO hello $name"\nexit 3\n'),
          mode: 0o755,
        },
      ],
    ]);
    const data = gzipSync(writeTar(treeEntries(files)));
    const file = join(work, 'bundle.tar.gz');
    writeFileSync(file, data);
    const bundle = { file, sha256: sha256Hex(data), size: data.length };
    const cacheRoot = join(mkdtempSync(join(work, 'host-')), 'cache');
    const deployOnce = async (): Promise<{
      shipped: unknown;
      lines: string[];
      code: number | null;
      bytes: object;
      execs: number;
    }> => {
      const c = await connectSsh(options());
      try {
        const seen: string[] = [];
        const session = await deployBundle(c, {
          bundle,
          cacheRoot,
          environment: { LANG: 'C.UTF-8' },
          onLine: (l) => seen.push(l),
        });
        const lines: string[] = [];
        for await (const line of session.lines) {
          lines.push(line);
          if (line === '***Q:STRING NAME') session.send('Ada');
        }
        const { code, stderr } = await session.done;
        expect(stderr).toBe('');
        expect(seen.filter((l) => l.startsWith('**%Bundle') && l !== '**%BundleStored')).toHaveLength(1);
        return { shipped: session.shipped, lines, code, bytes: { ...session.bytes }, execs: c.execCount };
      } finally {
        c.close();
      }
    };
    const first = await deployOnce();
    expect(first).toMatchObject({
      shipped: ['bundle'],
      lines: ['***Q:STRING NAME', '***L:INFO hello Ada'],
      code: 3,
      execs: 1,
    });
    expect(first.bytes).toMatchObject({ payload: bundle.size, dialog: 4 });
    const second = await deployOnce();
    expect(second).toMatchObject({
      shipped: [],
      lines: ['***Q:STRING NAME', '***L:INFO hello Ada'],
      code: 3,
      execs: 1,
    });
    expect(second.bytes).toMatchObject({ payload: 0, dialog: 4 });
  });
});
