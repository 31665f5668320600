/**
 * How a host's deploy ended, judged once its session is over: the reasons it did not install
 * (in the order a report lists them, the first being its cause), and then what the plugin
 * groups' programs conclude about it.
 */
import type { SessionResult } from '../deploy/session.js';
import type { DialogFailure, DialogOutcome } from '../dialog/driver.js';
import type { HostResultKind } from './events.js';
import type { GroupProgram } from './program.js';
import { describe, type Finish } from './report.js';

/** Everything known about a host's session once it is over. */
export interface SessionEnd {
  readonly outcome: DialogOutcome | undefined;
  /** Why the engine could not drive the dialog to its end (it threw); undefined when it could. */
  readonly driverError: string | undefined;
  /** The exit, or undefined when `sessionError` says why there is none. */
  readonly result: SessionResult | undefined;
  readonly sessionError: unknown;
  /** Standard error as the host wrote it. */
  readonly stderr: string;
  readonly cancelled: boolean;
  /** The host's error records. */
  readonly hostErrors: readonly string[];
}

export interface Verdict {
  readonly result: HostResultKind;
  readonly installed: boolean;
  readonly details: string[];
}

export function judgeSession(end: SessionEnd): Verdict {
  const { outcome, result } = end;
  const stderr = end.stderr.trim();
  const lost = result !== undefined && result.code === null && outcome?.terminated !== true;
  // A lost connection says why the dialog ended early: the driver's finding would say it again.
  const said = (f: DialogFailure): boolean => !(lost && f.code === 'SESSION_ENDED');
  const details: string[] = [];
  if (end.cancelled) details.push('the run was cancelled');
  if (end.sessionError !== undefined) details.push(describe(end.sessionError));
  if (stderr !== '')
    details.push(`the host wrote to standard error: ${stderr.length > 500 ? `${stderr.slice(0, 500)}…` : stderr}`);
  if (lost)
    details.push(
      `the SSH session ended without an exit status${result?.signal == null ? ' (connection lost)' : ` (signal ${result.signal})`}`,
    );
  details.push(...end.hostErrors);
  if (end.driverError !== undefined) details.push(end.driverError);
  details.push(...(outcome?.failures ?? []).filter(said).map((f) => f.message));
  if (outcome?.hostAborted === true) details.push('the host aborted and rolled back');
  else if (outcome?.hostError === true && end.hostErrors.length === 0)
    details.push('the host reported an error (BASE/error)');
  if (result?.code != null && result.code !== 0) details.push(`the installer exited with code ${result.code}`);

  const installed =
    details.length === 0 && outcome?.terminated === true && outcome.hostError === false && result?.code === 0;
  if (!installed && details.length === 0) details.push('the host did not confirm success');
  const kind: HostResultKind = installed
    ? 'installed'
    : end.cancelled || outcome?.hostAborted === true
      ? 'aborted'
      : 'failed';
  return { result: kind, installed, details };
}

/**
 * Applies the groups' conclusions: their details and facts join the report, and a host that
 * installed becomes `incomplete` or `reboot` when a group says so (incomplete wins).
 */
export function conclude(programs: readonly GroupProgram[], outcome: DialogOutcome | undefined, r: Finish): Finish {
  let result = r.result;
  const details: string[] = [];
  const facts: Record<string, string> = {};
  for (const program of programs) {
    let c;
    try {
      c = program.conclude?.(outcome, r.result);
    } catch (error) {
      details.push(`a group's program failed to conclude: ${describe(error)}`);
    }
    if (c === undefined) continue;
    details.push(...(c.details ?? []));
    Object.assign(facts, c.facts);
    if (r.result === 'installed' && c.result !== undefined && result !== 'incomplete') result = c.result;
  }
  // A failed host's own reasons come first: the report's cause is the first detail.
  const merged =
    result === r.result && r.result !== 'installed' ? [...r.details, ...details] : [...details, ...r.details];
  return { ...r, result, details: merged, facts };
}
