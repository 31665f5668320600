/**
 * Where `otopi deploy` finds the plugin groups it deploys, on the manager: the source tree it
 * was built in (`plugins/<group>`, built into `dist/`), the `--plugin-path` folders, and the
 * installed package's `plugins/`. The bundle and the key check take a group's built plugins;
 * a group's engine-side program is declared in its folder's package.json
 * (`@otopi/engine`'s `prepareGroupPrograms`).
 */
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The source tree this CLI was built in (`<root>/packages/cli/{src,dist/manager}`), when it is one. */
export function sourceRoot(): string | undefined {
  let dir = here;
  for (let up = 0; up < 4; up++) {
    dir = dirname(dir);
    if (existsSync(join(dir, 'bundle', 'launcher.sh')) && existsSync(join(dir, 'packages', 'cli'))) return dir;
  }
  return undefined;
}

const pathFolders = (pluginPath: string | undefined): string[] =>
  (pluginPath ?? '').split(delimiter).filter((d) => d !== '');

/** `--plugin-path` folders searched for `<folder>/<group>`, for groups outside `plugins/<group>/dist`. */
export function findGroupDirs(
  groups: readonly string[],
  pluginPath: string | undefined,
  root: string | undefined,
): Record<string, string> {
  const dirs: Record<string, string> = {};
  for (const group of groups) {
    if (root !== undefined && existsSync(join(root, 'plugins', group, 'dist'))) continue;
    const found = pathFolders(pluginPath)
      .map((f) => resolve(f, group))
      .find((d) => existsSync(d));
    if (found !== undefined) dirs[group] = found;
  }
  return dirs;
}

/**
 * Each group's folder, whose package.json may declare its engine program: the source tree's
 * `plugins/<group>` (when built), else the first `--plugin-path` folder that has it, else the
 * installed package's `plugins/<group>` (beside `bin/`).
 */
export function groupFolders(
  groups: readonly string[],
  pluginPath: string | undefined,
  root: string | undefined,
): Record<string, string> {
  const installed = resolve(here, '../../plugins');
  const folders: Record<string, string> = {};
  for (const group of groups) {
    const candidates = [
      ...(root !== undefined && existsSync(join(root, 'plugins', group, 'dist')) ? [join(root, 'plugins', group)] : []),
      ...pathFolders(pluginPath).map((f) => resolve(f, group)),
      join(installed, group),
    ];
    const found = candidates.find((d) => existsSync(d));
    if (found !== undefined) folders[group] = found;
  }
  return folders;
}
