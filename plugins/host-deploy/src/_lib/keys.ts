/**
 * Environment keys of the host-deploy group that change what a run does. Names are
 * byte-identical to ovirt-host-deploy's, so an engine written for it can drive this group.
 * Keys an engine may send for features this group does not implement are in
 * `keys-accepted.ts`.
 */
import { defineEnv, defineEnvFamily, key, keySchema } from '@otopi/core';

const { between, oneOf } = keySchema;

export const ENROLLMENT_MODES = ['none', 'inline', 'request', 'accept'] as const;
export type EnrollmentMode = (typeof ENROLLMENT_MODES)[number];

const range = between;

export const OdeployEnv = defineEnv('ODEPLOY', {
  INTERFACE_VERSION: key.str({
    default: '3',
    description: "The host-deploy interface version an engine checks ('3', as ovirt-host-deploy's interface-3).",
  }),
  installIncomplete: key.bool({
    default: false,
    description:
      'Set by the run when the host needs a manual step before it can be used (e.g. certificate enrollment in request mode); the engine reads it at termination.',
  }),
  installIncompleteReasons: key.multiStr({
    default: [],
    description:
      'Why the installation is incomplete, one line per reason (read by the engine when installIncomplete is True).',
  }),
  forceReboot: key.bool({
    default: false,
    description: 'Reboot the host after a successful, complete run (sets SYSTEM/reboot at closeup).',
  }),
  offlinePackager: key.bool({
    default: false,
    defaultDoc: 'True on a vintage oVirt Node, else False',
    description:
      "Install no packages: the base group's offline packager is selected (PACKAGER/packager=str:offline) and needed packages must already be installed.",
  }),
  forceFailStage: key.optionalStr({
    default: null,
    description:
      "Test hook: fail the run on purpose, at the end of the named stage (e.g. 'misc'), or with 'transaction-commit' inside the main commit after every other change was applied, to show the rollback.",
  }),
});

export const OvirtEngineEnv = defineEnv('OVIRT_ENGINE', {
  correlationId: key.optionalStr({
    default: null,
    description:
      "The engine's correlation id of this deploy; once set it is added to every log line (correlationId=...).",
  }),
});

export const VdsmEnv = defineEnv('VDSM', {
  vdsmId: key.optionalStr({
    default: null,
    description:
      'The host unique id: /etc/vdsm/vdsm.id, else the SMBIOS/device-tree system UUID, else a random UUID; computed at customization (before the engine reads it) and stored in /etc/vdsm/vdsm.id.',
  }),
  vdsmMinimumVersion: key.optionalStr({
    default: null,
    description:
      "Lowest vdsm version accepted (compared by the distribution's version rules); the run fails when the repositories offer less.",
  }),
  checkVirtHardware: key.bool({
    default: true,
    description: 'Require hardware virtualization (vmx/svm CPU flag and /dev/kvm) at validation.',
  }),
  configOverride: key.bool({
    default: true,
    description:
      'Write /etc/vdsm/vdsm.conf from the VDSM_CONFIG/<section>/<key> keys (the whole file is replaced, with a backup).',
  }),
  certificateEnrollment: key.str({
    default: 'none',
    schema: oneOf(ENROLLMENT_MODES),
    description:
      "VDSM certificate enrollment: 'none'; 'inline' (show the request, ask VDSM_CERTIFICATE_CHAIN); 'request' (show the request, keep the key pending, mark the install incomplete); 'accept' (use the pending key and ask the chain).",
  }),
  certificateChain: key.optionalMultiStr({
    default: null,
    description: 'The certificate chain, PEM, CA first then the host certificate; when set the chain is not asked for.',
  }),
  certificateRenew: key.bool({
    default: false,
    description:
      'Make a new host key and install the new certificate even when the installed key and certificate are still good (by default a redeploy keeps them).',
  }),
  engineCaFingerprint: key.optionalStr({
    default: null,
    description:
      "SHA-256 fingerprint (colon-separated hex) of the engine's CA. With VDSM/certificateNames, a redeploy keeps an installed certificate that this CA issued for the installed key and these names, valid for more than 30 days, without a new request.",
  }),
  certificateNames: key.optionalStr({
    default: null,
    description:
      'The names the engine puts in the host certificate, comma-separated: the common name first, then the other subjectAltName entries (see VDSM/engineCaFingerprint).',
  }),
  keySize: key.int({ default: 2048, schema: range(2048, 8192), description: 'RSA key size of the host key.' }),
  engineHost: key.optionalStr({
    default: null,
    description: 'Engine host name; resolved at validation to find the management interface.',
  }),
  engineAddress: key.optionalStr({
    default: null,
    description:
      'Engine address; set at validation to the first address of VDSM/engineHost that answers, unless given.',
  }),
  enginePort: key.int({
    default: 80,
    schema: range(1, 65535),
    description: 'Engine TCP port used to check that the engine is reachable.',
  }),
  managementBridgeName: key.optionalStr({
    default: 'ovirtmgmt',
    description:
      'Bridge created on the interface that routes to the engine (addresses and routes move onto it); None or empty: no bridge.',
  }),
  connectionTimeout: key.int({
    default: 10,
    schema: range(1, 600),
    description: 'Seconds one connection attempt to the engine may take.',
  }),
  connectionRetries: key.int({
    default: 60,
    schema: range(1, 10_000),
    description: 'Connection attempts to the engine after the bridge is made (1 s apart) before it is rolled back.',
  }),
  disableNetworkManager: key.bool({
    default: false,
    description: 'Accepted for compatibility; NetworkManager is never disabled (a warning when True).',
  }),
  'ovirt-node': key.bool({
    default: false,
    description: 'Set at init: the host is an oVirt Node (os-release VARIANT_ID=ovirt-node).',
  }),
  'ovirt-legacy-node': key.bool({
    default: false,
    description:
      'Set at init: the host is a vintage oVirt Node / RHEV-H (read-only root; changed files are persisted).',
  }),
  'ovirt-container-node': key.bool({
    default: false,
    description: 'Set at init: /etc/ovirt-container-node-release exists.',
  }),
  nodeHasOwnBridges: key.bool({ default: false, description: 'Set at init: a br* bridge exists on the host.' }),
  nodePluginVdsmFeatures: key.optionalStr({
    default: null,
    description: 'Set at init on a vintage node: FEATURES of /etc/default/version.ovirt-node-plugin-vdsm.',
  }),
});

