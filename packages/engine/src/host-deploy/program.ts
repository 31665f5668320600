/**
 * The engine's dialog program for the host-deploy group, in the order oVirt's engine 4.x used
 * (reference §6.5): the host's log file and the correlation id, then the misc, vdsm, PKI,
 * kdump, kernel and firewall steps, then `install`. It checks the host's unique id through a
 * callback, signs the host's certificate request with the engine CA and answers the chain,
 * and at termination reads whether the install is incomplete or needs a reboot.
 * `hostDeployResult` turns the dialog's outcome into the deploy's result.
 */
import { X509Certificate } from 'node:crypto';
import {
  steps,
  type Answer,
  type DialogProgram,
  type Displayed,
  type Step,
  type StepContext,
  type WireValue,
} from '../dialog/driver.js';
import { signedChain } from '../pki/sign-chain.js';
import type { HostDeployConfig } from './config.js';

export const DEPLOY_PROCEED = 'DEPLOY_PROCEED';
export const CERTIFICATE_REQUEST = 'VDSM_CERTIFICATE_REQUEST';
export const CERTIFICATE_CHAIN = 'VDSM_CERTIFICATE_CHAIN';
export const DEFAULT_SSL_EXCLUDES = 'OP_NO_TLSv1,OP_NO_TLSv1_1';
export const DEFAULT_MINIMUM_VDSM = '4.9';

const set = (key: string, value: WireValue): Step => steps.set(key, value);
/** A step that sends `noop` when its value is null or undefined, as the engine's conditional steps did. */
const setIf = (key: string, value: WireValue | undefined): Step =>
  value === undefined || value === null ? steps.noop() : set(key, value);

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
  const vdsmConfig = Object.entries(c.vdsmConfig ?? {}).map(([k, v]) => set(`VDSM_CONFIG/${k}`, v));
  const kdump = config.kdump;
  return [
    ...(config.prolog === false
      ? []
      : [
          steps.get('CORE/logFileName', (v) => config.onLog?.('INFO', `Logs at host located at: '${text(v) ?? ''}'`)),
          setIf('OVIRT_ENGINE/correlationId', config.correlationId),
        ]),
    // Misc
    set('SYSTEM/clockSet', config.clockSet ?? true),
    setIf('NETWORK/sshEnable', config.engine.sshPublicKey === undefined ? undefined : true),
    setIf('NETWORK/sshUser', config.engine.sshPublicKey === undefined ? undefined : (config.host.sshUser ?? 'root')),
    setIf('NETWORK/sshKey', config.engine.sshPublicKey),
    setIf('TUNE/tunedProfile', c.tunedProfile),
    set('GLUSTER/enable', c.gluster ?? false),
    setIf('ODEPLOY/forceReboot', config.reboot === true ? true : undefined),
    // Vdsm
    steps.get('VDSM/ovirt-node', (v) => {
      if (flag(v)) config.onLog?.('INFO', 'Host is an oVirt Node');
    }),
    steps.get('VDSM/vdsmId', (v, ctx) => {
      state.id = text(v);
      if (state.id === null || state.id === '') ctx.fail('Cannot acquire node id');
    }),
    set('VDSM_CONFIG/vars/ssl', String(c.encryptHostCommunication ?? true)),
    setIf('VDSM_CONFIG/vars/ssl_excludes', c.sslExcludes === undefined ? DEFAULT_SSL_EXCLUDES : c.sslExcludes),
    setIf(
      'VDSM_CONFIG/vars/net_nmstate_enabled',
      c.nmstate === undefined || c.nmstate === null ? null : String(c.nmstate),
    ),
    setIf('VDSM_CONFIG/vars/ssl_ciphers', c.sslCiphers),
    set('VDSM_CONFIG/addresses/management_port', String(c.vdsmPort ?? 54321)),
    ...vdsmConfig,
    set('VDSM/engineHost', config.engine.fqdn),
    setIf('VDSM/engineAddress', config.engine.address),
    set('VDSM/enginePort', config.engine.port ?? 80),
    set('VDSM/managementBridgeName', c.managementBridge === undefined ? 'ovirtmgmt' : c.managementBridge),
    setIf('VDSM/connectionTimeout', config.connection?.timeoutS),
    setIf('VDSM/connectionRetries', config.connection?.retries),
    setIf('VDSM/vdsmMinimumVersion', c.vdsmMinimumVersion === undefined ? DEFAULT_MINIMUM_VDSM : c.vdsmMinimumVersion),
    set('VDSM/checkVirtHardware', c.checkVirtHardware ?? virt),
    set('VIRT/enable', virt),
    // PKI. What this engine would issue, so a redeploy keeps a certificate that already is
    // that without a request (the host-deploy group of otopi-ts; reference §3.1 has no such keys).
    setIf('VDSM/certificateEnrollment', config.pki === undefined ? undefined : 'inline'),
    setIf('VDSM/engineCaFingerprint', config.pki === undefined ? undefined : caFingerprint(config.pki.ca.pem)),
    setIf('VDSM/certificateNames', config.pki === undefined ? undefined : certificateNames(config).join(',')),
    // Kdump: enabled only when the host says it can.
    ...(kdump === undefined
      ? []
      : [
          steps.get('KDUMP/supported'),
          steps.dynamic((ctx) => {
            const supported = flag(ctx.displayed.get('KDUMP/supported'));
            if (!supported) config.onLog?.('WARNING', 'Disabling Kdump integration: the host does not support it');
            return set('KDUMP/enable', supported);
          }),
          steps.dynamic((ctx) =>
            flag(ctx.displayed.get('KDUMP/supported'))
              ? set('KDUMP/destinationAddress', kdump.destinationAddress ?? config.engine.fqdn)
              : undefined,
          ),
          steps.dynamic((ctx) =>
            flag(ctx.displayed.get('KDUMP/supported')) ? set('KDUMP/destinationPort', kdump.port ?? 7410) : undefined,
          ),
          steps.dynamic((ctx) =>
            flag(ctx.displayed.get('KDUMP/supported')) ? set('KDUMP/messageInterval', kdump.interval ?? 5) : undefined,
          ),
        ]),
    // Kernel
    setIf('KERNEL/cmdlineNew', config.kernel?.cmdlineNew),
    setIf('KERNEL/cmdlineOld', config.kernel?.cmdlineOld),
    // Firewall
    ...(config.firewall === undefined
      ? []
      : [
          set('NETWORK/iptablesEnable', true),
          ...(config.firewall === 'default' ? [] : [set('NETWORK/iptablesRules', [...config.firewall.iptablesRules])]),
        ]),
    ...(config.settings ?? []).map((s) => set(s.key, s.value)),
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
    ...(config.offlinePackager === true ? ['ODEPLOY/offlinePackager=bool:True'] : []),
    ...(config.correlationId === undefined ? [] : [`OVIRT_ENGINE/correlationId=str:${config.correlationId}`]),
  ];
}

