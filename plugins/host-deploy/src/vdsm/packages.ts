/**
 * vdsm itself: the ovirt-host meta package when the repositories offer it, else vdsm and
 * vdsm-client, installed through the base group's packager with VDSM/vdsmMinimumVersion
 * enforced by the distribution's version rules; then, at closeup, vdsmd (and the services
 * that read its certificates) configured, enabled and running. Services are restarted only
 * when their configuration or certificates changed, so a second deploy restarts nothing.
 */
import {
  OtopiError,
  Priority,
  definePlugin,
  exec,
  type HandlerContext,
  type PackageInfo,
  type Packager,
} from '@otopi/core';
import { OdeployEnv, VdsmEnv } from '../_lib/keys.js';
import { OvirtHostEnv } from '../_lib/keys-accepted.js';
import { COMMANDS, PACKAGER, SERVICES, vdsmChanges } from '../_lib/tokens.js';
import { checkMinimum } from '../_lib/vdsm/versions.js';

export const META_PACKAGE = 'ovirt-host';
export const VDSM_PACKAGES = ['vdsm', 'vdsm-client'] as const;
/** Services that load the VDSM certificates, restarted when they changed; vdsmd last. */
export const CERTIFICATE_USERS = ['libvirtd', 'ovirt-imageio'] as const;
export const VDSM_SERVICE = 'vdsmd';

async function candidates(packager: Packager, name: string): Promise<PackageInfo[]> {
  const installed = await packager.queryInstalled([name]);
  if (packager.name === 'offline') return installed;
  return [...installed, ...(await packager.queryAvailable([name]))].filter((p) => p.name === name);
}

async function choosePackages(ctx: HandlerContext): Promise<string[]> {
  const packager = ctx.services.get(PACKAGER);
  const compare = (a: string, b: string): -1 | 0 | 1 => packager.compare(a, b);
  const vdsm = checkMinimum(
    'vdsm',
    await candidates(packager, 'vdsm'),
    ctx.env.get(VdsmEnv.vdsmMinimumVersion),
    compare,
  );
  if (!vdsm.ok)
    throw new OtopiError('HANDLER_FAILED', vdsm.message, {
      key: VdsmEnv.vdsmMinimumVersion.key,
      hint:
        packager.name !== 'offline'
          ? 'Add the oVirt repositories to the host (or a newer one), then deploy again.'
          : ctx.env.get(OdeployEnv.offlinePackager)
            ? 'ODEPLOY/offlinePackager is True: install vdsm on the host first.'
            : 'No package manager was found on the host (the offline packager installs nothing): install vdsm first, or a package manager.',
    });
  ctx.log.info(`Using ${vdsm.message}`);
  const meta = await candidates(packager, META_PACKAGE);
  if (meta.length === 0) return [...VDSM_PACKAGES];
  const host = checkMinimum(META_PACKAGE, meta, ctx.env.get(OvirtHostEnv.minimumVersion), compare);
  if (!host.ok) throw new OtopiError('HANDLER_FAILED', host.message, { key: OvirtHostEnv.minimumVersion.key });
  return [META_PACKAGE];
}

async function startVdsm(ctx: HandlerContext): Promise<void> {
  const { services, log } = ctx;
  const manager = services.get(SERVICES);
  const changed = vdsmChanges(services).changed();
  const tool = services.get(COMMANDS).find('vdsm-tool');
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

export default definePlugin({
  env: [VdsmEnv, OvirtHostEnv],
  setup(plugin) {
    let packages: string[] = [];
    plugin.on({
      name: 'programs',
      stage: 'setup',
      run: ({ services }) => services.get(COMMANDS).detect('vdsm-tool'),
    });
    plugin.on({
      name: 'validation',
      stage: 'validation',
      run: async (ctx) => {
        packages = await choosePackages(ctx);
      },
    });
    plugin.on({
      name: 'install',
      stage: 'packages',
      run: ({ services, log }) => {
        log.info(`Installing ${packages.join(', ')}`);
        services.get(PACKAGER).install(packages);
      },
    });
    plugin.on({
      name: 'started',
      stage: 'closeup',
      priority: Priority.LOW,
      condition: ({ env, dryRun }) => !dryRun && !env.get(OdeployEnv.forceReboot),
      run: startVdsm,
    });
  },
});
