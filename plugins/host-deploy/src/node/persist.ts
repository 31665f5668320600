/**
 * On a vintage oVirt Node the root file system is rebuilt at boot: every file this run
 * changed, and the host id, are persisted with the node's `persist` command at the very end.
 * Files the run removes are `unpersist`ed first (`_lib/node-files.ts`).
 */
import { existsSync } from 'node:fs';
import { Priority, CoreEnv, definePlugin, exec } from '@otopi/core';
import { VdsmEnv } from '../_lib/keys.js';
import { COMMANDS } from '../_lib/tokens.js';
import { VDSM_ID_FILE } from '../_lib/vdsm/vdsm-id.js';

export default definePlugin({
  setup(plugin) {
    plugin.on({
      name: 'programs',
      stage: 'setup',
      run: ({ providers }) => {
        for (const p of ['persist', 'unpersist']) providers.get(COMMANDS).detect(p);
      },
    });
    plugin.on({
      name: 'persist',
      stage: 'closeup',
      priority: Priority.LAST,
      condition: ({ env, dryRun }) => env.get(VdsmEnv['ovirt-legacy-node']) && !dryRun,
      run: async ({ env, log, providers }) => {
        const files = [...new Set([VDSM_ID_FILE, ...env.get(CoreEnv.modifiedFiles)])];
        const persist = providers.get(COMMANDS).find('persist');
        if (persist === null) {
          log.warn(
            `This vintage oVirt Node has no 'persist' command: these files are lost at the next boot: ${files.join(', ')}`,
          );
          return;
        }
        const kept: string[] = [];
        for (const file of files.filter((f) => existsSync(f))) {
          const r = await exec([persist, file], { log, allowFailure: true });
          if (r.code !== 0) log.warn(`Cannot persist ${file}: ${r.stderr.trim() || `exit code ${r.code}`}`);
          else kept.push(file);
        }
        log.info(`oVirt Node: ${kept.length} file(s) kept across reboots: ${kept.join(', ')}`);
      },
    });
  },
});
