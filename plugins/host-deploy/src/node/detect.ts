/**
 * oVirt Node detection (reference §2.5), at init after the config files: the image-based
 * oVirt Node (os-release VARIANT_ID=ovirt-node), the vintage oVirt Node / RHEV-H (a read-only
 * root whose changes must be persisted), the container node, and bridges the node already has.
 * A vintage node installs no packages: ODEPLOY/offlinePackager defaults to True there.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { definePlugin } from '@otopi/core';
import { OdeployEnv, VdsmEnv } from '../_lib/keys.js';

const read = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};
const list = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

export interface NodeFacts {
  readonly node: boolean;
  readonly legacy: boolean;
  readonly container: boolean;
  readonly ownBridges: boolean;
  readonly features: string | null;
}

export function detectNode(
  readFile: (path: string) => string | null,
  listDir: (dir: string) => string[],
  exists: (path: string) => boolean,
): NodeFacts {
  const osRelease = readFile('/etc/os-release') ?? '';
  const legacy =
    exists('/etc/rhev-hypervisor-release') || listDir('/etc').some((n) => /^ovirt-node-.*-release$/.test(n));
  const ownBridges = listDir('/sys/class/net').some(
    (n) => n.startsWith('br') && exists(`/sys/class/net/${n}/bridge/bridge_id`),
  );
  const features =
    /^FEATURES=["']?([^"'\n]*)/m.exec(readFile('/etc/default/version.ovirt-node-plugin-vdsm') ?? '')?.[1] ?? null;
  return {
    node: /^VARIANT_ID=["']?ovirt-node["']?\s*$/m.test(osRelease),
    legacy,
    container: exists('/etc/ovirt-container-node-release'),
    ownBridges,
    features,
  };
}

export default definePlugin({
  env: [VdsmEnv],
  setup(plugin) {
    plugin.on({
      name: 'detect',
      stage: 'init',
      after: 'otopi.core.config.init',
      run: ({ env, log }) => {
        const facts = detectNode(read, list, existsSync);
        env.set(VdsmEnv['ovirt-node'], facts.node);
        env.set(VdsmEnv['ovirt-legacy-node'], facts.legacy);
        env.set(VdsmEnv['ovirt-container-node'], facts.container);
        env.set(VdsmEnv.nodeHasOwnBridges, facts.ownBridges);
        env.set(VdsmEnv.nodePluginVdsmFeatures, facts.features);
        if (facts.legacy && env.sourceOf(OdeployEnv.offlinePackager.key)?.kind === 'default')
          env.set(OdeployEnv.offlinePackager, true);
        if (facts.node || facts.legacy || facts.container)
          log.info(
            `oVirt Node: ${facts.legacy ? 'vintage (read-only root)' : facts.container ? 'container node' : 'image-based'}`,
          );
      },
    });
  },
});
