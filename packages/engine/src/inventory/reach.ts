/**
 * How a host is reached: its address, port, user, credentials, host key policy, jump hosts and
 * `become`, from the host's inventory fields and, underneath them, what an OpenSSH client config
 * says for the host. Inventory values override the config's; docs/deploy.md has the table.
 */
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { isEngineError } from '../errors.js';
import type { HostKeyPolicy } from '../ssh/host-key-policy.js';
import {
  parseProxyJump,
  readSshConfig,
  resolveSshConfig,
  type SshConfig,
  type SshConfigValues,
} from '../ssh/ssh-config.js';
import { readAuth, readSecret, type CredentialContext, type HostAuth } from './credentials.js';
import { problem, type At } from './problem.js';
import type { HostFields } from './schema.js';
import type { Secret } from './secret.js';

/** A jump host, connected to before the next hop (or the host) through it. */
export interface JumpHost {
  /** As written in ProxyJump, for messages. */
  readonly name: string;
  /** Its address as the previous hop (or this machine, for the first) reaches it. */
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly auth: HostAuth;
  /** Checked as strictly as the host's own key. */
  readonly hostKey: HostKeyPolicy;
  readonly connectMs?: number;
}

/** Running the installer as root on a host logged in to as another user. */
export interface Become {
  readonly method: 'sudo';
  /** Fed to sudo on its standard input, never on a command line; without it, `sudo -n`. */
  readonly password?: Secret;
}

export interface Reach {
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly auth: HostAuth;
  readonly hostKey: HostKeyPolicy;
  readonly jumps: readonly JumpHost[];
  readonly become?: Become;
  readonly connectMs?: number;
}

export interface ReachContext extends CredentialContext {
  /** The ssh config named with `-F`; undefined: `~/.ssh/config` when it exists. */
  readonly sshConfig?: string | undefined;
  readonly acceptNewHostKeys: boolean;
  /** Configs already read, by file. */
  readonly configs: Map<string, SshConfig>;
}

function configFor(f: HostFields, at: At, ctx: ReachContext): SshConfig | undefined {
  let file: string | undefined;
  if (f.ssh_config !== undefined) {
    if (f.ssh_config === 'none') return undefined;
    file = resolve(ctx.base, f.ssh_config);
    if (statSync(file, { throwIfNoEntry: false })?.isFile() !== true) {
      throw problem('INVENTORY_INVALID', at('ssh_config'), `no such ssh config file: ${file}`);
    }
  } else if (ctx.sshConfig !== undefined) {
    if (ctx.sshConfig === 'none') return undefined;
    file = resolve(ctx.sshConfig);
  } else {
    file = join(ctx.home, '.ssh', 'config');
    if (statSync(file, { throwIfNoEntry: false })?.isFile() !== true) return undefined;
  }
  let config = ctx.configs.get(file);
  if (config === undefined) {
    config = readSshConfig(file, ctx.home);
    ctx.configs.set(file, config);
  }
  return config;
}

function keyPolicy(pin: string | undefined, known: string, trustOnFirstUse: boolean): HostKeyPolicy {
  if (pin !== undefined) return { kind: 'fingerprint', fingerprint: pin };
  return trustOnFirstUse ? { kind: 'known-hosts', file: known, trustOnFirstUse } : { kind: 'known-hosts', file: known };
}

const learns = (c: SshConfigValues): boolean | undefined =>
  c.strictHostKeyChecking === undefined ? undefined : c.strictHostKeyChecking !== 'yes';

