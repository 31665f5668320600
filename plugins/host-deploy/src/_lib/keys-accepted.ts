/**
 * Keys an engine may send for features this group does not implement (OpenStack Neutron,
 * hosted engine, Gluster, the serial console, realtime kernels, ovirt-host-mgmt). They are
 * declared so that an engine's `env-query`/`env-get` never meets an unknown key, while a
 * misspelt key still fails. They have no effect; `UNSUPPORTED` lists the values that ask
 * for something, which the run answers with a warning.
 */
import { defineEnv, defineEnvFamily, key, keySchema, type Environment } from '@otopi/core';
import { VdsmEnv } from './keys.js';

const { oneOf } = keySchema;

const ACCEPTED = 'Accepted for compatibility with ovirt-host-deploy; not implemented, no effect.';
const doc = (what: string): string => `${what} ${ACCEPTED}`;

export const GlusterEnv = defineEnv('GLUSTER', {
  enable: key.bool({ default: false, description: doc('Gluster service support (vdsm-gluster).') }),
  monitoringEnable: key.bool({ default: false, description: doc('Gluster monitoring through nrpe.') }),
  monitoringServer: key.optionalStr({ default: null, description: doc('Nagios server allowed in nrpe.cfg.') }),
});

export const OpenstackEnv = defineEnv('OPENSTACK', {
  neutronEnable: key.bool({ default: false, description: doc('OpenStack Neutron agent.') }),
  neutronLinuxBridgeEnable: key.bool({ default: false, description: doc('Neutron Linux bridge agent.') }),
  neutronOpenvswitchEnable: key.bool({ default: false, description: doc('Neutron Open vSwitch agent.') }),
  neutronOpenvswitchIntegrationBridge: key.str({
    default: 'br-int',
    description: doc('Open vSwitch integration bridge.'),
  }),
});

export const OPENSTACK_FAMILIES = [
  defineEnvFamily(
    'OPENSTACK_NEUTRON_CONFIG',
    key.optionalStr({ default: null, description: doc('neutron.conf <section>/<key>.') }),
  ),
  defineEnvFamily(
    'OPENSTACK_NEUTRON_LINUXBRIDGE_CONFIG',
    key.optionalStr({ default: null, description: doc('linuxbridge_conf.ini <section>/<key>.') }),
  ),
  defineEnvFamily(
    'OPENSTACK_NEUTRON_OPENVSWITCH_CONFIG',
    key.optionalStr({ default: null, description: doc('Open vSwitch agent ini <section>/<key>.') }),
  ),
] as const;

export const HostedEngineEnv = defineEnv('HOSTED_ENGINE', {
  action: key.str({
    default: 'none',
    schema: oneOf(['none', 'deploy', 'remove']),
    description: doc("Hosted-engine HA agent: 'deploy', 'remove' or 'none'."),
  }),
});

export const HostedEngineConfigFamily = defineEnvFamily(
  'HOSTED_ENGINE_CONFIG',
  key.optionalStr({ default: null, description: doc('A line of hosted-engine.conf.') }),
);

export const VmconsoleEnv = defineEnv('VMCONSOLE', {
  enable: key.bool({ default: false, description: doc('Serial console over SSH (ovirt-vmconsole-host).') }),
  support: key.int({
    default: 0,
    description: 'Whether the serial console can be set up: always 0 here, so an engine skips its steps.',
  }),
  certificateEnrollment: key.str({
    default: 'none',
    schema: oneOf(['none', 'inline', 'request', 'accept']),
    description: doc('Serial console certificate enrollment.'),
  }),
  certificate: key.optionalStr({ default: null, description: doc('Serial console OpenSSH host certificate.') }),
  caKey: key.optionalStr({ default: null, description: doc('Engine CA public key, OpenSSH format.') }),
  keySize: key.int({ default: 2048, description: doc('Serial console host key size.') }),
});

export const OvirtHostEnv = defineEnv('OVIRT_HOST', {
  minimumVersion: key.optionalStr({
    default: null,
    description: 'Lowest ovirt-host version accepted, when the ovirt-host meta package is what gets installed.',
  }),
});

