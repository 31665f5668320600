/**
 * The deploy inventory: which hosts to deploy to, how to log in, how to check their keys,
 * and what each host's run gets. An INI file read with the installer's own INI reader
 * (configparser rules: `#`/`;` comment lines, no inline comments, `key = value` or
 * `key: value`), so every problem can name its line:
 *
 *   [defaults]                        every host starts from these
 *   user = root
 *   identity_file = keys/id_ed25519    relative paths are relative to the inventory
 *   OVIRT_ENGINE/correlationId = str:batch-7
 *
 *   [host h1]                         one section per host
 *   address = 192.0.2.11
 *   fingerprint = SHA256:...
 *   DEMO/name = str:Ada Lovelace      a key with a '/' is an environment setting
 *   answer.DEMO_COLOUR = blue         an answer to the host's question DEMO_COLOUR
 *
 * docs/deploy.md is the reference.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { isOtopiError, parseIni, parseTypedValue, type IniEntry } from '@otopi/core';
import type { z } from 'zod';
import { EngineError } from '../errors.js';
import type { HostKeyPolicy } from '../ssh/host-key-policy.js';
import type { SshConfig } from '../ssh/ssh-config.js';
import type { HostAuth } from './credentials.js';
import { HOST_DEPLOY_FIELDS, HOST_DEPLOY_FIELD_NAMES, type HostDeployFields } from './host-deploy-fields.js';
import { problem, type Place } from './problem.js';
import { readReach, type Become, type JumpHost } from './reach.js';
import {
  ENV_KEY_RE,
  HOST_FIELDS,
  HOST_FIELD_NAMES,
  HOST_NAME_RE,
  QUESTION_NAME_RE,
  type HostFieldName,
} from './schema.js';
import type { EnvSetting } from './settings.js';

export type { HostAuth, Identity } from './credentials.js';
export type { Become, JumpHost } from './reach.js';

export interface InventoryHost {
  /** The section's name (`[host NAME]`): how the host is named in progress, events and log files. */
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly auth: HostAuth;
  readonly hostKey: HostKeyPolicy;
  /** Jump hosts (ProxyJump), the first connected first; empty: the host is reached directly. */
  readonly jumps: readonly JumpHost[];
  /** Run the installer as root through sudo (only for a user other than root). */
  readonly become?: Become;
  /** Tries again after a connection refused or reset before login; unset: the run's. */
  readonly connectRetries?: number;
  /** Environment settings for this host, `[defaults]` first. */
  readonly environment: readonly EnvSetting[];
  /** Answers to the host's questions by name, as written (converted when the question comes). */
  readonly answers: Readonly<Record<string, string>>;
  /** Per-host time limits in ms; unset ones take the run's. */
  readonly timeouts: { readonly connectMs?: number; readonly inactivityMs?: number; readonly hardMs?: number };
  /** The host-deploy group's fields (engine, CA, firewall, bridge…), as given; used with `--group host-deploy`. */
  readonly hostDeploy?: HostDeployFields;
  /** The line of each field the host's value came from (its section's, or `[defaults]`'), for messages. */
  readonly fieldLines?: Readonly<Record<string, number>>;
  /** The file and line of the host's section. */
  readonly source: { readonly file: string; readonly line: number };
}

export interface Inventory {
  readonly file: string;
  readonly hosts: readonly InventoryHost[];
}

export interface InventoryOptions {
  /** Where `password_env` and `passphrase_env` are read. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Trust unknown host keys on first use for every host that uses known_hosts (`--accept-new-host-keys`). */
  readonly acceptNewHostKeys?: boolean;
  /** Folder searched for default keys (`.ssh/id_ed25519`, ...) and `.ssh/config`. Default the user's home. */
  readonly home?: string;
  /** An OpenSSH client config for hosts whose inventory names none (`-F`); `none` reads none. Default `~/.ssh/config`. */
  readonly sshConfig?: string;
}

const DEFAULTS_SECTION = 'defaults';
const ALL_FIELD_NAMES: readonly string[] = [...HOST_FIELD_NAMES, ...HOST_DEPLOY_FIELD_NAMES];
const HOST_SECTION_RE = /^host\s+(\S+)$/;
const ANSWER_PREFIX = 'answer.';

