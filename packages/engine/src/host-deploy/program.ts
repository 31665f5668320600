/**
 * The engine's dialog program for the host-deploy group, in the order oVirt's engine 4.x used
 * (reference §6.5): the host's log file and the correlation id, then the misc, vdsm, PKI,
 * kdump, kernel and firewall steps, then `install`. It checks the host's unique id through a
 * callback, signs the host's certificate request with the engine CA and answers the chain,
 * and at termination reads whether the install is incomplete or needs a reboot.
 * `hostDeployResult` turns the dialog's outcome into the deploy's result. Every key and dialog
 * name is a token of the group that declares it (host-deploy's contract, the base group's keys),
 * so a misspelt one does not compile.
 */
import { X509Certificate } from 'node:crypto';
import { CoreEnv, dialogName } from '@otopi/core';
import {
  CERTIFICATE_CHAIN,
  CERTIFICATE_REQUEST,
  DEPLOY_PROCEED,
  GlusterEnv,
  KdumpEnv,
  KernelEnv,
  NetworkCompatEnv,
  OdeployEnv,
  OvirtEngineEnv,
  TuneEnv,
  VdsmConfigFamily,
  VdsmEnv,
  VirtEnv,
} from '../../../../plugins/host-deploy/src/_lib/contract.js';
import { NetworkEnv, SystemEnv } from '../../../../plugins/otopi/src/_lib/keys.js';
import {
  steps,
  type Answer,
  type DialogProgram,
  type Displayed,
  type Step,
  type StepContext,
} from '../dialog/driver.js';
import { asks, keySteps, shown } from '../dialog/tokens.js';
import { signedChain } from '../pki/sign-chain.js';
import type { HostDeployConfig } from './config.js';

export { CERTIFICATE_CHAIN, CERTIFICATE_REQUEST, DEPLOY_PROCEED };
/** Questions of Python otopi's own plugins (the clock, the packager), which an engine answers too. */
export const OTOPI_TIME = dialogName.queryValue('TIME');
export const OTOPI_GPG_KEY = dialogName.confirm('GPG_KEY');
export const DEFAULT_SSL_EXCLUDES = 'OP_NO_TLSv1,OP_NO_TLSv1_1';
export const DEFAULT_MINIMUM_VDSM = '4.9';

const { set, setIf } = keySteps;

const text = (d: Displayed | undefined): string | null =>
  d === undefined || typeof d.value !== 'string' || d.type === 'none' ? null : d.value;
const flag = (d: Displayed | undefined): boolean => /^(true|1|yes)$/i.test(text(d) ?? '');

/** The CA certificate's SHA-256 fingerprint, colon-separated hex (as Node's X509Certificate prints it). */
export function caFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** The names the engine signs a host certificate for: its common name, then the other subjectAltName entries. */
export function certificateNames(config: Pick<HostDeployConfig, 'host'>): string[] {
  return [config.host.name, ...(config.host.address === undefined ? [] : [config.host.address])];
}

