/**
 * The config file set: which files are read, and the environment values they hold.
 *
 * Files: the main config (`OTOPI_CONFIG`, else `/etc/otopi.conf`) and the append list
 * (`--config-append`, `CORE/configFileAppend`), each `:`-separated. Every entry X stands
 * for X itself when it exists, then `X.d/*.conf` sorted by name. All files are read in
 * that order as one configuration, as otopi's single parser did: a later file's key
 * replaces an earlier one's within a section, and `[DEFAULT]` keys are seen by every
 * section that exists. Values are `type:value` ({@link parseTypedValue}).
 *
 * Sections and when the runtime applies them (not this module's job):
 * `environment:default` (INIT, only keys not set yet), `environment:init` (INIT, overrides),
 * `environment:override` (CUSTOMIZATION, before the prompt), `environment:enforce`
 * (CUSTOMIZATION, after the prompt).
 *
 * Unlike otopi, an unreadable file or one that is not UTF-8 is an error rather than
 * skipped, and `%` is never special (the original query tool interpolated it).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OtopiError, errorMessage, isOtopiError } from '../errors.js';
import { parseTypedValue, type EnvValue, type TypeTag } from '../env/codec.js';
import { DEFAULT_SECTION, parseIni, type IniDocument, type IniEntry } from './ini.js';

export const CONFIG_ENV_SECTIONS = [
  'environment:default',
  'environment:init',
  'environment:override',
  'environment:enforce',
] as const;

/** A section holding environment values. */
export type ConfigEnvSection = (typeof CONFIG_ENV_SECTIONS)[number];

/** Main config used when neither the caller nor `OTOPI_CONFIG` names one. */
export const DEFAULT_CONFIG_FILE = '/etc/otopi.conf';

export interface ResolveConfigOptions {
  /** Main config, `:`-separated. Default: `OTOPI_CONFIG` from `env`, else {@link DEFAULT_CONFIG_FILE}. */
  readonly main?: string;
  /** Append entries; each may itself be `:`-separated. Default: none. */
  readonly append?: readonly string[];
  /** OS environment to read `OTOPI_CONFIG` from. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Folder relative names are resolved against. Default: the current directory. */
  readonly baseDir?: string;
}

export interface ResolvedConfigFiles {
  /** Files to read, in order. */
  readonly files: readonly string[];
  /** Append entries (as given) for which no file exists; the caller warns about them. */
  readonly missing: readonly string[];
}

/** One environment value from a config file. */
export interface ConfigEntry {
  readonly section: ConfigEnvSection;
  readonly key: string;
  readonly type: TypeTag;
  readonly value: EnvValue;
  /** File and 1-based line the value was read from (the last file that set it). */
  readonly file: string;
  readonly line: number;
}

/** An ini entry of a config set, with the file it came from. */
export interface ConfigIniEntry extends IniEntry {
  readonly file: string;
}

export interface ConfigSet {
  readonly files: readonly string[];
  /** Every file parsed, other sections included (`otopi-config-query` reads any section). */
  readonly documents: readonly IniDocument[];
  /** Values of the {@link CONFIG_ENV_SECTIONS}, section by section, each key once. */
  readonly entries: readonly ConfigEntry[];
}

function unreadable(path: string, error: unknown): OtopiError {
  return new OtopiError('CONFIG_UNREADABLE', `cannot read config ${path}: ${errorMessage(error)}`, {
    file: path,
    cause: error,
    hint: 'check that it exists and that its permissions allow reading',
  });
}

function errnoCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function exists(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch (error) {
    if (errnoCode(error) === 'ENOTDIR') return false;
    throw unreadable(path, error);
  }
}

/** `dir/*.conf` as a shell glob lists it (no hidden files, no folders), sorted by name. */
function dropInFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw unreadable(dir, error);
  }
  return names
    .filter((name) => name.endsWith('.conf') && !name.startsWith('.'))
    .sort()
    .map((name) => join(dir, name))
    .filter((path) => statSync(path, { throwIfNoEntry: false })?.isDirectory() !== true);
}

/** X itself when it exists, then `X.d/*.conf`. */
export function expandConfigEntry(path: string): string[] {
  return [...(exists(path) ? [path] : []), ...dropInFiles(`${path}.d`)];
}

function splitList(list: string): string[] {
  return list.split(':').filter((part) => part !== '');
}

/**
 * Lists the config files to read. A missing main config is fine; a missing append entry is
 * reported in `missing`.
 *
 * @throws OtopiError `CONFIG_UNREADABLE` when a file or `.d` folder cannot be examined.
 */
export function resolveConfigFiles(options: ResolveConfigOptions = {}): ResolvedConfigFiles {
  const env = options.env ?? process.env;
  const baseDir = options.baseDir ?? process.cwd();
  const main = options.main ?? env['OTOPI_CONFIG'] ?? DEFAULT_CONFIG_FILE;
  const files: string[] = [];
  const missing: string[] = [];
  for (const entry of splitList(main)) files.push(...expandConfigEntry(resolve(baseDir, entry)));
  for (const entry of (options.append ?? []).flatMap(splitList)) {
    const found = expandConfigEntry(resolve(baseDir, entry));
    if (found.length === 0) missing.push(entry);
    files.push(...found);
  }
  return { files, missing };
}

