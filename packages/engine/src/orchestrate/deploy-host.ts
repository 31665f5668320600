/**
 * One host's deploy: open the session (SSH, host key, one exec that ships what the host
 * lacks), drive the machine dialog with the composed program, fetch the host's log, and say
 * how it ended and why. It never throws: every failure becomes the host's report, so one
 * host cannot stop the others.
 */
import type { Redactor } from '@otopi/core';
import type { Artifact, RuntimeArtifact } from '../bundle/artifact.js';
import type { SessionResult } from '../deploy/session.js';
import { driveDialog, type DialogOutcome, type DialogProgram } from '../dialog/driver.js';
import { EngineError } from '../errors.js';
import type { InventoryHost } from '../inventory/inventory.js';
import { planSettings, type EnvSetting } from '../inventory/settings.js';
import type { AcceptedHostKey } from '../ssh/host-key-policy.js';
import type { DeployEventInput, HostReport, HostResultKind, SentBytes } from './events.js';
import { HostLog } from './host-log.js';
import { buildReport, describe, type Finish } from './report.js';
import { OpenError, type OpenedHost, type SessionOpener } from './open.js';
import { baseProgram, composePrograms, type DeployProgramFactory, type GroupProgram } from './program.js';

export interface Timeouts {
  readonly connectMs: number;
  readonly inactivityMs: number;
  readonly hardMs: number;
}

/** What every host of a run shares. */
export interface HostRunContext {
  readonly bundle: Artifact;
  readonly runtime: RuntimeArtifact | undefined;
  readonly preferRuntime: boolean;
  readonly groups: readonly string[];
  readonly dryRun: boolean;
  /** Settings before the host's own (an answer file), and after them (the command line). */
  readonly defaults: readonly EnvSetting[];
  readonly overrides: readonly EnvSetting[];
  readonly programs: Readonly<Record<string, DeployProgramFactory>>;
  readonly timeouts: Timeouts;
  readonly connectRetries?: number | undefined;
  readonly logDir: string;
  readonly redactor: Redactor;
  readonly open: SessionOpener;
  readonly emit: (event: DeployEventInput) => void;
  /** Cancels the run: a running host's connection is closed (it rolls back), the rest never start. */
  readonly signal: AbortSignal;
}

/**
 * Applies the groups' conclusions: their details and facts join the report, and a host that
 * installed becomes `incomplete` or `reboot` when a group says so (incomplete wins).
 */
