/**
 * One host's deploy once its log is open, as named steps (`HostDeployment`): the group
 * programs, the boot id, the session (connect, ship), the dialog, the exit, the verdict
 * (`verdict.ts`) and the report; a host that reboots to finish is waited for. How far it got is
 * `HostProgress`'s to say.
 */
import type { Redactor } from '@otopi/core';
import type { Artifact, RuntimeArtifact } from '../bundle/artifact.js';
import type { SessionResult } from '../deploy/session.js';
import { driveDialog, type DialogOutcome, type DialogProgram } from '../dialog/driver.js';
import { EngineError } from '../errors.js';
import type { InventoryHost } from '../inventory/inventory.js';
import { planSettings, type EnvSetting } from '../inventory/settings.js';
import type { AcceptedHostKey } from '../ssh/host-key-policy.js';
import type { DeployEventInput, HostReport } from './events.js';
import type { HostLog } from './host-log.js';
import { HostProgress } from './host-progress.js';
import { buildReport, describe, type Finish } from './report.js';
import { OpenError, type HostSession, type OpenedHost, type SessionOpener } from './open.js';
import { baseProgram, composePrograms, type DeployProgramFactory, type GroupProgram } from './program.js';
import { awaitReboot, bootIdOverSsh, type BootIdProbe } from './reboot-wait.js';
import { conclude, judgeSession } from './verdict.js';

export interface Timeouts {
  readonly connectMs: number;
  readonly inactivityMs: number;
  readonly hardMs: number;
  /** How long to wait for a host that reboots to come back; 0: not waited for (it ends `reboot`). */
  readonly rebootMs: number;
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
  /** Reads a host's boot id, to see it come back from a reboot. Default: over SSH. */
  readonly bootId?: BootIdProbe;
  readonly emit: (event: DeployEventInput) => void;
  /** Cancels the run: a running host's connection is closed (it rolls back), the rest never start. */
  readonly signal: AbortSignal;
  /** The run's correlation id, for hosts that are given none (it names their logs). */
  readonly correlationId: string;
}

/** How long a host may take to exit after the dialog ended (or was given up) before it is killed. */
const EXIT_GRACE_MS = 15_000;

function waitOrKill(done: Promise<SessionResult>, kill: () => void): Promise<SessionResult> {
  const timer = setTimeout(kill, EXIT_GRACE_MS);
  return done.finally(() => clearTimeout(timer));
}

/**
 * One host's deploy once its log is open, in steps: the group programs are made, the boot id
 * read (to see a reboot), the session opened (connect, ship), the dialog driven, the exit
 * awaited, the end judged, and the report written. Each step that fails ends in `finish`.
 */
export class HostDeployment {
  private readonly progress: HostProgress;
  private readonly plan: ReturnType<typeof planSettings>;
  private groupPrograms: GroupProgram[] = [];
  private outcome: DialogOutcome | undefined;
  private bootBefore: string | undefined;
  private hostKey: AcceptedHostKey | undefined;
  private hostLogFile: string | undefined;
  private changes: { list: readonly string[]; diff: readonly string[] | undefined } | undefined;
  private opened: OpenedHost | undefined;

  constructor(
    private readonly host: InventoryHost,
    private readonly ctx: HostRunContext,
    private readonly log: HostLog,
    private readonly where: { started: number; address: string; timeouts: Timeouts },
  ) {
    this.progress = new HostProgress(host.name, ctx.emit);
    this.plan = planSettings([...ctx.defaults, ...host.environment, ...ctx.overrides]);
  }

  async run(): Promise<HostReport> {
    try {
      await this.makePrograms();
    } catch (error) {
      this.groupPrograms = [];
      return this.finish({ result: 'failed', stage: 'not started', details: [describe(error)] });
    }
    const statements = this.statements();
    this.noteStart(statements);
    const cancel = (): void => {
      this.log.note('the run was cancelled: closing the connection, so the host rolls back');
      this.opened?.close();
    };
    this.ctx.signal.addEventListener('abort', cancel, { once: true });
    try {
      await this.readBootId();
      try {
        this.opened = await this.open(statements);
      } catch (error) {
        const cause = error instanceof OpenError ? error.error : error;
        if (error instanceof OpenError) this.progress.enter(error.stage);
        const details = [describe(cause)];
        if (this.ctx.signal.aborted) details.unshift('the run was cancelled');
        return this.finish({
          result: this.ctx.signal.aborted ? 'aborted' : 'failed',
          stage: this.progress.stage,
          details,
        });
      }
      return await this.runInstaller(this.opened.session);
    } catch (error) {
      return this.finish({
        result: 'failed',
        stage: this.progress.stage,
        details: [`internal error: ${describe(error)}`],
      });
    } finally {
      this.ctx.signal.removeEventListener('abort', cancel);
      this.opened?.close();
    }
  }

  /** One program per plugin group that has a factory, made before connecting (its statements reach the command line). */
  private async makePrograms(): Promise<void> {
    const programContext = {
      groups: this.ctx.groups,
      dryRun: this.ctx.dryRun,
      log: (text: string) => this.log.note(text),
      givenKeys: new Set(this.plan.values.map((v) => v.key)),
    };
    for (const group of this.ctx.groups) {
      const factory = this.ctx.programs[group];
      if (factory !== undefined) this.groupPrograms.push(await factory(this.host, programContext));
    }
  }

  private statements(): string[] {
    const { ctx } = this;
    return [
      ...(ctx.groups.length === 0 ? [] : [`APPEND:BASE/pluginGroups=str:${ctx.groups.join(':')}`]),
      ...(ctx.dryRun ? ['CORE/dryRun=bool:True'] : []),
      ...this.plan.statements,
      ...this.groupPrograms.flatMap((p) => p.statements ?? []),
    ];
  }