/** `VDSM_CONFIG/<section>/<key>`: one line of vdsm.conf. */
export const VdsmConfigFamily = defineEnvFamily(
  'VDSM_CONFIG',
  key.optionalStr({ default: null, description: 'Value of <key> in section [<section>] of /etc/vdsm/vdsm.conf.' }),
);

export const VirtEnv = defineEnv('VIRT', {
  enable: key.bool({
    default: true,
    description:
      "Virtualization cluster: the default tuned profile is 'virtual-host' and the default firewall opens the VM ports.",
  }),
});

export const TuneEnv = defineEnv('TUNE', {
  tunedProfile: key.optionalStr({
    default: null,
    defaultDoc: "'virtual-host' when VIRT/enable",
    description: 'tuned profile to activate (tuned-adm profile); without tuned-adm a warning says what would change.',
  }),
});

export const KdumpEnv = defineEnv('KDUMP', {
  enable: key.bool({ default: false, description: 'Configure fence_kdump in /etc/kdump.conf and restart kdump.' }),
  supported: key.bool({
    default: false,
    description:
      'Set at customization: crashkernel= on the kernel command line, /etc/kdump.conf and a new enough kexec-tools.',
  }),
  destinationAddress: key.optionalStr({
    default: null,
    description: 'Where fence_kdump messages go (the engine); resolved at validation.',
  }),
  destinationPort: key.int({ default: 7410, schema: range(1, 65535), description: 'fence_kdump port.' }),
  messageInterval: key.int({
    default: 5,
    schema: range(1, 3600),
    description: 'Seconds between fence_kdump messages.',
  }),
});

export const KernelEnv = defineEnv('KERNEL', {
  cmdlineNew: key.optionalStr({
    default: null,
    description: 'Kernel arguments to add to the default boot entry (grubby).',
  }),
  cmdlineOld: key.optionalStr({
    default: null,
    description: 'Kernel arguments a previous deploy added, removed first.',
  }),
});

export const NetworkCompatEnv = defineEnv('NETWORK', {
  iptablesEnable: key.bool({
    default: false,
    description:
      "Configure the host firewall for oVirt: NETWORK/iptablesRules when given (@VDSM_PORT@, @SSH_PORT@, @CUSTOM_RULES@ are filled in), else the oVirt default rules, through the base group's firewall.",
  }),
});
