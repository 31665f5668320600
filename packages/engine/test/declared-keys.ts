// The keys plugin groups declare, read from their sources the way a host loads them (every
// plugin module's `env`, into a runtime that never runs): what a simulated host accepts.
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Runtime, isPlugin } from '@otopi/core';

const PLUGINS = fileURLToPath(new URL('../../../plugins/', import.meta.url));

/** Plugin modules of a group's sources, as the loader picks them: no `_` files or folders. */
function pluginSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('_')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return pluginSources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Whether a key is declared by the runtime, the base group or `groups` (a family counts). */
export async function declaredKeys(groups: readonly string[]): Promise<(key: string) => boolean> {
  const runtime = new Runtime();
  for (const group of ['otopi', ...groups]) {
    const src = join(PLUGINS, group, 'src');
    for (const file of pluginSources(src)) {
      const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
      const plugins = Array.isArray(module.default) ? (module.default as unknown[]) : [module.default];
      const name = `${group}.${relative(src, file).replace(/\.ts$/, '').split(sep).join('.')}`;
      plugins.forEach((plugin, index) => {
        if (isPlugin(plugin)) runtime.register(plugin, plugins.length > 1 ? `${name}.${index}` : name);
      });
    }
  }
  return (key) => runtime.env.registry.lookup(key) !== undefined;
}
