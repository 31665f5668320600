/**
 * How a host logs in: an ssh-agent, key files (each with an optional passphrase), a password.
 * Secrets come from the inventory itself (only when it is private), an environment variable or
 * a private file, and stay wrapped in {@link Secret} until ssh2 needs them.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { EngineError } from '../errors.js';
import { problem, type At } from './problem.js';
import type { HostFields } from './schema.js';
import { Secret } from './secret.js';

const DEFAULT_IDENTITIES = ['.ssh/id_ed25519', '.ssh/id_ecdsa', '.ssh/id_rsa'];

export interface Identity {
  readonly file: string;
  readonly passphrase?: Secret;
}

/** How a host is logged in to, tried in this order: agent, key files, password. */
export interface HostAuth {
  /** The ssh-agent's socket. */
  readonly agent?: string;
  readonly identities: readonly Identity[];
  readonly password?: Secret;
}

/** What reading credentials needs from the inventory. */
export interface CredentialContext {
  /** The inventory file (its mode decides whether it may hold a literal secret). */
  readonly file: string;
  /** Folder relative paths are resolved against. */
  readonly base: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Folder searched for default keys. */
  readonly home: string;
}

/** What an OpenSSH client config said about the login, when one was read. */
export interface ConfigLogin {
  readonly identityFiles?: readonly string[];
  readonly identitiesOnly?: boolean;
  /** A socket, `none`, or `SSH_AUTH_SOCK`. */
  readonly identityAgent?: string;
}

const isFile = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isFile() === true;

export function readAuth(f: HostFields, at: At, ctx: CredentialContext, config: ConfigLogin = {}): HostAuth {
  const password = readSecret(f, 'password', at, ctx);
  const passphrase = readSecret(f, 'passphrase', at, ctx);
  if (password !== undefined) {
    if (f.identity_file !== undefined) {
      throw problem(
        'INVENTORY_INVALID',
        at('identity_file'),
        'a host logs in with a key or a password, not both',
        'remove one of identity_file and password*',
      );
    }
    return { identities: [], password };
  }
  let files: string[];
  let explicit = true;
  if (f.identity_file !== undefined) {
    const file = resolve(ctx.base, f.identity_file);
    if (!isFile(file)) throw problem('INVENTORY_INVALID', at('identity_file'), `no such key file: ${file}`);
    files = [file];
  } else if ((config.identityFiles ?? []).length > 0) {
    // As OpenSSH does, a configured key file that does not exist is passed over.
    files = (config.identityFiles ?? []).filter(isFile);
  } else {
    explicit = false;
    files = DEFAULT_IDENTITIES.map((p) => resolve(ctx.home, p)).filter(isFile);
  }
  const only = f.identities_only ?? config.identitiesOnly ?? false;
  const agentSetting = f.ssh_agent ?? config.identityAgent ?? 'SSH_AUTH_SOCK';
  let agent: string | undefined;
  if (agentSetting === 'SSH_AUTH_SOCK' || agentSetting === '$SSH_AUTH_SOCK') {
    const sock = ctx.env['SSH_AUTH_SOCK'];
    agent = sock === undefined || sock === '' ? undefined : sock;
  } else if (agentSetting !== 'none') {
    agent = resolve(ctx.base, agentSetting);
    if (statSync(agent, { throwIfNoEntry: false })?.isSocket() !== true) {
      throw problem('INVENTORY_INVALID', at('ssh_agent'), `no ssh-agent socket at ${agent}`);
    }
  }
  // IdentitiesOnly: the agent's keys are not offered when key files are named.
  if (only && explicit && files.length > 0) agent = undefined;
  if (files.length === 0 && agent === undefined) {
    throw problem(
      'INVENTORY_INVALID',
      { ...at('identity_file'), field: 'identity_file' },
      `no credentials: no identity_file, no password, no ssh-agent (SSH_AUTH_SOCK), and no ${DEFAULT_IDENTITIES.map((p) => `~/${p}`).join(', ')}`,
      'set identity_file, ssh_agent, or password_env / password_file',
    );
  }
  const identities = files.map((file) => (passphrase === undefined ? { file } : { file, passphrase }));
  return agent === undefined ? { identities } : { agent, identities };
}

/** A password or passphrase from the inventory itself, an environment variable or a file; never logged. */
export function readSecret(
  f: HostFields,
  what: 'password' | 'passphrase' | 'become_password',
  at: At,
  ctx: CredentialContext,
): Secret | undefined {
  const sources = ([what, `${what}_env`, `${what}_file`] as const).filter((k) => f[k] !== undefined);
  if (sources.length > 1) {
    throw problem(
      'INVENTORY_INVALID',
      at(sources[1]!),
      `give the ${what} one way only, not as ${sources.join(' and ')}`,
    );
  }
  const literal = f[what];
  if (literal !== undefined) {
    const mode = statSync(ctx.file, { throwIfNoEntry: false })?.mode;
    if (mode !== undefined && (mode & 0o077) !== 0) {
      throw problem(
        'INVENTORY_INSECURE',
        at(what),
        `the inventory holds a ${what} but other users may read it (mode ${(mode & 0o777).toString(8)})`,
        `chmod 600 ${ctx.file}, or use ${what}_env / ${what}_file`,
      );
    }
    return new Secret(literal);
  }
  const variable = f[`${what}_env`];
  if (variable !== undefined) {
    const value = ctx.env[variable];
    if (value === undefined || value === '') {
      throw problem(
        'SECRET_UNAVAILABLE',
        at(`${what}_env`),
        `the environment variable ${variable} is not set`,
        `export ${variable} before running, or use ${what}_file`,
      );
    }
    return new Secret(value);
  }
  const path = f[`${what}_file`];
  if (path !== undefined) {
    const full = resolve(ctx.base, path);
    let value: string;
    try {
      const mode = statSync(full).mode;
      if ((mode & 0o077) !== 0) {
        throw problem(
          'INVENTORY_INSECURE',
          at(`${what}_file`),
          `${full} may be read by other users (mode ${(mode & 0o777).toString(8)})`,
          `chmod 600 ${full}`,
        );
      }
      value = readFileSync(full, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      if (error instanceof EngineError) throw error;
      throw problem(
        'SECRET_UNAVAILABLE',
        at(`${what}_file`),
        `cannot read ${full}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    if (value === '') throw problem('SECRET_UNAVAILABLE', at(`${what}_file`), `${full} is empty`);
    return new Secret(value);
  }
  return undefined;
}
