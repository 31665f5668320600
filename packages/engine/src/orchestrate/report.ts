/**
 * A host's report: how its deploy ended, written to its log and sent as its `host-end` event.
 */
import { isEngineError } from '../errors.js';
import type { InventoryHost } from '../inventory/inventory.js';
import type { AcceptedHostKey } from '../ssh/host-key-policy.js';
import type { DeployEventInput, HostReport, HostResultKind, SentBytes } from './events.js';
import type { HostLog } from './host-log.js';

const NO_BYTES: SentBytes = { command: 0, payload: 0, dialog: 0, total: 0 };

/** An error as one line, with its hint. */
export function describe(error: unknown): string {
  if (isEngineError(error)) return error.hint === undefined ? error.message : `${error.message} (${error.hint})`;
  return error instanceof Error ? error.message : String(error);
}

export interface Finish {
  result: HostResultKind;
  stage: string;
  details: string[];
  exitCode?: number | null;
  bytes?: SentBytes;
  shipped?: HostReport['shipped'];
  roundTrips?: number | undefined;
  lastHandler?: string | undefined;
  hostKey?: AcceptedHostKey | undefined;
  hostLogFile?: string | undefined;
  facts?: Readonly<Record<string, string>> | undefined;
}

export function buildReport(
  where: {
    host: InventoryHost;
    address: string;
    started: number;
    log: HostLog | undefined;
    emit: (event: DeployEventInput) => void;
  },
  r: Finish,
): HostReport {
  const { log } = where;
  const report: HostReport = {
    host: where.host.name,
    address: where.address,
    result: r.result,
    stage: r.stage,
    ...(r.lastHandler === undefined ? {} : { lastHandler: r.lastHandler }),
    ...(r.result === 'installed' || r.details[0] === undefined ? {} : { cause: r.details[0] }),
    details: r.details,
    exitCode: r.exitCode ?? null,
    durationMs: Math.round(performance.now() - where.started),
    bytes: r.bytes ?? NO_BYTES,
    ...(r.roundTrips === undefined ? {} : { roundTrips: r.roundTrips }),
    ...(r.shipped === undefined ? {} : { shipped: r.shipped }),
    ...(r.hostKey === undefined
      ? {}
      : { hostKey: { type: r.hostKey.type, fingerprint: r.hostKey.fingerprint, learnt: r.hostKey.learnt } }),
    ...(log === undefined ? {} : { log: log.path }),
    ...(r.hostLogFile === undefined ? {} : { hostLogFile: r.hostLogFile }),
    ...(r.facts === undefined || Object.keys(r.facts).length === 0 ? {} : { facts: r.facts }),
  };
  if (log !== undefined) {
    log.note(`result: ${report.result} at ${report.stage}${report.cause === undefined ? '' : `: ${report.cause}`}`);
    for (const d of report.details.slice(1)) log.note(`  also: ${d}`);
    log.close();
  }
  where.emit({ type: 'host-end', ...report });
  return report;
}