/** `yyyyMMddHHmmss+0000`, the form otopi's clock plugin asks for. */
export function engineTime(now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}+0000`;
}

function customization(config: HostDeployConfig, state: { id: string | null }): Step[] {
  const c = config.cluster ?? {};
  const virt = c.virt ?? true;
  const vdsmConfig = Object.entries(c.vdsmConfig ?? {}).map(([k, v]) => set(VdsmConfigFamily(k), v));
  const kdump = config.kdump;
  const rules =
    config.firewall === undefined || config.firewall === 'default' ? undefined : [...config.firewall.iptablesRules];
  return [
    ...(config.prolog === false
      ? []
      : [
          keySteps.get(CoreEnv.logFileName, (v) =>
            config.onLog?.('INFO', `Logs at host located at: '${text(v) ?? ''}'`),
          ),
          setIf(OvirtEngineEnv.correlationId, config.correlationId),
        ]),
    // Misc
    set(SystemEnv.clockSet, config.clockSet ?? true),
    setIf(NetworkEnv.sshEnable, config.engine.sshPublicKey === undefined ? undefined : true),
    setIf(NetworkEnv.sshUser, config.engine.sshPublicKey === undefined ? undefined : (config.host.sshUser ?? 'root')),
    setIf(NetworkEnv.sshKey, config.engine.sshPublicKey),
    setIf(TuneEnv.tunedProfile, c.tunedProfile),
    set(GlusterEnv.enable, c.gluster ?? false),
    setIf(OdeployEnv.forceReboot, config.reboot === true ? true : undefined),
    // Vdsm
    keySteps.get(VdsmEnv['ovirt-node'], (v) => {
      if (flag(v)) config.onLog?.('INFO', 'Host is an oVirt Node');
    }),
    keySteps.get(VdsmEnv['ovirt-legacy-node'], (v) => {
      if (flag(v)) config.onLog?.('INFO', 'Host is a vintage oVirt Node (read-only root)');
    }),
    keySteps.get(VdsmEnv.vdsmId, (v, ctx) => {
      state.id = text(v);
      if (state.id === null || state.id === '') ctx.fail('Cannot acquire node id');
    }),
    set(VdsmConfigFamily('vars/ssl'), String(c.encryptHostCommunication ?? true)),
    setIf(VdsmConfigFamily('vars/ssl_excludes'), c.sslExcludes === undefined ? DEFAULT_SSL_EXCLUDES : c.sslExcludes),
    setIf(
      VdsmConfigFamily('vars/net_nmstate_enabled'),
      c.nmstate === undefined || c.nmstate === null ? null : String(c.nmstate),
    ),
    setIf(VdsmConfigFamily('vars/ssl_ciphers'), c.sslCiphers),
    set(VdsmConfigFamily('addresses/management_port'), String(c.vdsmPort ?? 54321)),
    ...vdsmConfig,
    set(VdsmEnv.engineHost, config.engine.fqdn),
    setIf(VdsmEnv.engineAddress, config.engine.address),
    set(VdsmEnv.enginePort, config.engine.port ?? 80),
    set(VdsmEnv.managementBridgeName, c.managementBridge === undefined ? 'ovirtmgmt' : c.managementBridge),
    setIf(VdsmEnv.connectionTimeout, config.connection?.timeoutS),
    setIf(VdsmEnv.connectionRetries, config.connection?.retries),
    setIf(VdsmEnv.vdsmMinimumVersion, c.vdsmMinimumVersion === undefined ? DEFAULT_MINIMUM_VDSM : c.vdsmMinimumVersion),
    set(VdsmEnv.checkVirtHardware, c.checkVirtHardware ?? virt),
    set(VirtEnv.enable, virt),
    // PKI. What this engine would issue, so a redeploy keeps a certificate that already is
    // that without a request (the host-deploy group of otopi-ts; reference §3.1 has no such keys).
    setIf(VdsmEnv.certificateEnrollment, config.pki === undefined ? undefined : 'inline'),
    setIf(VdsmEnv.engineCaFingerprint, config.pki === undefined ? undefined : caFingerprint(config.pki.ca.pem)),
    setIf(VdsmEnv.certificateNames, config.pki === undefined ? undefined : certificateNames(config).join(',')),
    // Kdump: enabled only when the host says it can.
    ...(kdump === undefined
      ? []
      : [
          keySteps.get(KdumpEnv.supported),
          steps.dynamic((ctx) => {
            const supported = flag(shown(ctx, KdumpEnv.supported));
            if (!supported) config.onLog?.('WARNING', 'Disabling Kdump integration: the host does not support it');
            return set(KdumpEnv.enable, supported);
          }),
          // The first decision waited for the host's answer; these read the same answer, so they
          // go in the same burst (eager) instead of a round trip each.
          steps.eager((ctx) =>
            flag(shown(ctx, KdumpEnv.supported))
              ? set(KdumpEnv.destinationAddress, kdump.destinationAddress ?? config.engine.fqdn)
              : undefined,
          ),
          steps.eager((ctx) =>
            flag(shown(ctx, KdumpEnv.supported)) ? set(KdumpEnv.destinationPort, kdump.port ?? 7410) : undefined,
          ),
          steps.eager((ctx) =>
            flag(shown(ctx, KdumpEnv.supported)) ? set(KdumpEnv.messageInterval, kdump.interval ?? 5) : undefined,
          ),
        ]),
    // Kernel
    setIf(KernelEnv.cmdlineNew, config.kernel?.cmdlineNew),
    setIf(KernelEnv.cmdlineOld, config.kernel?.cmdlineOld),
    // Firewall: as the engine did, not on a vintage node, whose firewall is the image's own (a
    // ruleset and an enabled unit written there would not survive its next boot).
    ...(config.firewall === undefined
      ? []
      : [
          // Whether the host is a vintage node was asked before kdump's decision, whose barrier
          // has its answer in: with kdump, no wait of its own. Without, the first decision waits
          // and the second reads the same answer.
          (kdump === undefined ? steps.dynamic : steps.eager)((ctx) => {
            if (!flag(shown(ctx, VdsmEnv['ovirt-legacy-node']))) return set(NetworkCompatEnv.iptablesEnable, true);
            config.onLog?.('WARNING', 'The host firewall is not configured on a vintage oVirt Node');
            return undefined;
          }),
          ...(rules === undefined
            ? []
            : [
                steps.eager((ctx) =>
                  flag(shown(ctx, VdsmEnv['ovirt-legacy-node'])) ? undefined : set(NetworkEnv.iptablesRules, rules),
                ),
              ]),
        ]),
    // The user's own settings: keys of any group, named as given.
    ...(config.settings ?? []).map((s) => steps.set(s.key, s.value)),
  ];
}

/**
 * The statements a host-deploy run starts with (`deployBundle`'s `statements`): the group, and
 * what the host needs before the dialog begins: the offline packager (chosen at setup) and the
 * correlation id (so even the first log lines carry it).
 */
export function hostDeployStatements(config: Pick<HostDeployConfig, 'offlinePackager' | 'correlationId'>): string[] {
  return [
    'APPEND:BASE/pluginGroups=str:host-deploy',
    ...(config.offlinePackager === true ? [`${OdeployEnv.offlinePackager.key}=bool:True`] : []),
    ...(config.correlationId === undefined ? [] : [`${OvirtEngineEnv.correlationId.key}=str:${config.correlationId}`]),
  ];
}

/** Replaces the steps that set a key in `given` by `noop` (decided steps included). */
function leaveGiven(list: readonly Step[], given: ReadonlySet<string> | undefined): Step[] {
  if (given === undefined || given.size === 0) return [...list];
  const leave = (step: Step | undefined): Step | undefined => {
    if (step === undefined) return undefined;
    if (step.kind === 'set' && given.has(step.key)) return steps.noop();
    // Keeps `eager`: a wrapped step waits no more than the step it wraps.
    if (step.kind === 'dynamic') return { ...step, next: (ctx: StepContext) => leave(step.next(ctx)) };
    return step;
  };
  return list.map((step) => leave(step)!);
}

/** The host-deploy dialog program for one host; pass it to `driveDialog`. */
export function hostDeployProgram(config: HostDeployConfig): DialogProgram {
  const state: { id: string | null } = { id: null };
  let chain: readonly string[] | undefined;
  const answers: Record<string, Answer> = { [DEPLOY_PROCEED.name]: true };
  return {
    customization: leaveGiven(customization(config, state), config.given),
    termination: [
      keySteps.get(OdeployEnv.installIncomplete),
      keySteps.get(SystemEnv.reboot, (v) => {
        if (flag(v)) config.onLog?.('INFO', 'Reboot scheduled');
      }),
      // Asked whatever the first says (the engine asked only for an incomplete install), so
      // the three go in one round trip when pipelined.
      keySteps.get(OdeployEnv.installIncompleteReasons),
    ],
    answers,
    answer: (event) => {
      if (asks(event, OTOPI_TIME)) {
        config.onLog?.('INFO', 'Setting time');
        return engineTime();
      }
      if (asks(event, CERTIFICATE_CHAIN)) return chain;
      if (asks(event, OTOPI_GPG_KEY)) {
        config.onLog?.('WARNING', `Importing a package signing key: ${event.description}`);
        return true;
      }
      return undefined;
    },
    onDisplay: async (name, value, ctx: StepContext) => {
      if (name === VdsmEnv.vdsmId.key) {
        const id = text(value);
        if (id === null || config.checkUniqueId === undefined) return;
        const other = await config.checkUniqueId(id);
        if (other !== undefined)
          ctx.fail(`Host ${config.host.name} reports unique id ${id} which already registered for ${other}`);
        return;
      }
      if (name !== CERTIFICATE_REQUEST.name) return;
      // A host given its chain (accept with VDSM/certificateChain) still shows its request.
      if (config.pki === undefined && config.given?.has(VdsmEnv.certificateChain.key) === true) return;
      if (config.pki === undefined) return ctx.fail('The host asked for a certificate, but this deploy has no CA');
      try {
        chain = await signedChain(config.pki, value.value, config.host);
        config.onLog?.('INFO', `Signed the certificate of ${config.host.name}`);
      } catch (error) {
        ctx.fail(`Cannot sign the certificate request of ${config.host.name}: ${(error as Error).message}`);
      }
    },
    ...(config.onLog === undefined ? {} : { onLog: config.onLog }),
  };
}