  private noteStart(statements: readonly string[]): void {
    const { ctx, host, log } = this;
    log.note(
      `deploy to ${host.user}@${this.where.address} (${host.name}); bundle ${ctx.bundle.sha256}; groups otopi${ctx.groups.map((g) => `, ${g}`).join('')}${ctx.dryRun ? '; dry run' : ''}`,
    );
    log.note(`command-line statements: ${statements.length === 0 ? '(none)' : statements.join(' ')}`);
    log.note(`settings sent at customization: ${this.plan.values.map((v) => v.key).join(', ') || '(none)'}`);
  }

  /** Read before the deploy, so a host that comes back from its reboot can be told from one that never went. */
  private async readBootId(): Promise<void> {
    const { ctx, where } = this;
    if (where.timeouts.rebootMs <= 0 || ctx.dryRun) return;
    try {
      this.bootBefore = await (ctx.bootId ?? bootIdOverSsh)(this.host, {
        connectTimeoutMs: where.timeouts.connectMs,
        signal: ctx.signal,
      });
      this.log.note(`boot id before the deploy: ${this.bootBefore}`);
    } catch (error) {
      this.log.note(`cannot read the boot id (a reboot will not be waited for): ${describe(error)}`);
    }
  }

  /** Connects and ships what the host lacks; the session's time limits are the deploy's. */
  private open(statements: readonly string[]): Promise<OpenedHost> {
    const { ctx, host, log } = this;
    const { timeouts } = this.where;
    return ctx.open(host, {
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
        this.hostKey = key;
        this.progress.enter('Bundle transfer');
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
  }

  /** The installer runs: the dialog, the exit, the verdict. */
  private async runInstaller(session: HostSession): Promise<HostReport> {
    const { ctx, host, log } = this;
    if (ctx.signal.aborted) this.opened?.close();
    const shipped = session.shipped;
    if (shipped !== undefined) {
      log.note(
        `shipped: ${shipped.length === 0 ? 'nothing (the host had everything cached)' : shipped.join(', ')}; ${session.bytes.payload} bytes`,
      );
      ctx.emit({ type: 'shipped', host: host.name, artifacts: shipped, bytes: session.bytes.payload });
    }
    this.progress.enter('Installer start');
    const driverError = await this.converse(session);
    const { result, sessionError } = await this.awaitExit(session);
    const verdict = judgeSession({
      outcome: this.outcome,
      driverError,
      result,
      sessionError,
      stderr: result?.stderr ?? session.stderr,
      cancelled: ctx.signal.aborted,
      hostErrors: this.progress.hostErrors,
    });
    const b = session.bytes;
    return this.finish({
      result: verdict.result,
      stage: this.progress.reportedStage(verdict.installed),
      details: verdict.details,
      exitCode: result?.code ?? null,
      bytes: { command: b.command, payload: b.payload, dialog: b.dialog, total: b.command + b.payload + b.dialog },
      shipped,
      roundTrips: this.outcome?.roundTrips,
    });
  }

  /** Drives the dialog; returns why the engine could not, if it could not. */
  private async converse(session: HostSession): Promise<string | undefined> {
    const { ctx, log } = this;
    try {
      const instruments: DialogProgram = {
        ...this.progress.instruments,
        transcript: (direction, line) => log.transcript(direction, line),
        onHostLog: (lines) => log.hostLog(lines),
      };
      const base = baseProgram({
        values: this.plan.values,
        answers: this.host.answers,
        onLogFile: (path) => {
          this.hostLogFile = path;
          log.note(`the host logs to ${path}`);
        },
        dryRun: ctx.dryRun,
        onChanges: (list, diff) => {
          this.changes = { list, diff };
          log.note(`${ctx.dryRun ? 'would change' : 'changed'}: ${list.length === 0 ? 'nothing' : list.join('; ')}`);
        },
      });
      // The session's limits end a silent or endless dialog: its lines end, and the driver returns.
      this.outcome = await driveDialog(
        session,
        // The host runs the installer this deploy shipped: ours, which takes replies sent ahead.
        composePrograms([instruments, base, ...this.groupPrograms], { pipeline: true }),
      );
      return undefined;
    } catch (error) {
      session.end();
      return `the engine failed while driving the dialog: ${describe(error)}`;
    }
  }

  /** Waits for the host to exit after its dialog, killing it after a grace. */
  private async awaitExit(session: HostSession): Promise<{ result?: SessionResult; sessionError?: unknown }> {
    try {
      const result = await waitOrKill(session.done, () =>
        session.abort(
          new EngineError(
            'SSH_CLOSED',
            `${this.host.name} did not exit ${EXIT_GRACE_MS / 1000} s after its dialog ended; killed`,
            { host: this.host.name },
          ),
        ),
      );
      return { result };
    } catch (error) {
      return { sessionError: error };
    }
  }

  /** The groups conclude, a rebooting host is waited for, and the report is written. */
  private async finish(r: Finish): Promise<HostReport> {
    const { host, ctx, log } = this;
    let concluded = conclude(this.groupPrograms, this.outcome, r);
    if (concluded.result === 'reboot' && this.bootBefore !== undefined)
      concluded = await awaitReboot(host, { emit: ctx.emit, signal: ctx.signal, probe: ctx.bootId }, log, concluded, {
        before: this.bootBefore,
        rebootMs: this.where.timeouts.rebootMs,
        connectMs: this.where.timeouts.connectMs,
      });
    return buildReport(
      { host, address: this.where.address, started: this.where.started, log, emit: ctx.emit },
      {
        ...concluded,
        lastHandler: this.progress.reportedHandler(r.result === 'installed'),
        hostKey: this.hostKey,
        hostLogFile: this.hostLogFile,
        changes: this.changes,
      },
    );
  }
}
