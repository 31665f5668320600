/**
 * `otopi deploy` checks the environment settings of the command line, the inventory and the
 * answer file against the keys of the groups it deploys, before it connects to any host
 * (`checkSettingKeys`): a likely typo (`VDSM/engineHots`) is refused with "did you mean"
 * instead of failing on every host after connecting. The keys come from the groups' build
 * output, the same code the bundle is made of: `plugins/<group>/dist` of the source tree, or
 * `--plugin-path`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  BASE_GROUP,
  errorMessage,
  groupLocation,
  isOtopiError,
  loadKeyCatalogue,
  type EnvRegistry,
  type GroupLocation,
} from '@otopi/core';
import { EngineError, checkSettingKeys, type EnvSetting } from '@otopi/engine';

/**
 * The registry of every key the base group and `groups` declare, or `undefined` when a
 * group's code is not on this machine (a prebuilt `--bundle` outside a source tree).
 *
 * @throws EngineError `BUNDLE_INPUT_MISSING` when a group's code does not load.
 */
export async function deployedKeys(
  groups: readonly string[],
  root: string | undefined,
  groupDirs: Readonly<Record<string, string>>,
): Promise<EnvRegistry | undefined> {
  const locations: GroupLocation[] = [];
  for (const group of [BASE_GROUP, ...groups.filter((g) => g !== BASE_GROUP)]) {
    const built = root === undefined ? undefined : join(root, 'plugins', group);
    const dir = built !== undefined && existsSync(join(built, 'dist')) ? built : groupDirs[group];
    if (dir === undefined) return undefined;
    locations.push(groupLocation(group, dir));
  }
  try {
    return (await loadKeyCatalogue(locations)).registry;
  } catch (error) {
    if (!isOtopiError(error)) throw error;
    throw new EngineError(
      'BUNDLE_INPUT_MISSING',
      `cannot load a plugin group to check the keys: ${errorMessage(error)}`,
      {
        cause: error,
        hint: 'Run npm run build, or give the folders of the groups with --plugin-path.',
      },
    );
  }
}

/**
 * Checks the command line's settings, then the inventory's and the answer file's.
 *
 * @returns warnings to show (keys of a deployed namespace that are not close to a declared key).
 * @throws EngineError `SETTING_UNKNOWN_KEY` / `SETTING_INVALID`; `commandLine` tells the caller
 * (usage error) from bad input files.
 */
export function checkDeployKeys(
  registry: EnvRegistry,
  commandLine: readonly EnvSetting[],
  files: readonly EnvSetting[],
  strict = false,
): { warnings: string[]; failed?: { error: EngineError; commandLine: boolean } } {
  const warnings: string[] = [];
  for (const [settings, from] of [
    [commandLine, 'on the command line'],
    [files, 'in the inventory or answer file'],
  ] as const) {
    try {
      warnings.push(...checkSettingKeys(settings, registry, { from, strict }));
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      return { warnings, failed: { error, commandLine: settings === commandLine } };
    }
  }
  return { warnings };
}

export interface KeyCheckRun {
  readonly groups: readonly string[];
  readonly root: string | undefined;
  readonly groupDirs: Readonly<Record<string, string>>;
  readonly commandLine: readonly EnvSetting[];
  /** The inventory's settings of the hosts deployed, and the answer file's. */
  readonly files: readonly EnvSetting[];
  readonly strict: boolean;
  /** Shows notes and warnings to the user. */
  readonly write: (text: string) => void;
}

/**
 * The deploy's check, with its notes, warnings and error shown.
 *
 * @returns where a refused key came from (the caller picks the exit code), or `undefined` when
 * the deploy may go on.
 */
export async function checkKeysBeforeConnecting(run: KeyCheckRun): Promise<'commandLine' | 'files' | undefined> {
  const registry = await deployedKeys(run.groups, run.root, run.groupDirs);
  if (registry === undefined) {
    run.write(
      "note: keys not checked before connecting (the groups' code is not here: --plugin-path); each host checks them\n",
    );
    return undefined;
  }
  const checked = checkDeployKeys(registry, run.commandLine, run.files, run.strict);
  for (const warning of checked.warnings) run.write(`warning: ${warning}\n`);
  if (checked.failed === undefined) return undefined;
  const { error, commandLine } = checked.failed;
  process.stderr.write(`otopi deploy: ${error.code}: ${error.message}\n  ${error.hint ?? ''}\n`);
  return commandLine ? 'commandLine' : 'files';
}
