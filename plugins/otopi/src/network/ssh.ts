/**
 * Authorizes one SSH public key (NETWORK/sshKey) for NETWORK/sshUser: validated at
 * validation, merged into ~/.ssh/authorized_keys at misc through the main transaction,
 * with the folder 0700 and the file 0600, both owned by the user.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileTransaction, FolderAttributes, OtopiError, definePlugin } from '@otopi/core';
import { NetworkEnv } from '../_lib/keys.js';
import { mergeAuthorizedKey, validatePublicKey, type PublicKey } from '../_lib/network/ssh-keys.js';
import { systemRunner } from '../_lib/runner.js';
import { COMMANDS } from '../_lib/tokens.js';
import { lookupAccount, type Account } from '../_lib/users.js';

export default definePlugin({
  env: [NetworkEnv],
  setup(plugin) {
    let key: PublicKey | undefined;
    let account: Account | undefined;
    plugin.on({
      name: 'validation',
      stage: 'validation',
      condition: ({ env }) => env.get(NetworkEnv.sshEnable),
      run: async ({ env, log, providers }) => {
        const text = env.get(NetworkEnv.sshKey);
        if (text === null || text.trim() === '') {
          throw new OtopiError('ENV_BAD_VALUE', 'NETWORK/sshEnable is True but NETWORK/sshKey is not set', {
            key: NetworkEnv.sshKey.key,
          });
        }
        try {
          key = validatePublicKey(text);
        } catch (error) {
          throw new OtopiError('ENV_BAD_VALUE', `SSH public key is invalid: ${(error as Error).message}`, {
            key: NetworkEnv.sshKey.key,
          });
        }
        const commands = providers.get(COMMANDS);
        account = await lookupAccount(env.get(NetworkEnv.sshUser), {
          run: systemRunner,
          log,
          which: (n) => commands.find(n),
        });
      },
    });
    plugin.on({
      name: 'appendKey',
      stage: 'misc',
      condition: () => key !== undefined && account !== undefined,
      run: async ({ log, transaction }) => {
        const user = account!;
        const dir = join(user.home, '.ssh');
        const path = join(dir, 'authorized_keys');
        const current = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return '';
          throw error;
        });
        const merged = mergeAuthorizedKey(current, key!);
        const folder = new FolderAttributes(dir, { mode: 0o700, uid: user.uid, gid: user.gid });
        const file = new FileTransaction({
          path,
          content: merged.text,
          mode: 0o600,
          owner: user.uid,
          group: user.gid,
          dirMode: 0o700,
          enforcePermissions: true,
        });
        await transaction.append(folder);
        await transaction.append(file);
        const what = `${key!.type} key${key!.comment === '' ? '' : ` '${key!.comment}'`} for ${user.name}`;
        if (merged.action === 'unchanged' && !file.changed && (await folder.upToDate()))
          log.info(`SSH ${what} is already authorized: no changes`);
        else
          log.info(
            `SSH ${what}: ${merged.action === 'added' ? 'added to' : merged.action === 'replaced' ? 'replaced in' : 'permissions fixed on'} ${path}`,
          );
      },
    });
  },
});
