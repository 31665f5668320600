/**
 * One host's deploy: open the session (SSH, host key, one exec that ships what the host
 * lacks), drive the machine dialog with the composed program, fetch the host's log, and say
 * how it ended and why. It never throws: every failure becomes the host's report, so one
 * host cannot stop the others. The steps are `HostDeployment`'s (host-deployment.ts).
 */
import type { InventoryHost } from '../inventory/inventory.js';
import type { HostReport } from './events.js';
import { HostLog, logBaseName } from './host-log.js';
import { HostDeployment, type HostRunContext } from './host-deployment.js';
import { buildReport, describe } from './report.js';

export type { HostRunContext, Timeouts } from './host-deployment.js';

const CORRELATION_KEY = 'OVIRT_ENGINE/correlationId';

/** The host's correlation id: its host-deploy field, else the last setting of the key, else the run's. */
function correlationIdOf(host: InventoryHost, ctx: HostRunContext): string {
  const setting = [...ctx.defaults, ...host.environment, ...ctx.overrides]
    .filter((s) => s.key === CORRELATION_KEY && typeof s.value === 'string')
    .at(-1);
  return host.hostDeploy?.correlation_id ?? (setting?.value as string | undefined) ?? ctx.correlationId;
}

export async function deployHost(host: InventoryHost, ctx: HostRunContext): Promise<HostReport> {
  const started = performance.now();
  const address = host.port === 22 ? host.address : `${host.address}:${host.port}`;
  const timeouts = {
    connectMs: host.timeouts.connectMs ?? ctx.timeouts.connectMs,
    inactivityMs: host.timeouts.inactivityMs ?? ctx.timeouts.inactivityMs,
    hardMs: host.timeouts.hardMs ?? ctx.timeouts.hardMs,
    rebootMs: host.timeouts.rebootMs ?? ctx.timeouts.rebootMs,
  };
  ctx.emit({ type: 'host-start', host: host.name, address });

  if (ctx.signal.aborted) {
    return buildReport(
      { host, address, started, log: undefined, emit: ctx.emit },
      { result: 'aborted', stage: 'not started', details: ['the run was cancelled'] },
    );
  }
  let log: HostLog;
  try {
    const entry = ctx.groups.includes('host-deploy') ? 'ovirt-host-deploy' : 'otopi-deploy';
    log = new HostLog(ctx.logDir, logBaseName(entry, new Date(), host.name, correlationIdOf(host, ctx)), ctx.redactor);
  } catch (error) {
    return buildReport(
      { host, address, started, log: undefined, emit: ctx.emit },
      {
        result: 'failed',
        stage: 'not started',
        details: [`cannot write the host's log in ${ctx.logDir}: ${describe(error)}`],
      },
    );
  }
  return new HostDeployment(host, ctx, log, { started, address, timeouts }).run();
}
