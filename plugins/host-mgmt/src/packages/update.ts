/**
 * Package updates of a deployed host (OMGMT_PACKAGES, reference host-deploy.md §2.14): the
 * engine's "check for upgrade" (`checkUpdate`: the updates the repositories offer for the
 * installed packages named, in OMGMT_PACKAGES/packagesInfo, nothing changed) and "upgrade"
 * (`update`: those packages upgraded through the base group's packager, inside the run's
 * transaction, so a failed upgrade, or any failure after it, puts the earlier versions back).
 *
 * Differences from ovirt-host-mgmt, on purpose: only installed packages are considered (its
 * install-or-update could install a named package the host never had, during an upgrade), and
 * /etc/vdsm/vdsm.conf is kept whatever the package manager does with it: apt keeps an edited
 * conffile (--force-confold) and rpm a `%config(noreplace)` file anyway, but a package that
 * replaces it would lose the engine's settings, so the file is put back in the transaction.
 */
import { readFileSync, statSync } from 'node:fs';
import { FileTransaction, OtopiError, definePlugin, type HandlerContext, type UpdateInfo } from '@otopi/core';
import { PACKAGER, vdsmChanges } from '../../../host-deploy/src/_lib/tokens.js';
import { VDSM_CONF } from '../../../host-deploy/src/_lib/vdsm/conf.js';
import { OmgmtPackagesEnv, type UpdateMode } from '../_lib/keys.js';

interface KeptFile {
  readonly content: Buffer;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

function readKept(path: string): KeptFile | null {
  try {
    const st = statSync(path);
    return { content: readFileSync(path), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch {
    return null;
  }
}

const names = (ctx: HandlerContext): string[] => [
  ...new Set(
    ctx.env
      .get(OmgmtPackagesEnv.packages)
      .map((p) => p.trim())
      .filter((p) => p !== ''),
  ),
];

const describe = (u: UpdateInfo): string => `${u.name} ${u.installed} → ${u.available}`;

export default definePlugin({
  env: [OmgmtPackagesEnv],
  setup(plugin) {
    let updates: UpdateInfo[] = [];
    let before: ReadonlyMap<string, string> = new Map();
    let conf: KeptFile | null = null;
    const mode = (ctx: Pick<HandlerContext, 'env'>): UpdateMode => ctx.env.get(OmgmtPackagesEnv.packagesUpdateMode);

    plugin.on({
      name: 'check',
      stage: 'validation',
      condition: (ctx) => mode(ctx) !== 'disabled',
      run: async (ctx) => {
        const { log, providers, env } = ctx;
        const packager = providers.get(PACKAGER);
        const wanted = names(ctx);
        if (wanted.length === 0) {
          log.warn('OMGMT_PACKAGES/packages names no package: nothing to check');
          env.set(OmgmtPackagesEnv.packagesInfo, []);
          return;
        }
        const installed = await packager.queryInstalled(wanted);
        const missing = wanted.filter((n) => !installed.some((p) => p.name === n));
        if (missing.length > 0) log.info(`Not installed, left alone: ${missing.join(', ')}`);
        if (packager.name === 'offline') log.info('The offline packager consults no repository: no update is listed');
        updates = installed.length === 0 ? [] : await packager.checkForUpdates(installed.map((p) => p.name));
        before = new Map(installed.map((p) => [p.name, p.version]));
        env.set(
          OmgmtPackagesEnv.packagesInfo,
          updates.map((u) => `${u.name}-${u.available}`),
        );
        if (updates.length === 0) log.info(`No updates for ${installed.map((p) => p.name).join(', ') || 'them'}`);
        else log.info(`Updates available: ${updates.map(describe).join(', ')}`);
        if (mode(ctx) === 'checkUpdate') log.info('Check only (checkUpdate): nothing is changed');
      },
    });
    plugin.on({
      name: 'upgrade',
      stage: 'packages',
      condition: (ctx) => mode(ctx) === 'update' && updates.length > 0,
      run: ({ providers, log }) => {
        conf = readKept(VDSM_CONF);
        log.info(`Upgrading ${updates.map((u) => u.name).join(', ')}`);
        providers.get(PACKAGER).update(updates.map((u) => u.name));
      },
    });
    plugin.on({
      name: 'upgraded',
      stage: 'misc',
      condition: (ctx) => mode(ctx) === 'update' && updates.length > 0 && !ctx.dryRun,
      run: async ({ providers, log, transaction }) => {
        const packager = providers.get(PACKAGER);
        const now = new Map((await packager.queryInstalled([...before.keys()])).map((p) => [p.name, p.version]));
        const upgraded = updates.filter((u) => now.get(u.name) !== before.get(u.name));
        const short = updates.filter(
          (u) => now.get(u.name) === undefined || packager.compare(now.get(u.name)!, u.available) < 0,
        );
        if (short.length > 0)
          throw new OtopiError(
            'HANDLER_FAILED',
            `The upgrade did not reach ${short.map((u) => `${u.name} ${u.available} (now ${now.get(u.name) ?? 'not installed'})`).join(', ')}`,
          );
        for (const u of upgraded) log.info(`Upgraded ${u.name} ${before.get(u.name)} → ${now.get(u.name)}`);
        vdsmChanges(providers).add({ what: 'packages', changed: () => upgraded.length > 0 });
        const kept = conf;
        const after = readKept(VDSM_CONF);
        if (kept !== null && (after === null || !after.content.equals(kept.content))) {
          log.warn(`The upgrade replaced ${VDSM_CONF}: the file as it was is put back`);
          await transaction.append(
            new FileTransaction({
              path: VDSM_CONF,
              content: kept.content,
              mode: kept.mode,
              owner: kept.uid,
              group: kept.gid,
              enforcePermissions: true,
              log,
            }),
          );
        }
      },
    });
  },
});
