// OpenSSH client configs as the inventory reads them: OpenSSH's rules (first value wins,
// IdentityFile accumulates, Host patterns with negation, Include, tokens), inventory values over
// the config's, ProxyJump hops resolved through the same config, and become / agent fields.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../src/errors.js';
import { loadInventory } from '../src/inventory/inventory.js';
import { parseProxyJump, readSshConfig, resolveSshConfig } from '../src/ssh/ssh-config.js';

function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'otopi-ssh-config-'));
  mkdirSync(join(dir, '.ssh'));
  for (const k of ['id_ed25519', 'web_key', 'bastion_key'])
    writeFileSync(join(dir, '.ssh', k), 'key\n', { mode: 0o600 });
  return dir;
}

const CONFIG = `# a user's config
Host web1 web2
  HostName %h.example.org
  User deploy
  Port=2222
  IdentityFile ~/.ssh/web_key
Host !web2 web*
  ConnectTimeout 7
Host bastion
  HostName 192.0.2.1
  User jump
  IdentityFile ~/.ssh/bastion_key
  UserKnownHostsFile ~/.ssh/bastion_known
Match exec "false"
  User nobody
Host *
  User fallback
  IdentityFile ~/.ssh/id_ed25519
  IdentitiesOnly yes
  StrictHostKeyChecking accept-new
  UserKnownHostsFile "~/.ssh/known hosts" ~/.ssh/known_hosts2
  Include extra.conf
`;

describe('ssh config files', () => {
  it("resolve a host with OpenSSH's rules", () => {
    const dir = home();
    writeFileSync(join(dir, '.ssh', 'extra.conf'), 'ProxyJump bastion\n');
    const file = join(dir, '.ssh', 'config');
    writeFileSync(file, CONFIG);
    const config = readSshConfig(file, dir);
    const web1 = resolveSshConfig(config, 'web1', { home: dir, localUser: 'me' });
    expect(web1).toMatchObject({
      hostName: 'web1.example.org',
      user: 'deploy',
      port: 2222,
      identityFiles: [join(dir, '.ssh/web_key'), join(dir, '.ssh/id_ed25519')],
      identitiesOnly: true,
      connectTimeoutSeconds: 7,
      strictHostKeyChecking: 'accept-new',
      userKnownHostsFiles: [join(dir, '.ssh/known hosts'), join(dir, '.ssh/known_hosts2')],
      proxyJump: 'bastion',
    });
    expect(web1.sources['port']).toBe(`${file}:5`);
    // web2 is negated out of the second block; a Match block's criteria are not evaluated.
    const web2 = resolveSshConfig(config, 'web2', { home: dir, localUser: 'me' });
    expect(web2.connectTimeoutSeconds).toBeUndefined();
    expect(resolveSshConfig(config, 'other', { home: dir, localUser: 'me' }).user).toBe('fallback');
  });

  it('agree with what ssh -G resolves', () => {
    const dir = home();
    const file = join(dir, 'config');
    writeFileSync(file, CONFIG.replace('  Include extra.conf\n', ''));
    const ours = resolveSshConfig(readSshConfig(file, dir), 'web1', { home: dir, localUser: 'me' });
    const theirs = execFileSync('ssh', ['-G', '-F', file, 'web1'], { encoding: 'utf8', env: { HOME: dir } });
    const value = (k: string): string[] =>
      theirs
        .split('\n')
        .filter((l) => l.startsWith(`${k} `))
        .map((l) => l.slice(k.length + 1));
    expect(value('hostname')).toEqual([ours.hostName]);
    expect(value('user')).toEqual([ours.user]);
    expect(value('port')).toEqual([String(ours.port)]);
    expect(value('identityfile')).toEqual(ours.identityFiles.map((f) => f.replace(dir, '~')));
    expect(value('connecttimeout')).toEqual([String(ours.connectTimeoutSeconds)]);
  });

  it('name the file and line of a bad value', () => {
    const dir = home();
    const file = join(dir, 'config');
    writeFileSync(file, 'Host x\n  Port seventy\n');
    expect(() => resolveSshConfig(readSshConfig(file, dir), 'x', { home: dir, localUser: 'me' })).toThrow(
      expect.objectContaining({ code: 'SSH_CONFIG_INVALID', message: `${file}:2: Port: not a port number: seventy` }),
    );
    expect(() => parseProxyJump('root@', 'here')).toThrow(EngineError);
    expect(parseProxyJump('a@b:2200,[2001:db8::1]:22,c', 'x')).toEqual([
      { user: 'a', host: 'b', port: 2200 },
      { host: '2001:db8::1', port: 22 },
      { host: 'c' },
    ]);
  });
});

