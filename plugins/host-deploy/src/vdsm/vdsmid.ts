/**
 * VDSM/vdsmId: read at setup, detected at customization HIGH (before the engine's
 * `env-get VDSM/vdsmId` at the command prompt), stored in /etc/vdsm/vdsm.id at misc when it
 * changed. dmidecode is used when installed; otherwise sysfs gives the same SMBIOS UUID, so no
 * package is installed for it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FileTransaction, Priority, definePlugin } from '@otopi/core';
import { BASE_HANDLERS } from '../_lib/foreign.js';
import { VdsmEnv } from '../_lib/keys.js';
import { COMMANDS } from '../_lib/tokens.js';
import { detectVdsmId, VDSM_ID_FILE, type IdProbe } from '../_lib/vdsm/vdsm-id.js';
import { exec } from '@otopi/core';

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

export default definePlugin({
  env: [VdsmEnv],
  setup(plugin) {
    plugin.on({
      name: 'programs',
      stage: 'setup',
      run: ({ providers }) => providers.get(COMMANDS).detect('dmidecode'),
    });
    plugin.on({
      name: 'detect',
      stage: 'customization',
      priority: Priority.HIGH,
      before: BASE_HANDLERS.dialogCustomization,
      condition: ({ env }) => env.get(VdsmEnv.vdsmId) === null,
      run: async ({ env, log, providers }) => {
        const dmidecode = providers.get(COMMANDS).find('dmidecode');
        const probe: IdProbe = {
          readFile: readText,
          dmidecode: async () =>
            dmidecode === null
              ? null
              : exec([dmidecode, '-s', 'system-uuid'], { log, allowFailure: true, timeoutMs: 30_000 }),
          arch: process.arch,
          randomUUID,
        };
        const detected = await detectVdsmId(probe);
        for (const warning of detected.warnings) log.warn(warning);
        log.info(`Host id ${detected.id} (from ${detected.source})`);
        env.set(VdsmEnv.vdsmId, detected.id);
      },
    });
    plugin.on({
      name: 'store',
      stage: 'misc',
      condition: ({ env }) => env.get(VdsmEnv.vdsmId) !== null,
      run: async ({ env, transaction, log }) => {
        const id = env.get(VdsmEnv.vdsmId)!;
        if (readText(VDSM_ID_FILE)?.split('\n')[0]?.trim() === id) return;
        await transaction.append(
          new FileTransaction({ path: VDSM_ID_FILE, content: id, mode: 0o644, owner: 0, group: 0, log }),
        );
      },
    });
  },
});