interface Located {
  readonly value: string;
  readonly line: number;
}

/** Reads and checks an inventory file, secrets included, before anything connects. */
export function loadInventory(file: string, options: InventoryOptions = {}): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new EngineError('INVENTORY_UNREADABLE', `cannot read the inventory ${file}: ${(error as Error).message}`, {
      file,
      cause: error,
    });
  }
  return parseInventory(text, resolve(file), options);
}

/** Parses inventory text; `file` names it in errors and anchors relative paths. */
export function parseInventory(text: string, file: string, options: InventoryOptions = {}): Inventory {
  let doc;
  try {
    doc = parseIni(text, file);
  } catch (error) {
    if (!isOtopiError(error)) throw error;
    throw problem('INVENTORY_SYNTAX', { file, line: error.place.line }, error.message, error.hint);
  }
  let defaults: IniEntry[] = [...doc.defaults];
  const sections: { name: string; line: number; entries: readonly IniEntry[] }[] = [];
  for (const section of doc.sections) {
    if (section.name === DEFAULTS_SECTION) {
      defaults = [...defaults, ...section.entries];
      continue;
    }
    const match = HOST_SECTION_RE.exec(section.name.trim());
    if (match === null) {
      throw problem(
        'INVENTORY_SYNTAX',
        { file, line: section.line },
        `unknown section [${section.name}]`,
        'sections are [defaults] and [host NAME]',
      );
    }
    const name = match[1]!;
    if (!HOST_NAME_RE.test(name)) {
      throw problem(
        'INVENTORY_INVALID',
        { file, line: section.line, host: name },
        'a host name may hold letters, digits, dot, dash and underscore, and starts with a letter or digit',
      );
    }
    if (sections.some((s) => s.name === name)) {
      throw problem('INVENTORY_INVALID', { file, line: section.line, host: name }, 'this host has a second section');
    }
    sections.push({ name, line: section.line, entries: section.entries });
  }
  if (sections.length === 0) {
    throw problem('INVENTORY_INVALID', { file }, 'no hosts', 'add a [host NAME] section with at least an address');
  }
  const base = dirname(file);
  const configs = new Map<string, SshConfig>();
  const hosts = sections.map((section) => readHost(section, defaults, { file, base, options, configs }));
  return { file, hosts };
}

interface ReadContext {
  readonly file: string;
  readonly base: string;
  readonly options: InventoryOptions;
  readonly configs: Map<string, SshConfig>;
}

