/**
 * OpenSSH client configuration (ssh_config(5)), read for the hosts being deployed: the keywords
 * a deploy needs, with OpenSSH's rules. `Host` blocks with patterns (`*`, `?`, `!negation`), the
 * first value obtained for a keyword wins (IdentityFile accumulates), `Include` (relative to
 * `~/.ssh`, `*` in the last part of the path), `%` tokens and `~` in paths. `Match` blocks other
 * than `Match all` are skipped: their criteria (exec, canonical, ...) are not evaluated here.
 *
 * Our own parser: the npm package `ssh-config` parses and stringifies for editing a config,
 * but neither follows `Include` nor says on which line a value was found, which every error here
 * names; the resolution rules needed are the few below.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { EngineError } from '../errors.js';

/** What the config says about one host; only what was set is present. */
export interface SshConfigValues {
  readonly hostName?: string;
  readonly user?: string;
  readonly port?: number;
  /** IdentityFile, every one in order, `~` and tokens expanded. */
  readonly identityFiles: readonly string[];
  readonly identitiesOnly?: boolean;
  /** ProxyJump as written (`[user@]host[:port]`, comma-separated); undefined for `none`. */
  readonly proxyJump?: string;
  readonly userKnownHostsFiles?: readonly string[];
  readonly strictHostKeyChecking?: 'yes' | 'accept-new' | 'no';
  readonly connectTimeoutSeconds?: number;
  /** IdentityAgent: a socket path, or `none`. */
  readonly identityAgent?: string;
  /** `file:line` of each value, for messages. */
  readonly sources: Readonly<Record<string, string>>;
}

interface Line {
  readonly keyword: string;
  readonly args: readonly string[];
  readonly at: string;
  /** Patterns of the Host block the line is in (undefined: before any block, or Match all). */
  readonly host: readonly string[] | undefined;
  /** Lines of a Match block that is not evaluated. */
  readonly skipped: boolean;
}

/** A read config: its lines in order, Includes followed. */
export interface SshConfig {
  readonly file: string;
  readonly lines: readonly Line[];
}

const invalid = (at: string, message: string): EngineError =>
  new EngineError('SSH_CONFIG_INVALID', `${at}: ${message}`, { file: at.replace(/:\d+$/, '') });

/** Splits a config line into words, honouring double quotes. */
function words(text: string, at: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /[ \t]/.test(text[i]!)) i++;
    if (i >= text.length) break;
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end === -1) throw invalid(at, 'unterminated quote');
      out.push(text.slice(i + 1, end));
      i = end + 1;
    } else {
      let j = i;
      while (j < text.length && !/[ \t]/.test(text[j]!)) j++;
      out.push(text.slice(i, j));
      i = j;
    }
  }
  return out;
}

function includeFiles(pattern: string, home: string): string[] {
  const path = pattern.startsWith('~/') ? join(home, pattern.slice(2)) : pattern;
  const full = isAbsolute(path) ? path : join(home, '.ssh', path);
  const name = basename(full);
  if (!/[*?]/.test(name)) return statSync(full, { throwIfNoEntry: false })?.isFile() === true ? [full] : [];
  let names: string[];
  try {
    names = readdirSync(dirname(full));
  } catch {
    return [];
  }
  return names
    .filter((n) => wildcard(name, n, false))
    .sort()
    .map((n) => join(dirname(full), n));
}

function readLines(
  file: string,
  home: string,
  depth: number,
  inherited: Omit<Line, 'keyword' | 'args' | 'at'>,
): Line[] {
  if (depth > 8) throw invalid(file, 'Include nested too deeply');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new EngineError('SSH_CONFIG_INVALID', `cannot read the ssh config ${file}: ${(error as Error).message}`, {
      file,
      cause: error,
    });
  }
  const out: Line[] = [];
  let block = inherited;
  text.split('\n').forEach((raw, index) => {
    const at = `${file}:${index + 1}`;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(trimmed);
    if (m === null) throw invalid(at, `cannot read '${trimmed}'`);
    const keyword = m[1]!.toLowerCase();
    const args = words(m[2]!, at);
    if (args.length === 0) throw invalid(at, `${m[1]} needs a value`);
    if (keyword === 'host') {
      block = { host: args, skipped: false };
    } else if (keyword === 'match') {
      block = { host: undefined, skipped: !(args.length === 1 && args[0]!.toLowerCase() === 'all') };
    } else if (keyword === 'include') {
      for (const pattern of args) {
        for (const f of includeFiles(pattern, home)) out.push(...readLines(f, home, depth + 1, block));
      }
    } else {
      out.push({ keyword, args, at, ...block });
    }
  });
  return out;
}

/** Reads an ssh config file (Includes followed). */
export function readSshConfig(file: string, home: string): SshConfig {
  return { file: resolve(file), lines: readLines(resolve(file), home, 0, { host: undefined, skipped: false }) };
}

function wildcard(pattern: string, name: string, ignoreCase = true): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'i' : '').test(name);
}

/** Whether a Host line's patterns select `name`: one positive match and no negated one. */
export function hostPatternsMatch(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (wildcard(p.slice(1), name)) return false;
    } else if (wildcard(p, name)) {
      matched = true;
    }
  }
  return matched;
}

const YES_NO: Readonly<Record<string, boolean>> = { yes: true, true: true, no: false, false: false };