function conclude(programs: readonly GroupProgram[], outcome: DialogOutcome | undefined, r: Finish): Finish {
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

/** How long a host may take to exit after the dialog ended (or was given up) before it is killed. */
const EXIT_GRACE_MS = 15_000;
/** The dialog driver's limits trail the session's, so the session's coded timeout is what gets reported. */
const DRIVER_SLACK_MS = 5_000;

function waitOrKill(done: Promise<SessionResult>, kill: () => void): Promise<SessionResult> {
  const timer = setTimeout(kill, EXIT_GRACE_MS);
  return done.finally(() => clearTimeout(timer));
}

export async function deployHost(host: InventoryHost, ctx: HostRunContext): Promise<HostReport> {
  const started = performance.now();
  const address = host.port === 22 ? host.address : `${host.address}:${host.port}`;
  const timeouts = {
    connectMs: host.timeouts.connectMs ?? ctx.timeouts.connectMs,
    inactivityMs: host.timeouts.inactivityMs ?? ctx.timeouts.inactivityMs,
    hardMs: host.timeouts.hardMs ?? ctx.timeouts.hardMs,
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
    log = new HostLog(ctx.logDir, host.name, new Date(), ctx.redactor);
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
  return deployWithLog(host, ctx, log, { started, address, timeouts });
}

async function deployWithLog(
  host: InventoryHost,
  ctx: HostRunContext,
  log: HostLog,
  { started, address, timeouts }: { started: number; address: string; timeouts: Timeouts },
): Promise<HostReport> {
  let stage = 'SSH connection';
  /** The stage of the host's first error: a failed run goes on through the clean-up stages, so the last stage would say little. */
  let failedStage: string | undefined;
  let failedHandler: string | undefined;
  let lastHandler: string | undefined;
  let hostLogFile: string | undefined;
  let hostKey: AcceptedHostKey | undefined;
  let opened: OpenedHost | undefined;
  const hostErrors: string[] = [];

  let groupPrograms: GroupProgram[] = [];
  let outcome: DialogOutcome | undefined;
  const finish = (r: Finish): HostReport => {
    const concluded = conclude(groupPrograms, outcome, r);
    return buildReport(
      { host, address, started, log, emit: ctx.emit },
      {
        ...concluded,
        lastHandler: r.result === 'installed' ? lastHandler : (failedHandler ?? lastHandler),
        hostKey,
        hostLogFile,
      },
    );
  };

  const plan = planSettings([...ctx.defaults, ...host.environment, ...ctx.overrides]);
  try {
    const programContext = {
      groups: ctx.groups,
      dryRun: ctx.dryRun,
      log: (text: string) => log.note(text),
      givenKeys: new Set(plan.values.map((v) => v.key)),
    };
    for (const group of ctx.groups) {
      const factory = ctx.programs[group];
      if (factory !== undefined) groupPrograms.push(await factory(host, programContext));
    }
  } catch (error) {
    groupPrograms = [];
    return finish({ result: 'failed', stage: 'not started', details: [describe(error)] });
  }
  const statements = [
    ...(ctx.groups.length === 0 ? [] : [`APPEND:BASE/pluginGroups=str:${ctx.groups.join(':')}`]),
    ...(ctx.dryRun ? ['CORE/dryRun=bool:True'] : []),
    ...plan.statements,
    ...groupPrograms.flatMap((p) => p.statements ?? []),
  ];
  log.note(
    `deploy to ${host.user}@${address} (${host.name}); bundle ${ctx.bundle.sha256}; groups otopi${ctx.groups.map((g) => `, ${g}`).join('')}${ctx.dryRun ? '; dry run' : ''}`,
  );
  log.note(`command-line statements: ${statements.length === 0 ? '(none)' : statements.join(' ')}`);
  log.note(`settings sent at customization: ${plan.values.map((v) => v.key).join(', ') || '(none)'}`);

  const cancel = (): void => {
    log.note('the run was cancelled: closing the connection, so the host rolls back');
    opened?.close();
  };
  ctx.signal.addEventListener('abort', cancel, { once: true });
  try {
    try {
      opened = await ctx.open(host, {
        bundle: ctx.bundle,
        runtime: ctx.runtime,
        preferRuntime: ctx.preferRuntime,
        statements,
        connectTimeoutMs: timeouts.connectMs,
        connectRetries: ctx.connectRetries,
        onNote: (text) => log.note(text),
        inactivityTimeoutMs: timeouts.inactivityMs,
        hardTimeoutMs: timeouts.hardMs,
        signal: ctx.signal,
        onConnected: (key) => {
          hostKey = key;
          stage = 'Bundle transfer';
          log.note(
            `connected; host key ${key.type} ${key.fingerprint}${key.learnt ? ' (new: recorded in known_hosts)' : ''}`,
          );
          ctx.emit({
            type: 'connected',
            host: host.name,
            keyType: key.type,
            fingerprint: key.fingerprint,
            learnt: key.learnt,
          });
        },
      });
    } catch (error) {
      const cause = error instanceof OpenError ? error.error : error;
      if (error instanceof OpenError) stage = error.stage;
      const details = [describe(cause)];
      if (ctx.signal.aborted) details.unshift('the run was cancelled');
      return finish({ result: ctx.signal.aborted ? 'aborted' : 'failed', stage, details });
    }
    const session = opened.session;
    if (ctx.signal.aborted) opened.close();
    const shipped = session.shipped;
    const bytes = (): SentBytes => {
      const b = session.bytes;
      return { command: b.command, payload: b.payload, dialog: b.dialog, total: b.command + b.payload + b.dialog };
    };
    if (shipped !== undefined) {
      log.note(
        `shipped: ${shipped.length === 0 ? 'nothing (the host had everything cached)' : shipped.join(', ')}; ${session.bytes.payload} bytes`,
      );
      ctx.emit({ type: 'shipped', host: host.name, artifacts: shipped, bytes: session.bytes.payload });
    }
    stage = 'Installer start';

    const findings: string[] = [];
    try {
      const instruments: DialogProgram = {
        transcript: (direction, line) => log.transcript(direction, line),
        onLog: (level, text) => {
          if (text.startsWith('Stage: ')) {
            stage = text.slice('Stage: '.length);
            ctx.emit({ type: 'stage', host: host.name, stage });
            return;
          }
          if (level === 'ERROR' || level === 'CRITICAL' || level === 'FATAL') hostErrors.push(text);
          if (failedStage === undefined && level !== 'INFO' && (level !== 'WARNING' || text.startsWith('Aborted'))) {
            failedStage = stage;
            failedHandler = lastHandler;
          }
          ctx.emit({ type: 'log', host: host.name, level, text });
        },
        onEvent: (kind, handler) => {
          if (kind === 'start') lastHandler = `${handler.stage}/${handler.name}`;
        },
        onHostLog: (lines) => log.hostLog(lines),
      };
      const base = baseProgram({
        values: plan.values,
        answers: host.answers,
        onLogFile: (path) => {
          hostLogFile = path;
          log.note(`the host logs to ${path}`);
        },
      });
      outcome = await driveDialog(
        session,
        composePrograms([instruments, base, ...groupPrograms], {
          inactivityMs: timeouts.inactivityMs + DRIVER_SLACK_MS,
          hardLimitMs: timeouts.hardMs + DRIVER_SLACK_MS,
          // The host runs the installer this deploy shipped: ours, which takes replies sent ahead.
          pipeline: true,
        }),
      );
      findings.push(...outcome.failures);
    } catch (error) {
      findings.push(`the engine failed while driving the dialog: ${describe(error)}`);
      session.end();
    }

    let result: SessionResult | undefined;
    let sessionError: unknown;
    try {
      result = await waitOrKill(session.done, () =>
        session.abort(
          new EngineError(
            'SSH_CLOSED',
            `${host.name} did not exit ${EXIT_GRACE_MS / 1000} s after its dialog ended; killed`,
            { host: host.name },
          ),
        ),
      );
    } catch (error) {
      sessionError = error;
    }

    const stderr = (result?.stderr ?? session.stderr).trim();
    const lost = result !== undefined && result.code === null && outcome?.terminated !== true;
    const details: string[] = [];
    if (ctx.signal.aborted) details.push('the run was cancelled');
    if (sessionError !== undefined) details.push(describe(sessionError));
    if (stderr !== '')
      details.push(`the host wrote to standard error: ${stderr.length > 500 ? `${stderr.slice(0, 500)}…` : stderr}`);
    if (lost)
      details.push(
        `the SSH session ended without an exit status${result?.signal == null ? ' (connection lost)' : ` (signal ${result.signal})`}`,
      );
    details.push(...hostErrors);
    details.push(...findings.filter((f) => !(lost && f === 'the host closed the session before the dialog ended')));
    if (outcome?.hostAborted === true) details.push('the host aborted and rolled back');
    else if (outcome?.hostError === true && hostErrors.length === 0)
      details.push('the host reported an error (BASE/error)');
    if (result?.code != null && result.code !== 0) details.push(`the installer exited with code ${result.code}`);

    const installed =
      details.length === 0 && outcome?.terminated === true && outcome.hostError === false && result?.code === 0;
    if (!installed && details.length === 0) details.push('the host did not confirm success');
    const kind: HostResultKind = installed
      ? 'installed'
      : ctx.signal.aborted || outcome?.hostAborted === true
        ? 'aborted'
        : 'failed';
    return finish({
      result: kind,
      stage: installed ? stage : (failedStage ?? stage),
      details,
      exitCode: result?.code ?? null,
      bytes: bytes(),
      shipped,
      roundTrips: outcome?.roundTrips,
    });
  } catch (error) {
    return finish({ result: 'failed', stage, details: [`internal error: ${describe(error)}`] });
  } finally {
    ctx.signal.removeEventListener('abort', cancel);
    opened?.close();
  }
}