/**
 * Reads and parses one config file (UTF-8, a byte order mark allowed).
 *
 * @throws OtopiError `CONFIG_UNREADABLE` (missing, unreadable, not UTF-8), `CONFIG_SYNTAX`.
 */
export function readIniFile(path: string): IniDocument {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(path));
  } catch (error) {
    throw unreadable(path, error);
  }
  return parseIni(text, path);
}

/**
 * A section as all documents together give it, the way one `RawConfigParser` reading all
 * files gives `items(name)`: `[DEFAULT]` keys first, then the section's; later files replace
 * earlier values in place. `undefined` when no document has the section.
 */
export function mergeConfigSection(documents: readonly IniDocument[], name: string): ConfigIniEntry[] | undefined {
  const defaults = new Map<string, ConfigIniEntry>();
  const own = new Map<string, ConfigIniEntry>();
  let found = name === DEFAULT_SECTION;
  for (const doc of documents) {
    for (const entry of doc.defaults) defaults.set(entry.key, { ...entry, file: doc.file });
    const section = doc.sections.find((s) => s.name === name);
    if (section === undefined) continue;
    found = true;
    for (const entry of section.entries) own.set(entry.key, { ...entry, file: doc.file });
  }
  if (!found) return undefined;
  const merged = new Map(defaults);
  for (const [key, entry] of own) merged.set(key, entry);
  return [...merged.values()];
}

/**
 * Reads config files in order and parses the values of the environment sections.
 * `isSensitive` names the keys whose values an error must not repeat (default: none).
 *
 * @throws OtopiError `CONFIG_UNREADABLE`, `CONFIG_SYNTAX`, or the codec's `ENV_*` errors
 * with file, line and key.
 */
export function readConfigFiles(
  files: readonly string[],
  options: { readonly isSensitive?: (key: string) => boolean } = {},
): ConfigSet {
  const documents = files.map(readIniFile);
  const entries: ConfigEntry[] = [];
  for (const section of CONFIG_ENV_SECTIONS) {
    for (const item of mergeConfigSection(documents, section) ?? []) {
      const place = { key: item.key, file: item.file, line: item.line };
      // A value that does not parse is not shown for a sensitive key (a password in an answer file).
      const { type, value } = parseTypedValue(item.value, {
        ...place,
        sensitive: options.isSensitive?.(item.key) ?? false,
      });
      entries.push({ section, ...place, type, value });
    }
  }
  return { files: [...files], documents, entries };
}

export interface ConfigQuery {
  /** Config file; its `FILE.d/*.conf` are read after it. */
  readonly file: string;
  /** Default: `environment:default`. */
  readonly section?: string;
  readonly key: string;
}

export interface ConfigAnswer {
  readonly type: TypeTag;
  readonly value: EnvValue;
  /** The value as written, `type:value` (what `query --with-type` prints). */
  readonly text: string;
  readonly file: string;
  readonly line: number;
}

function missingConfig(message: string, file: string, key?: string): OtopiError {
  return new OtopiError('CONFIG_MISSING', message, { file, ...(key === undefined ? {} : { key }) });
}

/**
 * `otopi-config-query query`: the typed value of one key.
 *
 * @throws OtopiError `CONFIG_MISSING` when the file, section or key does not exist; read,
 * syntax and value errors as {@link readConfigFiles}.
 */
export function queryConfig({ file, section = 'environment:default', key }: ConfigQuery): ConfigAnswer {
  const files = expandConfigEntry(file);
  if (files.length === 0) throw missingConfig(`config file ${file} does not exist`, file);
  const items = mergeConfigSection(files.map(readIniFile), section);
  if (items === undefined) throw missingConfig(`config ${file} has no section [${section}]`, file);
  const item = items.find((entry) => entry.key === key);
  if (item === undefined) throw missingConfig(`config ${file} has no key ${key} in section [${section}]`, file, key);
  const { type, value } = parseTypedValue(item.value, { key, file: item.file, line: item.line });
  return { type, value, text: item.value, file: item.file, line: item.line };
}

/** Exit codes of `otopi-config-query match`. */
export const MATCH_EQUAL = 0;
export const MATCH_DIFFERENT = 1;
export const MATCH_MISSING = 2;

function sameValue(a: EnvValue, b: EnvValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => item === b[i]);
  return a === b;
}

/**
 * `otopi-config-query match`: compares a key's value with `expected` (`type:value`); type
 * and value must both be equal (otopi compared Python values, so `bool:True` matched
 * `int:1`).
 *
 * @returns {@link MATCH_EQUAL}, {@link MATCH_DIFFERENT}, or {@link MATCH_MISSING} when the
 * file, section or key does not exist.
 * @throws OtopiError `ENV_*` for a malformed `expected` or stored value; read and syntax errors.
 */
export function matchConfig(query: ConfigQuery & { readonly expected: string }): 0 | 1 | 2 {
  const expected = parseTypedValue(query.expected, { key: query.key });
  let answer: ConfigAnswer;
  try {
    answer = queryConfig(query);
  } catch (error) {
    if (isOtopiError(error, 'CONFIG_MISSING')) return MATCH_MISSING;
    throw error;
  }
  return answer.type === expected.type && sameValue(answer.value, expected.value) ? MATCH_EQUAL : MATCH_DIFFERENT;
}