/** What the config gives for host `name` (the name the inventory calls it). */
export function resolveSshConfig(
  config: SshConfig,
  name: string,
  env: { home: string; localUser: string },
): SshConfigValues {
  const found = new Map<string, { args: readonly string[]; at: string }>();
  const identities: { args: readonly string[]; at: string }[] = [];
  for (const line of config.lines) {
    if (line.skipped || (line.host !== undefined && !hostPatternsMatch(line.host, name))) continue;
    if (line.keyword === 'identityfile') identities.push(line);
    else if (!found.has(line.keyword)) found.set(line.keyword, line);
  }
  const sources: Record<string, string> = {};
  const get = (keyword: string, field: string): { value: string; at: string } | undefined => {
    const line = found.get(keyword);
    if (line === undefined) return undefined;
    sources[field] = line.at;
    return { value: line.args[0]!, at: line.at };
  };
  const values: {
    -readonly [K in keyof SshConfigValues]: SshConfigValues[K];
  } = { identityFiles: [], sources };

  const port = get('port', 'port');
  if (port !== undefined) {
    const n = Number(port.value);
    if (!/^\d{1,5}$/.test(port.value) || n < 1 || n > 65_535)
      throw invalid(port.at, `Port: not a port number: ${port.value}`);
    values.port = n;
  }
  const user = get('user', 'user');
  if (user !== undefined) values.user = user.value;
  const hostName = get('hostname', 'hostName');
  const tokens = (text: string, at: string): string => {
    const host = hostName?.value.replace(/%h/g, name) ?? name;
    const map: Record<string, string> = {
      '%': '%',
      h: host,
      n: name,
      p: String(values.port ?? 22),
      r: values.user ?? 'root',
      u: env.localUser,
      d: env.home,
    };
    const expanded = text.replace(/%(.)/g, (all, c: string) => {
      const v = map[c];
      if (v === undefined) throw invalid(at, `the token ${all} is not supported here`);
      return v;
    });
    return expanded.startsWith('~/') ? join(env.home, expanded.slice(2)) : expanded;
  };
  if (hostName !== undefined) values.hostName = hostName.value.replace(/%h/g, name).replace(/%%/g, '%');
  for (const line of identities) {
    if (line.args[0]!.toLowerCase() === 'none') continue;
    values.identityFiles = [...values.identityFiles, tokens(line.args[0]!, line.at)];
    sources['identityFile'] ??= line.at;
  }
  const only = get('identitiesonly', 'identitiesOnly');
  if (only !== undefined) {
    const b = YES_NO[only.value.toLowerCase()];
    if (b === undefined) throw invalid(only.at, `IdentitiesOnly: expected yes or no, not ${only.value}`);
    values.identitiesOnly = b;
  }
  const jump = get('proxyjump', 'proxyJump');
  if (jump !== undefined && jump.value.toLowerCase() !== 'none') values.proxyJump = jump.value;
  const known = found.get('userknownhostsfile');
  if (known !== undefined) {
    sources['userKnownHostsFiles'] = known.at;
    if (known.args[0]!.toLowerCase() !== 'none')
      values.userKnownHostsFiles = known.args.map((a) => tokens(a, known.at));
  }
  const strict = get('stricthostkeychecking', 'strictHostKeyChecking');
  if (strict !== undefined) {
    const v = strict.value.toLowerCase();
    if (v === 'yes' || v === 'true' || v === 'ask') values.strictHostKeyChecking = 'yes';
    else if (v === 'accept-new') values.strictHostKeyChecking = 'accept-new';
    else if (v === 'no' || v === 'false' || v === 'off') values.strictHostKeyChecking = 'no';
    else throw invalid(strict.at, `StrictHostKeyChecking: expected yes, accept-new, ask or no, not ${strict.value}`);
  }
  const timeout = get('connecttimeout', 'connectTimeout');
  if (timeout !== undefined) {
    const n = Number(timeout.value);
    if (!/^\d+$/.test(timeout.value) || n < 1)
      throw invalid(timeout.at, `ConnectTimeout: expected seconds, not ${timeout.value}`);
    values.connectTimeoutSeconds = n;
  }
  const agent = get('identityagent', 'identityAgent');
  if (agent !== undefined) {
    const v = agent.value;
    // `SSH_AUTH_SOCK` (or `$SSH_AUTH_SOCK`): the environment's agent; otherwise a socket path.
    if (v.toLowerCase() === 'none') values.identityAgent = 'none';
    else if (v === 'SSH_AUTH_SOCK' || v === '$SSH_AUTH_SOCK') values.identityAgent = 'SSH_AUTH_SOCK';
    else values.identityAgent = tokens(v, agent.at);
  }
  return values;
}

/** One hop of a ProxyJump list: `[user@]host[:port]` (or `[v6]:port`). */
export interface JumpSpec {
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
}

/** Parses a ProxyJump value (comma-separated hops, the first one connected first). */
export function parseProxyJump(text: string, at: string): JumpSpec[] {
  return text.split(',').map((raw) => {
    let rest = raw.trim().replace(/^ssh:\/\//, '');
    let user: string | undefined;
    const atSign = rest.lastIndexOf('@');
    if (atSign !== -1) {
      user = rest.slice(0, atSign);
      rest = rest.slice(atSign + 1);
    }
    let port: number | undefined;
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
    const plain = /^([^:]+)(?::(\d+))?$/.exec(rest);
    const m = v6 ?? plain;
    if (m === null || m[1] === '' || (user !== undefined && !/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(user))) {
      throw invalid(at, `not a jump host: '${raw.trim()}' (expected [user@]host[:port])`);
    }
    const host = m[1]!;
    if (m[2] !== undefined) {
      port = Number(m[2]);
      if (port < 1 || port > 65_535) throw invalid(at, `not a port in '${raw.trim()}'`);
    }
    return { host, ...(user === undefined ? {} : { user }), ...(port === undefined ? {} : { port }) };
  });
}