export const KernelCompatEnv = defineEnv('KERNEL', {
  enableRealtime: key.bool({ default: false, description: doc('Realtime kernel (kernel-rt).') }),
});

/** ovirt-host-mgmt's keys, which the host-mgmt group implements (docs/host-mgmt.md). */
const mgmt = (what: string): string =>
  `${what} Implemented by the host-mgmt group (ovirt-host-mgmt); no effect in host-deploy.`;

export const MgmtCoreEnv = defineEnv('OMGMT_CORE', {
  offlinePackager: key.bool({ default: false, description: mgmt('ovirt-host-mgmt offline packager.') }),
});

export const MgmtPackagesEnv = defineEnv('OMGMT_PACKAGES', {
  packagesUpdateMode: key.str({
    default: 'disabled',
    schema: oneOf(['disabled', 'checkUpdate', 'update']),
    description: mgmt('ovirt-host-mgmt package update mode.'),
  }),
  packages: key.multiStr({ default: [], description: mgmt('ovirt-host-mgmt package names.') }),
  packagesInfo: key.multiStr({ default: [], description: mgmt('ovirt-host-mgmt update list (output).') }),
});

/** Everything declared here, for the plugin that owns them. */
export const ACCEPTED_ENV = [
  GlusterEnv,
  OpenstackEnv,
  ...OPENSTACK_FAMILIES,
  HostedEngineEnv,
  HostedEngineConfigFamily,
  VmconsoleEnv,
  KernelCompatEnv,
  MgmtCoreEnv,
  MgmtPackagesEnv,
] as const;

/**
 * What was asked for that this group will not do, one line each. Families count when any
 * of their keys holds a value.
 */
export function unsupportedRequests(env: Environment): string[] {
  const out: string[] = [];
  const flag = (on: boolean, text: string): void => {
    if (on) out.push(text);
  };
  flag(env.get(GlusterEnv.enable), 'GLUSTER/enable: Gluster support');
  flag(env.get(GlusterEnv.monitoringEnable), 'GLUSTER/monitoringEnable: Gluster monitoring');
  flag(env.get(OpenstackEnv.neutronEnable), 'OPENSTACK/neutronEnable: OpenStack Neutron');
  flag(
    env.get(OpenstackEnv.neutronLinuxBridgeEnable),
    'OPENSTACK/neutronLinuxBridgeEnable: the Neutron Linux bridge agent',
  );
  flag(
    env.get(OpenstackEnv.neutronOpenvswitchEnable),
    'OPENSTACK/neutronOpenvswitchEnable: the Neutron Open vSwitch agent',
  );
  flag(
    env.get(HostedEngineEnv.action) !== 'none',
    `HOSTED_ENGINE/action=${env.get(HostedEngineEnv.action)}: hosted engine`,
  );
  flag(env.get(VmconsoleEnv.enable), 'VMCONSOLE/enable: the serial console');
  flag(
    env.get(VmconsoleEnv.certificateEnrollment) !== 'none',
    'VMCONSOLE/certificateEnrollment: serial console certificates',
  );
  flag(env.get(KernelCompatEnv.enableRealtime), 'KERNEL/enableRealtime: the realtime kernel');
  flag(env.get(VdsmEnv.disableNetworkManager), 'VDSM/disableNetworkManager: disabling NetworkManager');
  flag(
    env.get(MgmtCoreEnv.offlinePackager),
    'OMGMT_CORE/offlinePackager: ovirt-host-mgmt (use ODEPLOY/offlinePackager here, or run ovirt-host-mgmt)',
  );
  flag(
    env.get(MgmtPackagesEnv.packagesUpdateMode) !== 'disabled',
    'OMGMT_PACKAGES/packagesUpdateMode: ovirt-host-mgmt updates (run ovirt-host-mgmt, the host-mgmt group)',
  );
  const families = [...OPENSTACK_FAMILIES, HostedEngineConfigFamily];
  for (const name of env.keys()) {
    const family = families.find((f) => name.startsWith(`${f.prefix}/`));
    if (family !== undefined && env.getRaw(name) !== null) out.push(`${name}: ${family.prefix} settings`);
  }
  return out;
}
