/**
 * `otopi env-doc [KEY] [BASE/pluginPath=type:value ...]`: the environment reference (Markdown,
 * docs/environment.md) of the runtime and every plugin group in the plugin path, or one key.
 */
import {
  BaseEnv,
  OtopiError,
  Runtime,
  colonList,
  environmentReference,
  isOtopiError,
  keyReference,
  listGroups,
  loadKeyCatalogue,
  parseStatements,
  type KeyCatalogue,
} from '@otopi/core';
import { defaultPluginPath } from './run.js';

const USAGE = `Usage: otopi env-doc [KEY] [BASE/pluginPath=str:DIRS]

Prints the environment reference (Markdown) of the runtime and of every plugin group in the
plugin path; with KEY (e.g. VDSM/engineHost), that key only.
Exit codes: 0 shown, 1 an unknown key or a bad statement, 2 a plugin group failed to load, 64 usage error.
`;

export async function envDoc(args: readonly string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const wanted = args.filter((a) => !a.includes('='));
  if (wanted.length > 1 || wanted.some((a) => a.startsWith('-'))) {
    process.stderr.write(`otopi env-doc: give one KEY at most\n${USAGE}`);
    return 64;
  }
  let catalogue: KeyCatalogue;
  try {
    const runtime = new Runtime();
    for (const s of parseStatements(args.filter((a) => a.includes('=')))) {
      if (s.op !== 'set') throw new OtopiError('USAGE', `env-doc takes plain KEY=type:value statements, not ${s.op}`);
      runtime.env.setExternal(s.key, s.value, { kind: 'cmdline', where: s.source });
    }
    if (runtime.env.get(BaseEnv.pluginPath) === '') runtime.env.set(BaseEnv.pluginPath, defaultPluginPath());
    catalogue = await loadKeyCatalogue(
      listGroups(colonList(runtime.env.get(BaseEnv.pluginPath)), runtime.env.get(BaseEnv.executionDirectory)),
    );
  } catch (error) {
    process.stderr.write(`otopi env-doc: ${isOtopiError(error) ? error.location : ''}${(error as Error).message}\n`);
    return isOtopiError(error) && error.code.startsWith('PLUGIN_') ? 2 : 1;
  }
  const key = wanted[0];
  if (key === undefined) {
    process.stdout.write(environmentReference(catalogue.sections));
    return 0;
  }
  const spec = catalogue.registry.lookup(key);
  if (spec === undefined) {
    const near = catalogue.registry.suggest(key);
    process.stderr.write(
      `otopi env-doc: no plugin group in the plugin path declares '${key}'${
        near.length > 0 ? `; did you mean ${near.join(' or ')}?` : ''
      }\n  'otopi env-doc' lists every key; a key no group declares is still taken as given, typed by its type: prefix.\n`,
    );
    return 1;
  }
  const name = 'prefix' in spec ? `${String(spec.prefix)}/*` : key;
  process.stdout.write(keyReference(name, spec, catalogue.ownerOf(key) ?? 'runtime'));
  return 0;
}
