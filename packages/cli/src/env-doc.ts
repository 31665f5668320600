/**
 * `otopi env-doc [KEY=type:value ...]`: prints the environment reference (Markdown) for the
 * runtime and the plugin groups the statements load.
 */
import {
  BaseEnv,
  Runtime,
  colonList,
  environmentReference,
  importGroups,
  isOtopiError,
  locateGroups,
  parseStatements,
} from '@otopi/core';
import { defaultPluginPath } from './run.js';

export async function envDoc(args: readonly string[]): Promise<number> {
  const runtime = new Runtime();
  try {
    for (const s of parseStatements(args)) {
      if (s.op !== 'set') throw new Error(`env-doc takes plain KEY=type:value statements, not ${s.op}`);
      runtime.env.setExternal(s.key, s.value, { kind: 'cmdline', where: s.source });
    }
    if (runtime.env.get(BaseEnv.pluginPath) === '') runtime.env.set(BaseEnv.pluginPath, defaultPluginPath());
    const locations = locateGroups(
      colonList(runtime.env.get(BaseEnv.pluginPath)),
      colonList(runtime.env.get(BaseEnv.pluginGroups)),
      runtime.env.get(BaseEnv.executionDirectory),
    );
    for (const { plugin, defaultName } of await importGroups(locations)) runtime.register(plugin, defaultName);
  } catch (error) {
    process.stderr.write(`otopi env-doc: ${isOtopiError(error) ? error.location : ''}${(error as Error).message}\n`);
    return isOtopiError(error) && error.code.startsWith('PLUGIN_') ? 2 : 1;
  }
  process.stdout.write(environmentReference(runtime.env.registry.declared(), runtime.env.registry.familyList()));
  return 0;
}