/** Replaces the steps that set a key in `given` by `noop` (decided steps included). */
function leaveGiven(list: readonly Step[], given: ReadonlySet<string> | undefined): Step[] {
  if (given === undefined || given.size === 0) return [...list];
  const leave = (step: Step | undefined): Step | undefined => {
    if (step === undefined) return undefined;
    if (step.kind === 'set' && given.has(step.key)) return steps.noop();
    if (step.kind === 'dynamic') return steps.dynamic((ctx) => leave(step.next(ctx)));
    return step;
  };
  return list.map((step) => leave(step)!);
}

/** The host-deploy dialog program for one host; pass it to `driveDialog`. */
export function hostDeployProgram(config: HostDeployConfig): DialogProgram {
  const state: { id: string | null } = { id: null };
  let chain: readonly string[] | undefined;
  const answers: Record<string, Answer> = { [DEPLOY_PROCEED]: true };
  return {
    customization: leaveGiven(customization(config, state), config.given),
    termination: [
      steps.get('ODEPLOY/installIncomplete'),
      steps.get('SYSTEM/reboot', (v) => {
        if (flag(v)) config.onLog?.('INFO', 'Reboot scheduled');
      }),
      // Asked whatever the first says (the engine asked only for an incomplete install), so
      // the three go in one round trip when pipelined.
      steps.get('ODEPLOY/installIncompleteReasons'),
    ],
    answers,
    answer: (event) => {
      if (event.kind === 'query-value' && event.name === 'TIME') {
        config.onLog?.('INFO', 'Setting time');
        return engineTime();
      }
      if (event.kind === 'query-multi-string' && event.name === CERTIFICATE_CHAIN) return chain;
      if (event.kind === 'confirm' && event.name === 'GPG_KEY') {
        config.onLog?.('WARNING', `Importing a package signing key: ${event.description}`);
        return true;
      }
      return undefined;
    },
    onDisplay: async (name, value, ctx: StepContext) => {
      if (name === 'VDSM/vdsmId') {
        const id = text(value);
        if (id === null || config.checkUniqueId === undefined) return;
        const other = await config.checkUniqueId(id);
        if (other !== undefined)
          ctx.fail(`Host ${config.host.name} reports unique id ${id} which already registered for ${other}`);
        return;
      }
      if (name !== CERTIFICATE_REQUEST) return;
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