function readHost(
  section: { name: string; line: number; entries: readonly IniEntry[] },
  defaults: readonly IniEntry[],
  ctx: ReadContext,
): InventoryHost {
  const { file } = ctx;
  const host = section.name;
  const fields = new Map<string, Located>();
  const environment: EnvSetting[] = [];
  const answers: Record<string, string> = {};
  const answerLines = new Map<string, number>();

  for (const [entries, fromDefaults] of [
    [defaults, true],
    [section.entries, false],
  ] as const) {
    for (const entry of entries) {
      const place = { file, line: entry.line, host, field: entry.key };
      if (entry.key.startsWith(ANSWER_PREFIX)) {
        const question = entry.key.slice(ANSWER_PREFIX.length);
        if (!QUESTION_NAME_RE.test(question))
          throw problem('INVENTORY_INVALID', place, `'${question}' is not a question name`);
        answers[question] = entry.value;
        answerLines.set(question, entry.line);
      } else if (entry.key.includes('/')) {
        if (!ENV_KEY_RE.test(entry.key)) {
          throw problem(
            'INVENTORY_INVALID',
            place,
            'not an environment key',
            'environment keys look like GROUP/name, e.g. CORE/logLevel',
          );
        }
        let parsed;
        try {
          // The host, not the engine, knows which keys are secret: a refused value is never repeated.
          parsed = parseTypedValue(entry.value, { key: entry.key, sensitive: true });
        } catch (error) {
          if (!isOtopiError(error)) throw error;
          throw problem('INVENTORY_INVALID', place, error.message, error.hint);
        }
        environment.push({ op: 'set', key: entry.key, value: parsed.value, source: `${file}:${entry.line}` });
      } else if ((ALL_FIELD_NAMES as string[]).includes(entry.key)) {
        fields.set(entry.key, { value: entry.value, line: entry.line });
      } else {
        const guess = closest(entry.key.toLowerCase().replace(/-/g, '_'), ALL_FIELD_NAMES);
        throw problem(
          'INVENTORY_INVALID',
          place,
          `unknown field${fromDefaults ? ' (in [defaults])' : ''}`,
          guess === undefined
            ? `fields are ${HOST_FIELD_NAMES.join(', ')} (host-deploy: ${HOST_DEPLOY_FIELD_NAMES.join(', ')}); environment keys hold a '/', answers start with 'answer.'`
            : `did you mean '${guess}'?`,
        );
      }
    }
  }

  const raw = Object.fromEntries([...fields].map(([k, v]) => [k, v.value]));
  const parse = <T>(schema: z.ZodType<T>, names: readonly string[]): T => {
    const parsed = schema.safeParse(Object.fromEntries(Object.entries(raw).filter(([k]) => names.includes(k))));
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    throw problem(
      'INVENTORY_INVALID',
      { file, line: fields.get(field)?.line ?? section.line, host, field },
      issue.message.includes('(got ') ? issue.message : `${issue.message} (got '${raw[field] ?? ''}')`,
    );
  };
  const f = parse(HOST_FIELDS, HOST_FIELD_NAMES);
  const hostDeploy = parse(HOST_DEPLOY_FIELDS, HOST_DEPLOY_FIELD_NAMES);
  const at = (field: HostFieldName): Place => ({ file, line: fields.get(field)?.line ?? section.line, host, field });

  const reach = readReach(host, f, at, {
    file,
    base: ctx.base,
    env: ctx.options.env ?? process.env,
    home: ctx.options.home ?? homedir(),
    sshConfig: ctx.options.sshConfig,
    acceptNewHostKeys: ctx.options.acceptNewHostKeys === true,
    configs: ctx.configs,
  });

  return {
    name: host,
    address: reach.address,
    port: reach.port,
    user: reach.user,
    auth: reach.auth,
    hostKey: reach.hostKey,
    jumps: reach.jumps,
    ...(reach.become === undefined ? {} : { become: reach.become }),
    ...(f.connect_retries === undefined ? {} : { connectRetries: f.connect_retries }),
    environment,
    answers,
    timeouts: {
      ...(reach.connectMs === undefined ? {} : { connectMs: reach.connectMs }),
      ...(f.inactivity_timeout === undefined ? {} : { inactivityMs: f.inactivity_timeout * 1000 }),
      ...(f.hard_timeout === undefined ? {} : { hardMs: f.hard_timeout * 1000 }),
    },
    hostDeploy,
    fieldLines: Object.fromEntries([...fields].map(([k, v]) => [k, v.line])),
    source: { file, line: section.line },
  };
}

/** The candidate at most two edits away from `word`, for "did you mean". */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    // Levenshtein distance, one row at a time.
    let row = Array.from({ length: name.length + 1 }, (_, i) => i);
    for (let i = 1; i <= word.length; i++) {
      const next = [i];
      for (let j = 1; j <= name.length; j++) {
        next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (word[i - 1] === name[j - 1] ? 0 : 1));
      }
      row = next;
    }
    const distance = row[name.length]!;
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Which hosts `--limit a,b` selects; an unknown name is an error. */
export function limitHosts(inventory: Inventory, names: readonly string[]): InventoryHost[] {
  const wanted = names.map((n) => n.trim()).filter((n) => n !== '');
  const unknown = wanted.filter((n) => !inventory.hosts.some((h) => h.name === n));
  if (unknown.length > 0) {
    throw new EngineError('USAGE', `--limit names hosts the inventory does not have: ${unknown.join(', ')}`, {
      file: inventory.file,
      hint: `hosts are ${inventory.hosts.map((h) => h.name).join(', ')}`,
    });
  }
  return inventory.hosts.filter((h) => wanted.includes(h.name));
}
