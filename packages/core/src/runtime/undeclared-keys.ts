/**
 * What a run does with a key no group declares in a namespace a loaded group owns (a likely
 * typo, `env/open-keys.ts`): a warning, or in strict runs (`BASE/strictKeys`) an error.
 */
import { OtopiError } from '../errors.js';
import { describeSource, type Environment, type ValueSource } from '../env/environment.js';
import { undeclaredMessage, type UndeclaredKey } from '../env/open-keys.js';
import { BaseEnv } from './keys.js';

/**
 * @returns the warning to show.
 * @throws OtopiError `ENV_UNKNOWN_KEY` when `BASE/strictKeys` is on.
 */
export function undeclaredKeyWarning(env: Environment, notice: UndeclaredKey, source: ValueSource): string {
  const message = undeclaredMessage(notice, describeSource(source));
  if (env.get(BaseEnv.strictKeys)) {
    throw new OtopiError('ENV_UNKNOWN_KEY', `unknown environment key ${message}`, {
      key: notice.key,
      ...(source.kind === 'config' ? { file: source.file, line: source.line } : {}),
      hint: `Fix the key; BASE/strictKeys is on, so keys of ${notice.namespace}/ that no group declares are refused.`,
    });
  }
  return `Unknown environment key ${message} (kept as given; --strict-keys or BASE/strictKeys=bool:True refuses such keys)`;
}
