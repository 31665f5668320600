/**
 * vdsm itself: the ovirt-host meta package when the repositories offer it, else vdsm and
 * vdsm-client, installed through the base group's packager with VDSM/vdsmMinimumVersion
 * enforced by the distribution's version rules; then, at closeup, vdsmd (and the services
 * that read its certificates) configured, enabled and running. Services are restarted only
 * when their configuration or certificates changed, so a second deploy restarts nothing.
 */
import { OtopiError, Priority, definePlugin, type HandlerContext, type PackageInfo, type Packager } from '@otopi/core';
import { OdeployEnv, VdsmEnv } from '../_lib/keys.js';
import { OvirtHostEnv } from '../_lib/keys-accepted.js';
import { COMMANDS, PACKAGER } from '../_lib/tokens.js';
import { startVdsm } from '../_lib/vdsm/start.js';
import { checkMinimum } from '../_lib/vdsm/versions.js';

export const META_PACKAGE = 'ovirt-host';
export const VDSM_PACKAGES = ['vdsm', 'vdsm-client'] as const;

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
        packager.name === 'offline'
          ? 'ODEPLOY/offlinePackager is True: install vdsm on the host first.'
          : 'Add the oVirt repositories to the host (or a newer one), then deploy again.',
    });
  ctx.log.info(`Using ${vdsm.message}`);
  const meta = await candidates(packager, META_PACKAGE);
  if (meta.length === 0) return [...VDSM_PACKAGES];
  const host = checkMinimum(META_PACKAGE, meta, ctx.env.get(OvirtHostEnv.minimumVersion), compare);
  if (!host.ok) throw new OtopiError('HANDLER_FAILED', host.message, { key: OvirtHostEnv.minimumVersion.key });
  return [META_PACKAGE];
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
