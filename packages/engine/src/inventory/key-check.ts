/**
 * Checks a deploy's environment settings (command line, inventory, answer file) against the
 * keys of the plugin groups it deploys, before any host is contacted.
 *
 * The hosts take any well-formed key, as otopi does: a key of a namespace no deployed group
 * owns (another tool's, a newer version's) passes through unchecked. What is refused here is
 * what would only fail, or be silently ignored, on every host: a key in a namespace a deployed
 * group owns that is a likely typo of one of its keys (`VDSM/engineHots`: did you mean
 * VDSM/engineHost?), and a value a declared key refuses (`VDSM/enginePort=str:https`). A key of
 * such a namespace with no close declared key is passed on with a warning (the host warns too).
 */
import { checkUndeclared, typeTagOf, type EnvRegistry } from '@otopi/core';
import { EngineError } from '../errors.js';
import type { EnvSetting } from './settings.js';

export interface KeyCheckOptions {
  /** Where the settings come from, for the message: `on the command line`, `in the inventory`. */
  readonly from: string;
  /** Refuse every key of a deployed namespace that no group declares, not only likely typos (`--strict-keys`). Default false. */
  readonly strict?: boolean;
}

/**
 * @returns warnings, one per key (and source) of a deployed group's namespace that matches no
 * declared key and is not close to one.
 * @throws EngineError `SETTING_UNKNOWN_KEY` naming every likely typo with the key meant,
 * `SETTING_INVALID` for values a declared key refuses; each problem names its source.
 */
export function checkSettingKeys(
  settings: readonly EnvSetting[],
  registry: EnvRegistry,
  options: KeyCheckOptions,
): string[] {
  const typos: string[] = [];
  let firstTypo = '';
  const invalid: string[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const s of settings) {
    const id = `${s.source} ${s.key}`;
    if (seen.has(id)) continue; // [defaults] settings come once per host
    seen.add(id);
    const spec = registry.lookup(s.key);
    if (spec === undefined) {
      const notice = checkUndeclared(registry, s.key);
      if (notice === undefined) continue;
      if (notice.likelyTypo || options.strict === true) {
        typos.push(
          `${s.source}: ${s.key}: ${notice.likelyTypo ? 'did you mean' : 'no deployed group declares it; the closest is'} ${notice.closest}${notice.likelyTypo ? '?' : ''}`,
        );
        firstTypo ||= s.key;
      } else
        warnings.push(
          `${s.source}: ${s.key} is not a key of the deployed groups' ${notice.namespace}/ namespace (the closest is ${notice.closest}); sent as given`,
        );
      continue;
    }
    // APPEND:/PREPEND: extend the host's current value; only the host can check the result.
    if (s.op !== 'set') continue;
    const parsed = spec.schema.safeParse(s.value);
    if (!parsed.success) {
      const shown = spec.sensitive ? 'the value (not shown)' : `a ${typeTagOf(s.value)} value`;
      const why = parsed.error.issues[0]?.message ?? 'invalid value';
      invalid.push(
        `${s.source}: ${s.key}: ${shown} does not fit ${spec.nullable ? `${spec.type} or none` : spec.type} (${why})`,
      );
    }
  }
  if (typos.length > 0) {
    throw new EngineError(
      'SETTING_UNKNOWN_KEY',
      `unknown environment key${typos.length > 1 ? 's' : ''} ${options.from}, nothing was deployed:\n  ${[...typos, ...invalid].join('\n  ')}`,
      {
        field: firstTypo,
        hint: "Fix the key; 'otopi env-doc KEY' shows a key, 'otopi env-doc' all of them. A key of a namespace no deployed group owns is sent as given.",
      },
    );
  }
  if (invalid.length > 0) {
    throw new EngineError(
      'SETTING_INVALID',
      `value${invalid.length > 1 ? 's' : ''} refused ${options.from}, nothing was deployed:\n  ${invalid.join('\n  ')}`,
      { hint: "Give the value in the key's type ('otopi env-doc KEY' shows it)." },
    );
  }
  return warnings;
}