/** Resolves how host `name` is reached. */
export function readReach(name: string, f: HostFields, at: At, ctx: ReachContext): Reach {
  let config: SshConfig | undefined;
  let c: SshConfigValues = { identityFiles: [], sources: {} };
  const env = { home: ctx.home, localUser: safeUser() };
  try {
    config = configFor(f, at, ctx);
    if (config !== undefined) c = resolveSshConfig(config, name, env);
  } catch (error) {
    if (isEngineError(error, 'SSH_CONFIG_INVALID')) throw problem('INVENTORY_INVALID', at('ssh_config'), error.message);
    throw error;
  }
  const user = f.user ?? c.user ?? 'root';
  const auth = readAuth(f, at, ctx, c);
  if (f.fingerprint !== undefined && f.tofu === true) {
    throw problem(
      'INVENTORY_INVALID',
      at('tofu'),
      'a pinned fingerprint leaves nothing to trust on first use',
      'remove tofu, or the fingerprint',
    );
  }
  const known =
    f.known_hosts !== undefined
      ? resolve(ctx.base, f.known_hosts)
      : (c.userKnownHostsFiles?.[0] ?? resolve(ctx.base, 'known_hosts'));
  const tofu = ctx.acceptNewHostKeys || (f.tofu ?? learns(c) ?? false);

  const jumpText = f.proxy_jump ?? c.proxyJump;
  const jumps: JumpHost[] = [];
  if (jumpText !== undefined && jumpText !== 'none') {
    const where = f.proxy_jump !== undefined ? `${ctx.file}: proxy_jump` : (c.sources['proxyJump'] ?? 'ProxyJump');
    let specs;
    try {
      specs = parseProxyJump(jumpText, where);
    } catch (error) {
      throw problem('INVENTORY_INVALID', at('proxy_jump'), isEngineError(error) ? error.message : String(error));
    }
    for (const spec of specs) {
      const h =
        config === undefined
          ? ({ identityFiles: [], sources: {} } as SshConfigValues)
          : resolveSshConfig(config, spec.host, env);
      const hopAuth: HostAuth =
        h.identityFiles.length > 0
          ? readAuth({ identities_only: h.identitiesOnly ?? false }, at, ctx, h)
          : { ...(auth.agent === undefined ? {} : { agent: auth.agent }), identities: auth.identities };
      if (hopAuth.identities.length === 0 && hopAuth.agent === undefined) {
        throw problem(
          'INVENTORY_INVALID',
          at('proxy_jump'),
          `no key or ssh-agent to log in to the jump host ${spec.host}`,
        );
      }
      const hopKnown =
        h.userKnownHostsFiles?.[0] ?? (f.known_hosts !== undefined ? known : (c.userKnownHostsFiles?.[0] ?? known));
      jumps.push({
        name: spec.host,
        address: h.hostName ?? spec.host,
        port: spec.port ?? h.port ?? 22,
        user: spec.user ?? h.user ?? user,
        auth: hopAuth,
        hostKey: keyPolicy(undefined, hopKnown, ctx.acceptNewHostKeys || (f.tofu ?? learns(h) ?? learns(c) ?? false)),
        ...(h.connectTimeoutSeconds === undefined ? {} : { connectMs: h.connectTimeoutSeconds * 1000 }),
      });
    }
  }

  const becomePassword = readSecret(f, 'become_password', at, ctx);
  if (becomePassword !== undefined && f.become !== 'sudo') {
    throw problem(
      'INVENTORY_INVALID',
      at('become'),
      'a sudo password is given but become is not sudo',
      'add become = sudo',
    );
  }
  // root needs no sudo: become applies to other users only.
  const become: Become | undefined =
    f.become === 'sudo' && user !== 'root'
      ? becomePassword === undefined
        ? { method: 'sudo' }
        : { method: 'sudo', password: becomePassword }
      : undefined;

  const connectSeconds = f.connect_timeout ?? c.connectTimeoutSeconds;
  return {
    address: f.address ?? c.hostName ?? name,
    port: f.port ?? c.port ?? 22,
    user,
    auth,
    hostKey: keyPolicy(f.fingerprint, known, tofu),
    jumps,
    ...(become === undefined ? {} : { become }),
    ...(connectSeconds === undefined ? {} : { connectMs: connectSeconds * 1000 }),
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}
