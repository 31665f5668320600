/**
 * vdsmd after a change, shared by host-deploy and host-mgmt: `vdsm-tool configure --force` when
 * something of vdsm changed (its configuration, its certificates, its packages), the services
 * that load the certificates restarted when those changed, and vdsmd enabled and running,
 * restarted only when something changed, so a run that changed nothing restarts nothing.
 */
import { OtopiError, exec, type HandlerContext } from '@otopi/core';
import { COMMANDS, SERVICES, vdsmChanges } from '../tokens.js';

/** Services that load the VDSM certificates, restarted when they changed; vdsmd last. */
export const CERTIFICATE_USERS = ['libvirtd', 'ovirt-imageio'] as const;
export const VDSM_SERVICE = 'vdsmd';

export async function startVdsm(ctx: HandlerContext): Promise<void> {
  const { providers, log } = ctx;
  const manager = providers.get(SERVICES);
  const changed = vdsmChanges(providers).changed();
  const tool = providers.get(COMMANDS).find('vdsm-tool');
  if (tool !== null && changed.length > 0) {
    const r = await exec([tool, 'configure', '--force'], { log, allowFailure: true });
    if (r.code !== 0)
      log.warn(`vdsm-tool configure --force failed (exit code ${r.code}); vdsm may need configuring by hand`);
  }
  if (changed.includes('certificates')) {
    for (const service of CERTIFICATE_USERS)
      if ((await manager.exists(service)) && (await manager.isRunning(service))) await manager.restart(service);
  }
  if (!(await manager.exists(VDSM_SERVICE)))
    throw new OtopiError('HANDLER_FAILED', `The ${VDSM_SERVICE} service does not exist after installing vdsm`);
  if (!(await manager.isEnabled(VDSM_SERVICE))) await manager.setEnabled(VDSM_SERVICE, true);
  if (!(await manager.isRunning(VDSM_SERVICE))) {
    log.info(`Starting ${VDSM_SERVICE}`);
    await manager.start(VDSM_SERVICE);
  } else if (changed.length > 0) {
    log.info(`Restarting ${VDSM_SERVICE} (changed: ${changed.join(', ')})`);
    await manager.restart(VDSM_SERVICE);
  } else {
    log.info(`${VDSM_SERVICE} is running; nothing of it changed`);
  }
}
