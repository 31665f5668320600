/**
 * Environment settings for a deploy (`KEY=type:value`), from the command line, an otopi answer
 * file or an inventory, and how they reach a host.
 *
 * Most settings are sent in the customization dialog (`env-query` + `VALUE`, the engine's
 * env-set), so the host validates each against the key's declared schema and none shows in
 * the host's process list. `BASE/*` and `DIALOG/*` keys and `APPEND:`/`PREPEND:` statements
 * must be known before the plugin groups load, so they go on the installer's command line.
 */
import { formatTypedValue, isOtopiError, parseStatements, readConfigFiles, type EnvValue } from '@otopi/core';
import { EngineError } from '../errors.js';

export interface EnvSetting {
  /** `set` replaces the value; `append`/`prepend` extend a colon list (command line only). */
  readonly op: 'set' | 'append' | 'prepend';
  readonly key: string;
  readonly value: EnvValue;
  /** Where it came from, for messages: `argv[2]`, `answers.conf:7`, `hosts.ini:12`. */
  readonly source: string;
}

/** What a host's run gets: command-line statements, and values to set at customization. */
export interface SettingsPlan {
  /** `KEY=type:value` statements for the installer's command line. Never secret. */
  readonly statements: readonly string[];
  /** Key and value pairs for the customization dialog, each key once, in first-seen order. */
  readonly values: readonly { readonly key: string; readonly value: EnvValue }[];
}

/** Keys the installer reads before its plugin groups load. */
const EARLY_KEY_RE = /^(?:BASE|DIALOG)\//;

/**
 * Parses command-line statements (`KEY=type:value`, `APPEND:KEY=...`) with the installer's own
 * parser, so quoting and types mean the same on both sides.
 *
 * @throws EngineError `USAGE` naming the argument, the key and what is wrong.
 */
export function parseSettings(args: readonly string[], label = 'argument'): EnvSetting[] {
  try {
    // The host, not the engine, knows which keys are secret: a refused value is never repeated.
    return parseStatements(args, label, () => true).map((s) => ({
      op: s.op,
      key: s.key,
      value: s.value,
      source: s.source,
    }));
  } catch (error) {
    if (!isOtopiError(error)) throw error;
    throw new EngineError('USAGE', error.message, {
      cause: error,
      ...(error.place.key === undefined ? {} : { field: error.place.key }),
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    });
  }
}

/**
 * Reads an otopi answer file (`[environment:default]`, `init`, `override`, `enforce`; FILE.d/*.conf
 * after it) into settings, section by section in that order, so a later section wins.
 *
 * @throws EngineError `ANSWERS_INVALID` with file, line and key.
 */
export function readAnswerFile(file: string): EnvSetting[] {
  try {
    return readConfigFiles([file], { isSensitive: () => true }).entries.map((e) => ({
      op: 'set' as const,
      key: e.key,
      value: e.value,
      source: `${e.file}:${e.line}`,
    }));
  } catch (error) {
    if (!isOtopiError(error)) throw error;
    throw new EngineError('ANSWERS_INVALID', `${error.location}${error.message}`, {
      cause: error,
      file: error.place.file ?? file,
      ...(error.place.line === undefined ? {} : { line: error.place.line }),
      ...(error.place.key === undefined ? {} : { field: error.place.key }),
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    });
  }
}

/**
 * Merges settings in order (a later value for a key replaces an earlier one) and splits them
 * into command-line statements and customization values.
 */
export function planSettings(settings: readonly EnvSetting[]): SettingsPlan {
  const statements: string[] = [];
  const values = new Map<string, EnvValue>();
  for (const s of settings) {
    if (s.op !== 'set' || EARLY_KEY_RE.test(s.key)) {
      const prefix = s.op === 'append' ? 'APPEND:' : s.op === 'prepend' ? 'PREPEND:' : '';
      statements.push(`${prefix}${s.key}=${formatTypedValue(s.value, { key: s.key })}`);
    } else {
      // Re-inserting moves nothing: a Map keeps the first insertion's position.
      values.set(s.key, s.value);
    }
  }
  return { statements, values: [...values].map(([key, value]) => ({ key, value })) };
}
