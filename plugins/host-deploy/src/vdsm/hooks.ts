/**
 * vdsm hooks carried in the bundle: every file under this plugin's `hooks.d/` folder is
 * installed as /usr/libexec/vdsm/hooks/<same relative path> (root, 0755) in the main
 * transaction. The bundle is how an engine administrator ships host customizations.
 * Hook file names must not end in .js or .mjs: the plugin loader would take them for modules.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileTransaction, definePlugin } from '@otopi/core';

export const HOOKS_TARGET = '/usr/libexec/vdsm/hooks';
export const HOOKS_SOURCE = fileURLToPath(new URL('./hooks.d/', import.meta.url));

/** Files under `dir`, as paths relative to it, sorted; none when it does not exist. */
export function hookFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (folder: string): void => {
    let names: string[];
    try {
      names = readdirSync(folder).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out;
}

export default definePlugin({
  setup(plugin) {
    plugin.on({
      name: 'install',
      stage: 'misc',
      run: async ({ log, transaction }) => {
        const files = hookFiles(HOOKS_SOURCE);
        if (files.length === 0) {
          log.debug(`no vdsm hooks in ${HOOKS_SOURCE}`);
          return;
        }
        log.info(`Installing ${files.length} vdsm hook(s): ${files.join(', ')}`);
        for (const file of files) {
          await transaction.append(
            new FileTransaction({
              path: join(HOOKS_TARGET, file),
              content: readFileSync(join(HOOKS_SOURCE, file)),
              mode: 0o755,
              owner: 0,
              group: 0,
              enforcePermissions: true,
              log,
            }),
          );
        }
      },
    });
  },
});
