// The whole group loaded with the base group into a runtime: the plan is valid, every key an
// engine may send (reference §2.16) is declared, a misspelt key still fails, and the features
// this group does not implement are accepted with a warning.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BaseEnv, Runtime, isOtopiError, isPlugin, type Plugin } from '@otopi/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { unsupportedRequests } from '../src/_lib/keys-accepted.js';

async function loadGroup(group: string, dir: string): Promise<{ plugin: Plugin; name: string }[]> {
  const out: { plugin: Plugin; name: string }[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of readdirSync(folder).sort()) {
      const path = join(folder, entry);
      if (entry.startsWith('_') || entry.endsWith('.d')) continue;
      if (statSync(path).isDirectory()) await walk(path);
      else if (entry.endsWith('.ts')) {
        const module = (await import(pathToFileURL(path).href)) as { default?: unknown };
        if (isPlugin(module.default))
          out.push({
            plugin: module.default,
            name: `${group}.${path
              .slice(dir.length + 1, -3)
              .split('/')
              .join('.')}`,
          });
      }
    }
  };
  await walk(dir);
  return out;
}

const ENGINE_KEYS = `ODEPLOY/INTERFACE_VERSION ODEPLOY/installIncomplete ODEPLOY/installIncompleteReasons
ODEPLOY/forceReboot ODEPLOY/offlinePackager OVIRT_HOST/minimumVersion KERNEL/cmdlineNew KERNEL/cmdlineOld
KERNEL/enableRealtime KDUMP/enable KDUMP/supported KDUMP/destinationAddress KDUMP/destinationPort
KDUMP/messageInterval VDSM/keySize VDSM/certificateEnrollment VDSM/certificateChain VDSM/vdsmId
VDSM/vdsmMinimumVersion VDSM/engineAddress VDSM/engineHost VDSM/enginePort VDSM/managementBridgeName
VDSM/checkVirtHardware VDSM/configOverride VDSM/connectionRetries VDSM/connectionTimeout
VDSM/disableNetworkManager VDSM_CONFIG/vars/ssl HOSTED_ENGINE/action HOSTED_ENGINE_CONFIG/x TUNE/tunedProfile
VDSM/nodeHasOwnBridges VDSM/nodePluginVdsmFeatures VDSM/ovirt-legacy-node VDSM/ovirt-node VDSM/ovirt-container-node
VIRT/enable GLUSTER/enable GLUSTER/monitoringEnable GLUSTER/monitoringServer OPENSTACK/neutronEnable
OPENSTACK_NEUTRON_CONFIG/DEFAULT/host OPENSTACK/neutronLinuxBridgeEnable OPENSTACK_NEUTRON_LINUXBRIDGE_CONFIG/a/b
OPENSTACK/neutronOpenvswitchEnable OPENSTACK/neutronOpenvswitchIntegrationBridge OPENSTACK_NEUTRON_OPENVSWITCH_CONFIG/a/b
VMCONSOLE/caKey VMCONSOLE/keySize VMCONSOLE/certificate VMCONSOLE/certificateEnrollment VMCONSOLE/enable VMCONSOLE/support
OMGMT_CORE/offlinePackager OMGMT_PACKAGES/packagesUpdateMode OMGMT_PACKAGES/packages OMGMT_PACKAGES/packagesInfo
OVIRT_ENGINE/correlationId NETWORK/iptablesEnable NETWORK/iptablesRules NETWORK/sshEnable NETWORK/sshKey NETWORK/sshUser
SYSTEM/clockSet SYSTEM/reboot`.split(/\s+/);

let runtime: Runtime;
beforeAll(async () => {
  runtime = new Runtime();
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const { plugin, name } of [
    ...(await loadGroup('otopi', join(here, '../../otopi/src'))),
    ...(await loadGroup('host-deploy', join(here, '../src'))),
  ])
    runtime.register(plugin, name);
}, 60_000);

describe('the host-deploy group', () => {
  it('plans with the base group: the proceed question once the config files are read, ids and kdump before the prompt', () => {
    const names = runtime.plan.handlers.map((h) => h.name);
    const index = (n: string): number => {
      const i = names.indexOf(n);
      expect(i, n).toBeGreaterThanOrEqual(0);
      return i;
    };
    expect(runtime.plan.missing).toEqual([]);
    expect(index('host-deploy.core.misc.boot')).toBeLessThan(index('otopi.core.log.init'));
    // An answer file (--config-append) answers it, so it comes after the config files.
    expect(index('host-deploy.core.misc.proceed')).toBeGreaterThan(index('otopi.core.config.init'));
    expect(index('host-deploy.core.misc.proceed')).toBeLessThan(index('host-deploy.node.detect.detect'));
    expect(index('host-deploy.vdsm.vdsmid.detect')).toBeLessThan(index('otopi.dialog.cli.customization'));
    expect(index('host-deploy.kdump.kdump.detect')).toBeLessThan(index('otopi.dialog.cli.customization'));
    expect(index('host-deploy.core.offline.select')).toBeLessThan(index('otopi.packagers.packager.detection'));
    expect(index('host-deploy.network.firewall.rules')).toBeLessThan(index('otopi.network.firewall.validation'));
  });

  it('declares every key an engine may send, and refuses a misspelt one in strict runs', () => {
    const missing = ENGINE_KEYS.filter((k) => runtime.env.registry.lookup(k) === undefined);
    expect(missing).toEqual([]);
    runtime.env.set(BaseEnv.strictKeys, true);
    try {
      runtime.env.setExternal('VDSM/vdsmMinimumVerison', '4.9', { kind: 'dialog', question: 'env-query' });
      expect.unreachable();
    } catch (error) {
      expect(isOtopiError(error, 'ENV_UNKNOWN_KEY')).toBe(true);
      expect((error as Error).message).toContain('did you mean VDSM/vdsmMinimumVersion?');
    } finally {
      runtime.env.set(BaseEnv.strictKeys, false);
    }
    expect(() => runtime.env.setExternal('VDSM/certificateEnrollment', 'sometimes', { kind: 'code' })).toThrow();
  });

  it('warns about features it accepts but does not implement', () => {
    expect(unsupportedRequests(runtime.env)).toEqual([]);
    runtime.env.setExternal('GLUSTER/enable', true, { kind: 'code' });
    runtime.env.setExternal('HOSTED_ENGINE/action', 'deploy', { kind: 'code' });
    runtime.env.setExternal('VDSM/disableNetworkManager', true, { kind: 'code' });
    runtime.env.setExternal('OPENSTACK_NEUTRON_CONFIG/DEFAULT/host', 'h1', { kind: 'code' });
    expect(unsupportedRequests(runtime.env)).toEqual([
      'GLUSTER/enable: Gluster support',
      'HOSTED_ENGINE/action=deploy: hosted engine',
      'VDSM/disableNetworkManager: disabling NetworkManager',
      'OPENSTACK_NEUTRON_CONFIG/DEFAULT/host: OPENSTACK_NEUTRON_CONFIG settings',
    ]);
  });
});
