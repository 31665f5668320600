/**
 * Answer files: the answers of a run as an `[environment:default]` config section, so
 * that `otopi --config-append=FILE` repeats the run without asking.
 *
 * Differences from otopi, on purpose:
 * - Keys are sorted with `<n>` compared as a number (otopi sorted `QUESTION/10/…` before
 *   `QUESTION/2/…`).
 * - Hidden answers are left out and named in a comment, unless
 *   `DIALOG/answerFileKeepSecrets` is on; kept ones are written as
 *   `QUESTION_HIDDEN/<n>/<name>`, a sensitive family, so reading the file back never shows
 *   them in a log. otopi wrote them in clear text under `QUESTION/`.
 * - The file is written atomically (temporary file, fsync, rename) with mode 0600, also
 *   when it existed before with a wider mode.
 * - Keys no loaded group declares (another tool's, from an answer file or the engine) are
 *   written back as they were read, `none:None` included, so a run with the written file sees
 *   them as the first run did; those whose names look secret are left out and named like hidden
 *   answers. otopi wrote only `QUESTION/*` keys.
 */
import { isAbsolute, resolve } from 'node:path';
import { formatTypedValue, type EnvValue } from '../env/codec.js';
import type { Environment } from '../env/environment.js';
import { formatIni } from '../config/ini.js';
import { FileTransaction } from '../transaction/file-transaction.js';
import { BaseEnv } from '../runtime/keys.js';
import { DialogEnv } from './keys.js';

export interface AnswerFileOptions {
  /** Write hidden answers too (as `QUESTION_HIDDEN/<n>/<name>`). Default false. */
  readonly keepSecrets?: boolean;
  /** Time stamp for the header. Default: now. */
  readonly now?: Date;
}

/** Compares keys part by part, numeric parts as numbers: `QUESTION/2/x` < `QUESTION/10/x`. */
export function compareAnswerKeys(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x) ? Number(x) : Number.NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : Number.NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny) && nx !== ny) return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The answer file's text for the answers now in `env`. */
export function formatAnswerFile(env: Environment, options: AnswerFileOptions = {}): string {
  const hiddenKeys = new Set(env.get(DialogEnv.hiddenAnswerKeys));
  const entries = new Map<string, EnvValue>();
  const leftOut: string[] = [];
  for (const key of env.keys()) {
    const value = env.getRaw(key) as EnvValue | undefined;
    if (value === undefined) continue;
    if (env.isUndeclared(key)) {
      if (!isWritable(value)) continue;
      if (!env.isSensitive(key) || options.keepSecrets === true) entries.set(key, value);
      else leftOut.push(key);
      continue;
    }
    if (value === null) continue;
    if (key.startsWith('QUESTION/')) {
      if (!hiddenKeys.has(key)) entries.set(key, value);
      else if (options.keepSecrets === true) entries.set(`QUESTION_HIDDEN/${key.slice('QUESTION/'.length)}`, value);
      else leftOut.push(`QUESTION_HIDDEN/${key.slice('QUESTION/'.length)}`);
    } else if (key.startsWith('QUESTION_HIDDEN/')) {
      if (options.keepSecrets === true) entries.set(key, value);
      else if (!leftOut.includes(key)) leftOut.push(key);
    }
  }
  const header = [
    `otopi answer file, written ${(options.now ?? new Date()).toISOString()}.`,
    'Repeat the run unattended with: otopi --config-append=<this file>',
  ];
  if (leftOut.length > 0) {
    header.push(
      'Hidden answers were left out (DIALOG/answerFileKeepSecrets=bool:True keeps them); give them as',
      ...leftOut.sort(compareAnswerKeys).map((k) => `  ${k}=str:<answer>`),
    );
  }
  const sorted = [...entries.keys()].sort(compareAnswerKeys);
  return formatIni(
    [
      {
        name: 'environment:default',
        entries: sorted.map((key) => ({ key, value: formatTypedValue(entries.get(key)!, { key }) })),
      },
    ],
    {
      header,
    },
  );
}

/** A value `formatTypedValue` writes and reads back the same. */
function isWritable(value: unknown): value is EnvValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return true;
  if (typeof value === 'number') return Number.isSafeInteger(value);
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && !/[\r\n]/.test(v));
}

/** Writes the answer file named by `DIALOG/answerFile` (relative to `BASE/executionDirectory`); returns its path. */
export async function writeAnswerFile(
  env: Environment,
  name: string,
  options: AnswerFileOptions = {},
): Promise<string> {
  const path = isAbsolute(name) ? name : resolve(env.get(BaseEnv.executionDirectory), name);
  const file = new FileTransaction({
    path,
    content: formatAnswerFile(env, options),
    mode: 0o600,
    enforcePermissions: true,
    backup: false,
  });
  await file.prepare();
  await file.commit();
  return path;
}
