/**
 * The engine's dialog program for ovirt-host-mgmt (reference host-deploy.md §3.3, §6.1, §6.5):
 * "check for upgrade" and "upgrade" (the packages unit: the update mode and the package names,
 * then `OMGMT_PACKAGES/packagesInfo` read at termination) and certificate re-enrollment (the
 * PKI unit: `VDSM/certificateEnrollment=str:inline`, the request signed by the engine CA and
 * the chain answered). `hostMgmtResult` turns the dialog's outcome into what was found or done.
 */
import { CoreEnv } from '@otopi/core';
import {
  CERTIFICATE_CHAIN,
  CERTIFICATE_REQUEST,
  OmgmtPackagesEnv,
  SharedOdeployKeys,
  VdsmEnv,
} from '../../../../plugins/host-mgmt/src/_lib/contract.js';
import { OvirtEngineEnv } from '../../../../plugins/host-deploy/src/_lib/contract.js';
import {
  steps,
  type Answer,
  type DialogOutcome,
  type DialogProgram,
  type Displayed,
  type Step,
} from '../dialog/driver.js';
import type { LogLevel } from '../dialog/parser.js';
import { asks, keySteps } from '../dialog/tokens.js';
import { engineTime, OTOPI_TIME } from '../host-deploy/program.js';
import { signedChain, type ChainSigning } from '../pki/sign-chain.js';

export const HOST_MGMT_ACTIONS = ['check-updates', 'upgrade', 'enroll-certificate'] as const;
export type HostMgmtAction = (typeof HOST_MGMT_ACTIONS)[number];

/** The packages the engine checks by default (its `PackageNamesForCheckUpdate`, for this project's hosts). */
export const DEFAULT_MGMT_PACKAGES = ['ovirt-host', 'vdsm', 'vdsm-client'] as const;

export interface HostMgmtConfig {
  readonly action: HostMgmtAction;
  readonly host: { readonly name: string; readonly address?: string | undefined };
  /** Package names to check or upgrade. Default {@link DEFAULT_MGMT_PACKAGES}. */
  readonly packages?: readonly string[];
  /** enroll-certificate: the CA that signs. */
  readonly pki?: ChainSigning;
  /** enroll-certificate: a new host key instead of the installed one. Default false. */
  readonly newKey?: boolean;
  /** Send the engine's prolog (the host's log file, the correlation id). Default true. */
  readonly prolog?: boolean;
  readonly correlationId?: string | undefined;
  readonly onLog?: (level: LogLevel, text: string) => void;
}

const text = (d: Displayed | undefined): string | null =>
  d === undefined || typeof d.value !== 'string' || d.type === 'none' ? null : d.value;

function customization(config: HostMgmtConfig): Step[] {
  const prolog =
    config.prolog === false
      ? []
      : [
          keySteps.get(CoreEnv.logFileName, (v) =>
            config.onLog?.('INFO', `Logs at host located at: '${text(v) ?? ''}'`),
          ),
          keySteps.setIf(OvirtEngineEnv.correlationId, config.correlationId),
        ];
  if (config.action === 'enroll-certificate')
    return [
      ...prolog,
      keySteps.set(VdsmEnv.certificateEnrollment, 'inline'),
      config.newKey === true ? keySteps.set(VdsmEnv.certificateRenew, true) : steps.noop(),
    ];
  return [
    ...prolog,
    keySteps.set(OmgmtPackagesEnv.packagesUpdateMode, config.action === 'upgrade' ? 'update' : 'checkUpdate'),
    keySteps.set(OmgmtPackagesEnv.packages, [...(config.packages ?? DEFAULT_MGMT_PACKAGES)]),
  ];
}

/** The host-mgmt dialog program for one host; pass it to `driveDialog`. */
export function hostMgmtProgram(config: HostMgmtConfig): DialogProgram {
  let chain: readonly string[] | undefined;
  return {
    customization: customization(config),
    termination: [
      ...(config.action === 'enroll-certificate' ? [] : [keySteps.get(OmgmtPackagesEnv.packagesInfo)]),
      keySteps.get(SharedOdeployKeys.installIncomplete),
    ],
    answer: (event): Answer | undefined => {
      if (asks(event, OTOPI_TIME)) return engineTime();
      if (asks(event, CERTIFICATE_CHAIN)) return chain;
      return undefined;
    },
    onDisplay: async (name, value, ctx) => {
      if (name !== CERTIFICATE_REQUEST.name) return;
      if (config.action !== 'enroll-certificate' || config.pki === undefined)
        return ctx.fail('The host asked for a certificate, but this run enrolls none');
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

export interface HostMgmtResult {
  readonly ok: boolean;
  /** The updates the host found, `name-version` (check-updates, upgrade). */
  readonly packagesInfo: readonly string[];
  /** Whether the host displayed a certificate request (enroll-certificate). */
  readonly enrolled: boolean;
  readonly errors: readonly string[];
}

export function hostMgmtResult(outcome: DialogOutcome): HostMgmtResult {
  const info = outcome.displayed.get(OmgmtPackagesEnv.packagesInfo.key);
  const packagesInfo =
    info === undefined || info.type === 'none'
      ? []
      : (Array.isArray(info.value) ? [...info.value] : [String(info.value)]).filter((l) => l !== '');
  const errors = outcome.failures.map((f) => f.message);
  if (outcome.hostError === true && errors.length === 0) errors.push('The host reported an error; see its log');
  return {
    ok: errors.length === 0 && outcome.hostError === false && outcome.terminated,
    packagesInfo,
    enrolled: outcome.displayed.has(CERTIFICATE_REQUEST.name),
    errors,
  };
}
