/**
 * Removing a file on a vintage oVirt Node. A persisted file there is the copy in /config,
 * bind-mounted over its path: unlinking the path fails (EBUSY), and the copy would come back at
 * the next boot anyway. So it is `unpersist`ed first, as the node's own tools did before they
 * deleted a file (ovirt_safe_delete_config). On any other host this is a plain removal.
 */
import { existsSync, rmSync } from 'node:fs';
import { exec, type HandlerContext } from '@otopi/core';
import { VdsmEnv } from './keys.js';
import { COMMANDS } from './tokens.js';

export async function removeHostFile(
  ctx: Pick<HandlerContext, 'env' | 'log' | 'providers'>,
  path: string,
): Promise<void> {
  const { env, log, providers } = ctx;
  // Read raw: host-mgmt carries the enrollment plugin without node detection (then: not a node).
  const node = env.getRaw(VdsmEnv['ovirt-legacy-node'].key) === true;
  const unpersist = node ? providers.get(COMMANDS).find('unpersist') : null;
  if (unpersist !== null && existsSync(path)) {
    const r = await exec([unpersist, path], { log, allowFailure: true });
    if (r.code !== 0) log.warn(`Cannot unpersist ${path}: ${r.stderr.trim() || `exit code ${r.code}`}`);
  }
  rmSync(path, { force: true });
  log.debug(`removed ${path}`);
}