describe('inventories with an ssh config', () => {
  function load(text: string, dir: string, env: Record<string, string> = {}) {
    const file = join(dir, 'hosts.ini');
    writeFileSync(file, text, { mode: 0o600 });
    return loadInventory(file, { env, home: dir });
  }

  it('take what the config says, inventory values first, and jump hosts through the same config', () => {
    const dir = home();
    writeFileSync(join(dir, '.ssh', 'extra.conf'), 'ProxyJump bastion\n');
    writeFileSync(join(dir, '.ssh', 'config'), CONFIG);
    const [web1, web2] = load('[host web1]\n[host web2]\nuser = admin\nport = 22\nproxy_jump = none\n', dir).hosts;
    expect(web1).toMatchObject({
      address: 'web1.example.org',
      port: 2222,
      user: 'deploy',
      auth: { identities: [{ file: join(dir, '.ssh/web_key') }, { file: join(dir, '.ssh/id_ed25519') }] },
      hostKey: { kind: 'known-hosts', file: join(dir, '.ssh/known hosts'), trustOnFirstUse: true },
      timeouts: { connectMs: 7000 },
      jumps: [
        {
          name: 'bastion',
          address: '192.0.2.1',
          port: 22,
          user: 'jump',
          auth: { identities: [{ file: join(dir, '.ssh/bastion_key') }, { file: join(dir, '.ssh/id_ed25519') }] },
          hostKey: { kind: 'known-hosts', file: join(dir, '.ssh/bastion_known') },
        },
      ],
    });
    expect(web2).toMatchObject({ user: 'admin', port: 22, jumps: [] });
    // ssh_config = none reads nothing.
    expect(load('[host web1]\nssh_config = none\n', dir).hosts[0]).toMatchObject({ address: 'web1', user: 'root' });
  });

  it('read an ssh-agent socket and become settings, and refuse a sudo password without become', async () => {
    const dir = home();
    const sock = join(dir, 'agent.sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      writeFileSync(join(dir, 'sudo.pw'), 'pw\n', { mode: 0o600 });
      const [h] = load(
        `[host h1]\nssh_config = none\nuser = deploy\nssh_agent = ${sock}\nbecome = sudo\nbecome_password_file = sudo.pw\n`,
        dir,
      ).hosts;
      expect(h!.auth.agent).toBe(sock);
      expect(h!.become?.password?.reveal()).toBe('pw');
      expect(() => load('[host h1]\nssh_config = none\nbecome_password = x\n', dir)).toThrow(/become is not sudo/);
      // root needs no sudo.
      expect(load('[host h1]\nssh_config = none\nbecome = sudo\n', dir).hosts[0]!.become).toBeUndefined();
      // SSH_AUTH_SOCK is the default agent; identities_only drops it when key files are named.
      const env = { SSH_AUTH_SOCK: sock };
      expect(load('[host h1]\nssh_config = none\n', dir, env).hosts[0]!.auth.agent).toBe(sock);
      const only = load(
        '[host h1]\nssh_config = none\nidentity_file = .ssh/web_key\nidentities_only = yes\n',
        dir,
        env,
      );
      expect(only.hosts[0]!.auth.agent).toBeUndefined();
    } finally {
      server.close();
    }
  });
});
