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

/**
 * The package's versions to check `minimum` against: what is installed when that is enough
 * (then the repositories are not asked, which would refresh the package index: a converged
 * host does no such work), else with what the repositories offer.
 */
async function candidates(packager: Packager, name: string, minimum: string | null): Promise<PackageInfo[]> {
  const installed = await packager.queryInstalled([name]);
  if (packager.name === 'offline') return installed;
  const compare = (a: string, b: string): -1 | 0 | 1 => packager.compare(a, b);
  if (installed.length > 0 && checkMinimum(name, installed, minimum, compare).ok) return installed;
  return [...installed, ...(await packager.queryAvailable([name]))].filter((p) => p.name === name);
}

async function choosePackages(ctx: HandlerContext): Promise<string[]> {
  const packager = ctx.providers.get(PACKAGER);
  const compare = (a: string, b: string): -1 | 0 | 1 => packager.compare(a, b);
  const minimum = ctx.env.get(VdsmEnv.vdsmMinimumVersion);
  const vdsm = checkMinimum('vdsm', await candidates(packager, 'vdsm', minimum), minimum, compare);
  if (!vdsm.ok)
    throw new OtopiError('PREREQUISITE_MISSING', vdsm.message, {
      key: VdsmEnv.vdsmMinimumVersion.key,
      hint:
        packager.name !== 'offline'
          ? 'Add the oVirt repositories to the host (or a newer one), then deploy again.'
          : ctx.env.get(OdeployEnv.offlinePackager)
            ? 'ODEPLOY/offlinePackager is True: install vdsm on the host first.'
            : 'No package manager was found on the host (the offline packager installs nothing): install vdsm first, or a package manager.',
    });
  ctx.log.info(`Using ${vdsm.message}`);
  const metaMinimum = ctx.env.get(OvirtHostEnv.minimumVersion);
  const meta = await candidates(packager, META_PACKAGE, metaMinimum);
  if (meta.length === 0) return [...VDSM_PACKAGES];
  const host = checkMinimum(META_PACKAGE, meta, metaMinimum, compare);
  if (!host.ok) throw new OtopiError('PREREQUISITE_MISSING', host.message, { key: OvirtHostEnv.minimumVersion.key });
  return [META_PACKAGE];
}

export default definePlugin({
  env: [VdsmEnv, OvirtHostEnv],
  setup(plugin) {
    let packages: string[] = [];
    plugin.on({
      name: 'programs',
      stage: 'setup',
      run: ({ providers }) => providers.get(COMMANDS).detect('vdsm-tool'),
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
      run: ({ providers, log }) => {
        log.info(`Installing ${packages.join(', ')}`);
        providers.get(PACKAGER).install(packages);
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
