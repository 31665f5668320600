/**
 * Loading plugin groups from the plugin path: one folder per group, one module per plugin.
 * A module's default export is a plugin (`definePlugin`) or an array of them. A group that
 * cannot be found or loaded is a `PLUGIN_*` error; the CLI exits with code 2 for those.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OtopiError, errorMessage } from '../errors.js';
import { isPlugin, type Plugin } from './define.js';

/** Always loaded, like otopi's own group. */
export const BASE_GROUP = 'otopi';

export interface LoadedPlugin {
  readonly plugin: Plugin;
  /** Name used when the plugin does not set one: `<group>.<path.inside.group>`. */
  readonly defaultName: string;
  readonly file: string;
}

export interface GroupLocation {
  readonly group: string;
  readonly dir: string;
  readonly files: readonly string[];
}

/** Splits a colon list, dropping empty entries and duplicates, keeping order. */
export function colonList(value: string): string[] {
  return [
    ...new Set(
      value
        .split(':')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  ];
}

export function locateGroups(
  pluginPath: readonly string[],
  groups: readonly string[],
  baseDir: string,
): GroupLocation[] {
  const wanted = [...new Set([BASE_GROUP, ...groups])];
  const found: GroupLocation[] = [];
  const missing: string[] = [];
  for (const group of wanted) {
    let any = false;
    for (const entry of pluginPath) {
      const dir = resolve(baseDir, entry, group);
      if (!isDir(dir)) continue;
      any = true;
      const root = isDir(join(dir, 'dist')) ? join(dir, 'dist') : dir;
      found.push({ group, dir, files: moduleFiles(root) });
    }
    if (!any) missing.push(group);
  }
  if (missing.length > 0) {
    throw new OtopiError(
      'PLUGIN_GROUP_MISSING',
      `plugin group${missing.length > 1 ? 's' : ''} ${missing.map((g) => `'${g}'`).join(', ')} not found in plugin path ${
        pluginPath.length > 0 ? pluginPath.join(':') : '(empty)'
      }`,
      { hint: 'Check BASE/pluginGroups and BASE/pluginPath.' },
    );
  }
  return found;
}

/** A group in a known folder (its `dist/` when built), without searching a plugin path. */
export function groupLocation(group: string, dir: string): GroupLocation {
  const root = isDir(join(dir, 'dist')) ? join(dir, 'dist') : dir;
  return { group, dir, files: moduleFiles(root) };
}

/**
 * Every group in the plugin path: the sub-folders that hold plugin modules, the first folder
 * of a name winning, the base group first and the rest by name.
 */
export function listGroups(pluginPath: readonly string[], baseDir: string): GroupLocation[] {
  const found = new Map<string, GroupLocation>();
  for (const entry of pluginPath) {
    const folder = resolve(baseDir, entry);
    if (!isDir(folder)) continue;
    for (const name of readdirSync(folder).sort()) {
      const dir = join(folder, name);
      if (found.has(name) || name.startsWith('.') || name === 'node_modules' || !isDir(dir)) continue;
      const location = groupLocation(name, dir);
      if (location.files.length > 0) found.set(name, location);
    }
  }
  const base = found.get(BASE_GROUP);
  return [...(base === undefined ? [] : [base]), ...[...found.values()].filter((l) => l.group !== BASE_GROUP)];
}

export async function importGroups(locations: readonly GroupLocation[]): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  for (const location of locations) {
    const root = isDir(join(location.dir, 'dist')) ? join(location.dir, 'dist') : location.dir;
    for (const file of location.files) {
      let module: { default?: unknown };
      try {
        module = (await import(pathToFileURL(file).href)) as { default?: unknown };
      } catch (error) {
        throw new OtopiError('PLUGIN_LOAD_FAILED', `cannot load plugin module ${file}: ${errorMessage(error)}`, {
          file,
          cause: error,
        });
      }
      const exported = module.default;
      // Modules without a default export are helpers shared by the group's plugins.
      if (exported === undefined) continue;
      const plugins = Array.isArray(exported) ? exported : [exported];
      const base = `${location.group}.${relative(root, file)
        .replace(/\.(m?js)$/, '')
        .split(sep)
        .join('.')}`;
      plugins.forEach((plugin, index) => {
        if (!isPlugin(plugin)) {
          throw new OtopiError(
            'PLUGIN_INVALID',
            `${file} does not export a plugin (export default definePlugin({...}))`,
            {
              file,
            },
          );
        }
        loaded.push({ plugin, defaultName: plugins.length > 1 ? `${base}.${index}` : base, file });
      });
    }
  }
  return loaded;
}

function moduleFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('_') || name.startsWith('.') || name === 'node_modules') continue;
      const path = join(dir, name);
      if (isDir(path)) {
        if (name !== 'src' && name !== 'test') walk(path);
      } else if (/\.m?js$/.test(name)) {
        out.push(path);
      }
    }
  };
  walk(root);
  return out;
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
