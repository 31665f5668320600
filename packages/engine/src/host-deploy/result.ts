/**
 * The result of a host deploy, from the dialog's outcome (reference §6.6): `failed` when the
 * host reported an error or the dialog broke, else `reboot` when the host reboots, else
 * `incomplete` when it needs a manual step, else `installed`.
 */
import { CoreEnv } from '@otopi/core';
import { OdeployEnv, VdsmEnv } from '../../../../plugins/host-deploy/src/_lib/contract.js';
import { SystemEnv } from '../../../../plugins/otopi/src/_lib/keys.js';
import type { DialogOutcome, Displayed } from '../dialog/driver.js';

export type HostDeployStatus = 'installed' | 'incomplete' | 'failed' | 'reboot';

export interface HostDeployResult {
  readonly status: HostDeployStatus;
  /** VDSM/vdsmId as the host reported it. */
  readonly vdsmId: string | null;
  /** The host's log file (CORE/logFileName). */
  readonly logFile: string | null;
  /** ODEPLOY/installIncompleteReasons, when incomplete. */
  readonly incompleteReasons: readonly string[];
  /** What went wrong: the driver's failures (their messages), or the host's error. */
  readonly errors: readonly string[];
}

const text = (d: Displayed | undefined): string | null =>
  d === undefined || typeof d.value !== 'string' || d.type === 'none' ? null : d.value;
const flag = (d: Displayed | undefined): boolean => /^(true|1|yes)$/i.test(text(d) ?? '');
const list = (d: Displayed | undefined): string[] =>
  d === undefined
    ? []
    : Array.isArray(d.value)
      ? [...d.value]
      : d.type === 'none' || d.value === ''
        ? []
        : [String(d.value)];

export function hostDeployResult(outcome: DialogOutcome): HostDeployResult {
  const shown = outcome.displayed;
  const errors = outcome.failures.map((f) => f.message);
  if (outcome.hostError === true && errors.length === 0)
    errors.push('Installation failed, please refer to installation logs');
  const failed = errors.length > 0 || outcome.hostError !== false || !outcome.terminated;
  const incomplete = flag(shown.get(OdeployEnv.installIncomplete.key));
  const status: HostDeployStatus = failed
    ? 'failed'
    : flag(shown.get(SystemEnv.reboot.key))
      ? 'reboot'
      : incomplete
        ? 'incomplete'
        : 'installed';
  return {
    status,
    vdsmId: text(shown.get(VdsmEnv.vdsmId.key)),
    logFile: text(shown.get(CoreEnv.logFileName.key)),
    incompleteReasons: incomplete ? list(shown.get(OdeployEnv.installIncompleteReasons.key)) : [],
    errors,
  };
}
