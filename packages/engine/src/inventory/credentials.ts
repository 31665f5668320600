/**
 * How a host logs in: a key file (with an optional passphrase) or a password. Secrets come from
 * the inventory itself (only when it is private), an environment variable or a private file,
 * and stay wrapped in {@link Secret} until ssh2 needs them.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { EngineError } from '../errors.js';
import { problem, type At } from './problem.js';
import type { HostFields } from './schema.js';
import { Secret } from './secret.js';

const DEFAULT_IDENTITIES = ['.ssh/id_ed25519', '.ssh/id_ecdsa', '.ssh/id_rsa'];

/** How a host is logged in to. Secrets stay wrapped until ssh2 needs them. */
export type HostAuth =
  | { readonly kind: 'key'; readonly identityFile: string; readonly passphrase?: Secret }
  | { readonly kind: 'password'; readonly password: Secret };

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

export function readAuth(f: HostFields, at: At, ctx: CredentialContext): HostAuth {
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
    return { kind: 'password', password };
  }
  let identityFile: string;
  if (f.identity_file !== undefined) {
    identityFile = resolve(ctx.base, f.identity_file);
    if (statSync(identityFile, { throwIfNoEntry: false })?.isFile() !== true) {
      throw problem('INVENTORY_INVALID', at('identity_file'), `no such key file: ${identityFile}`);
    }
  } else {
    const home = ctx.home;
    const found = DEFAULT_IDENTITIES.map((p) => resolve(home, p)).find(
      (p) => statSync(p, { throwIfNoEntry: false })?.isFile() === true,
    );
    if (found === undefined) {
      throw problem(
        'INVENTORY_INVALID',
        { ...at('identity_file'), field: 'identity_file' },
        `no credentials: no identity_file, no password, and no ${DEFAULT_IDENTITIES.map((p) => `~/${p}`).join(', ')}`,
        'set identity_file, or password_env / password_file',
      );
    }
    identityFile = found;
  }
  return passphrase === undefined ? { kind: 'key', identityFile } : { kind: 'key', identityFile, passphrase };
}

/** A password or passphrase from the inventory itself, an environment variable or a file; never logged. */
function readSecret(
  f: HostFields,
  what: 'password' | 'passphrase',
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
