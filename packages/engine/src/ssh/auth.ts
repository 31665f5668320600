/**
 * How a connection logs in: the methods tried in order, as OpenSSH does: the ssh-agent's keys,
 * then each private key, then the password (also as keyboard-interactive answers, as PAM
 * servers ask). RSA keys sign with rsa-sha2-512/256 when the server offers them (ssh2 reads the
 * server's `server-sig-algs`), as OpenSSH 8.8+ servers require.
 */
import type { AuthenticationType, AuthHandlerMiddleware, NextAuthHandler, ParsedKey } from 'ssh2';
import ssh2 from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader does not see `utils` as a named export.
const { utils } = ssh2;
import { EngineError } from '../errors.js';

/** Log in with a private key (OpenSSH or PEM text), optionally encrypted. */
export interface KeyAuth {
  readonly privateKey: string | Buffer;
  readonly passphrase?: string;
}

/** Log in with a password (also answers keyboard-interactive prompts, as PAM servers ask). */
export interface PasswordAuth {
  readonly password: string;
}

/** Several ways at once, tried in this order: agent, keys, password. */
export interface MultiAuth {
  /** The ssh-agent's socket (`SSH_AUTH_SOCK`). */
  readonly agent?: string | undefined;
  /** Private keys; `source` (a file name) names a key in errors. */
  readonly keys?: readonly (KeyAuth & { readonly source?: string })[];
  readonly password?: string | undefined;
}

export type SshAuth = KeyAuth | PasswordAuth | MultiAuth;

type Method =
  | { type: 'agent'; agent: string }
  | { type: 'publickey'; key: ParsedKey }
  | { type: 'password'; password: string }
  | { type: 'keyboard-interactive'; password: string };

/** The methods in order; a key that cannot be read or decrypted is an error now, not a silent skip. */
export function authMethods(auth: SshAuth | undefined, where: string): Method[] {
  const a = (auth ?? {}) as Partial<KeyAuth & PasswordAuth & MultiAuth>;
  const keys: (KeyAuth & { source?: string })[] = [...(a.keys ?? [])];
  if (a.privateKey !== undefined)
    keys.push({ privateKey: a.privateKey, ...(a.passphrase === undefined ? {} : { passphrase: a.passphrase }) });
  const methods: Method[] = [];
  if (a.agent !== undefined && a.agent !== '') methods.push({ type: 'agent', agent: a.agent });
  for (const k of keys) {
    const parsed = utils.parseKey(k.privateKey, k.passphrase);
    const name = k.source ?? 'the private key';
    if (parsed instanceof Error) {
      const encrypted = /encrypted|passphrase|bad decrypt/i.test(parsed.message);
      throw new EngineError('SSH_AUTH', `cannot use ${name}: ${parsed.message}`, {
        host: where,
        cause: parsed,
        hint: encrypted
          ? 'The key is encrypted: give its passphrase (passphrase_env, passphrase_file, or on a terminal)'
          : 'Give an OpenSSH or PEM private key',
      });
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key === undefined || !key.isPrivateKey()) {
      throw new EngineError('SSH_AUTH', `${name} is not a private key`, { host: where });
    }
    methods.push({ type: 'publickey', key });
  }
  if (a.password !== undefined) {
    methods.push({ type: 'password', password: a.password });
    methods.push({ type: 'keyboard-interactive', password: a.password });
  }
  if (methods.length === 0) throw new EngineError('USAGE', `no credentials for ${where}`, { host: where });
  return methods;
}

/** An ssh2 `authHandler` trying `methods` in order, skipping those the server does not allow. */
export function authHandler(methods: readonly Method[], username: string): AuthHandlerMiddleware {
  let next = 0;
  return (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, done: NextAuthHandler): void => {
    while (next < methods.length) {
      const m = methods[next++]!;
      const wire = m.type === 'agent' ? 'publickey' : m.type;
      if (methodsLeft !== null && !methodsLeft.includes(wire)) continue;
      switch (m.type) {
        case 'agent':
          return done({ type: 'agent', username, agent: m.agent });
        case 'publickey':
          return done({ type: 'publickey', username, key: m.key });
        case 'password':
          return done({ type: 'password', username, password: m.password });
        case 'keyboard-interactive': {
          const password = m.password;
          return done({
            type: 'keyboard-interactive',
            username,
            prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
          });
        }
      }
    }
    // ssh2 takes `false` for "no more methods"; its types leave it out.
    (done as unknown as (auth: false) => void)(false);
  };
}
