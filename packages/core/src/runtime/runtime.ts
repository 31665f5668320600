/**
 * The runner: registers plugins, plans once, then walks the 18 stages with otopi's error
 * flow. After an error only the stages that always run (init, cleanup, pre_terminate,
 * terminate) still run, and in a success-only stage the remaining handlers are skipped.
 */
import { AbortError, OtopiError, errorMessage, handlerError, isOtopiError } from '../errors.js';
import type { Dialog } from '../dialog/types.js';
import { isEnvFamily, keysOf } from '../env/declare.js';
import { Environment } from '../env/environment.js';
import { RunLog, setCurrentHandlerLog, type ConsoleRecord, type Logger } from '../log/logger.js';
import { Redactor } from '../log/redact.js';
import { isPlugin, type HandlerContext, type HandlerSpec, type Plugin } from '../plugin/define.js';
import { buildPlan, type HandlerNode, type Plan } from '../sequence/plan.js';
import { Priority, STAGE_INFO, STAGES, type Stage } from '../sequence/stages.js';
import { Transaction } from '../transaction/transaction.js';
import { setChangeTarget } from './changes.js';
import { EVENTS_SCHEMA_VERSION, type HandlerResult, type RunEvent, type RunEventListener } from './events.js';
import { BaseEnv, CoreEnv } from './keys.js';
import { ProviderRegistry } from './providers.js';
import { NullDialog } from '../dialog/null-dialog.js';
import { builtinPlugins } from './builtins.js';
import { undeclaredKeyWarning } from './undeclared-keys.js';
import type { RuntimeView } from './view.js';

export interface PlannedHandler extends HandlerNode {
  readonly spec: HandlerSpec;
  readonly log: Logger;
}

export interface RuntimeOptions {
  readonly env?: Environment;
  readonly dialog?: Dialog;
  /** Extra listeners for run events (the JSON writer, a progress display). */
  readonly listeners?: readonly RunEventListener[];
}

export class Runtime implements RuntimeView {
  readonly env: Environment;
  readonly providers = new ProviderRegistry();
  readonly redactor: Redactor;
  readonly runLog: RunLog;
  readonly log: Logger;
  readonly mainTransaction: Transaction;
  readonly internalTransaction: Transaction;
  private dialog_: Dialog;
  /** Warnings met before a dialog was attached (a command-line key), shown once one is. */
  private early: ConsoleRecord[] | undefined;
  private readonly handlers: PlannedHandler[] = [];
  private readonly plugins = new Set<string>();
  private readonly listeners: RunEventListener[];
  private readonly exitCodes: { code: number; priority: number }[] = [];
  private plan_: Plan<PlannedHandler> | undefined;
  private firstError: unknown;
  private signalled: NodeJS.Signals | undefined;

  constructor(options: RuntimeOptions = {}) {
    this.env = options.env ?? new Environment();
    this.env.declare(keysOf(BaseEnv));
    this.env.declare(keysOf(CoreEnv));
    this.redactor = new Redactor({
      secrets: () => this.env.secrets(),
      protectedNames: () => this.env.keys(),
    });
    this.dialog_ = options.dialog ?? new NullDialog();
    if (options.dialog === undefined) this.early = [];
    this.runLog = new RunLog({
      redactor: this.redactor,
      console: (r) => this.dialog_.log(r),
      context: () => logContext(this.env),
    });
    this.log = this.runLog.logger;
    this.env.onUndeclaredKey = (notice, source) => {
      const text = undeclaredKeyWarning(this.env, notice, source);
      this.log.warn({ console: this.early === undefined }, text);
      this.early?.push({ level: 'WARNING', message: this.redactor.redact(text) });
    };
    this.listeners = [...(options.listeners ?? [])];
    this.mainTransaction = new Transaction({ log: this.log.child({ plugin: 'otopi.core.transaction' }) });
    this.internalTransaction = new Transaction({ log: this.log.child({ plugin: 'otopi.core.transaction' }) });
    for (const plugin of builtinPlugins(this)) this.register(plugin);
  }

  /** Where questions, notes and console log records go; attaching one shows the warnings met before. */
  get dialog(): Dialog {
    return this.dialog_;
  }

  set dialog(dialog: Dialog) {
    this.dialog_ = dialog;
    const early = this.early ?? [];
    this.early = undefined;
    for (const record of early) dialog.log(record);
  }

  /** Adds a plugin: declares its environment and collects its handlers. */
  register(plugin: Plugin, defaultName?: string): void {
    if (!isPlugin(plugin)) throw new OtopiError('PLUGIN_INVALID', 'not a plugin (use definePlugin)');
    const name = plugin.name ?? defaultName;
    if (name === undefined || name.length === 0) throw new OtopiError('PLUGIN_INVALID', 'a plugin needs a name');
    if (this.plugins.has(name)) throw new OtopiError('PLUGIN_INVALID', `plugin '${name}' is registered twice`);
    this.plugins.add(name);
    for (const declared of plugin.env ?? []) {
      if (isEnvFamily(declared)) this.env.declareFamily(declared);
      else this.env.declare(keysOf(declared));
    }
    const pluginLog = this.log.child({ plugin: name });
    plugin.setup({
      name,
      on: (spec) => {
        const full = `${name}.${spec.name}`;
        this.handlers.push({
          name: full,
          plugin: name,
          stage: spec.stage,
          priority: spec.priority ?? Priority.DEFAULT,
          before: toList(spec.before),
          after: toList(spec.after),
          spec,
          log: pluginLog.child({ handler: spec.name, stage: spec.stage }),
        });
      },
    });
    this.plan_ = undefined;
  }

  on(listener: RunEventListener): void {
    this.listeners.push(listener);
  }

  /** The plan, built on first use; planning errors are thrown as coded errors. */
  get plan(): Plan<PlannedHandler> {
    this.plan_ ??= buildPlan(this.handlers, { ignoreMissingReferences: true });
    return this.plan_;
  }

  setExitCode(code: number, priority: number = Priority.DEFAULT): void {
    this.exitCodes.push({ code, priority });
  }

  /** Stops the run as an abort after the running handler; cleanup stages still run. */
  interrupt(signal: NodeJS.Signals): void {
    this.signalled ??= signal;
  }

  async run(): Promise<number> {
    const started = performance.now();
    const plan = this.plan;
    setChangeTarget(this.env);
    this.emit({ type: 'run-start', schemaVersion: EVENTS_SCHEMA_VERSION, handlers: plan.handlers.length });
    for (const stage of STAGES) {
      const info = STAGE_INFO[stage];
      if (info.onlyOnSuccess && this.failed) {
        this.emit({ type: 'stage-skip', stage });
        continue;
      }
      const stageStart = performance.now();
      this.log.info({ console: stage !== 'boot' }, `Stage: ${info.description}`);
      this.log.debug(`STAGE ${stage}`);
      this.emit({ type: 'stage-start', stage, description: info.description });
      for (const handler of plan.handlers) {
        if (handler.stage !== stage) continue;
        if (info.onlyOnSuccess && this.failed) break;
        await this.runHandler(handler, stage);
      }
      this.emit({ type: 'stage-end', stage, durationMs: Math.round(performance.now() - stageStart) });
    }
    setChangeTarget(undefined);
    const exitCode = this.exitCode();
    this.emit({
      type: 'run-end',
      exitCode,
      error: this.env.get(BaseEnv.error),
      aborted: this.env.get(BaseEnv.aborted),
      durationMs: Math.round(performance.now() - started),
    });
    return exitCode;
  }

  /** The first error of the run, if any. */
  get error(): unknown {
    return this.firstError;
  }

  get failed(): boolean {
    return this.env.get(BaseEnv.error);
  }

  /**
   * Marks the run failed (or aborted) and aborts the open transactions right away. A failure
   * is reported with its stage and the handler it happened in.
   */
  async fail(error: unknown, stage: Stage, handler?: string): Promise<HandlerResult> {
    this.firstError ??= error;
    const aborted = isOtopiError(error, 'ABORTED');
    const message = isOtopiError(error) ? `${error.location}${error.message}` : errorMessage(error);
    const hint = isOtopiError(error) && error.hint !== undefined ? `\n${error.hint}` : '';
    this.env.set(BaseEnv.error, true);
    this.env.set(BaseEnv.errorMessages, [...this.env.get(BaseEnv.errorMessages), this.redactor.redact(message)]);
    if (aborted) {
      this.env.set(BaseEnv.aborted, true);
      this.log.warn(`Aborted: ${message}${hint}`);
    } else {
      const where = handler === undefined ? '' : ` in ${handler}`;
      this.log.error(`Failed to execute stage '${STAGE_INFO[stage].description}'${where}: ${message}${hint}`);
    }
    this.log.debug({ err: error, handler }, 'exception');
    for (const t of [this.internalTransaction, this.mainTransaction]) await t.abort();
    return aborted ? 'aborted' : 'failed';
  }

  private async runHandler(handler: PlannedHandler, stage: Stage): Promise<void> {
    const ctx = this.contextFor(handler, stage);
    const start = performance.now();
    this.emit({ type: 'handler-start', stage, handler: handler.name });
    // A signal or a manager that hung up (EPIPE on the dialog) is reported by an event on a
    // later turn of the event loop; let it arrive, so a run whose manager is gone stops here
    // instead of going on to commit.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let result: HandlerResult = 'ok';
    let failure: unknown;
    if (this.signalled !== undefined && !this.failed) {
      failure = new AbortError(`Interrupted by ${this.signalled}`);
      result = await this.fail(failure, stage, handler.name);
    }
    if (!(this.failed && STAGE_INFO[stage].onlyOnSuccess)) {
      setCurrentHandlerLog(handler.log);
      try {
        this.log.debug(`Stage ${stage} METHOD ${handler.name}`);
        const enabled = handler.spec.condition === undefined ? true : await handler.spec.condition(ctx);
        if (!enabled) {
          if (failure === undefined) result = 'skipped';
          this.log.debug(`condition False: ${handler.name}`);
        } else {
          await handler.spec.run(ctx);
        }
      } catch (thrown) {
        const error = handlerError(thrown, { plugin: handler.plugin, handler: handler.name, stage });
        failure ??= error;
        result = await this.fail(error, stage, handler.name);
      } finally {
        setCurrentHandlerLog(undefined);
      }
    }
    if (this.signalled !== undefined && !this.failed) {
      failure = new AbortError(`Interrupted by ${this.signalled}`);
      result = await this.fail(failure, stage, handler.name);
    }
    this.logChanges();
    this.emit({
      type: 'handler-end',
      stage,
      handler: handler.name,
      result,
      durationMs: Math.round(performance.now() - start),
      ...(failure === undefined
        ? {}
        : {
            error: {
              code: isOtopiError(failure) ? failure.code : 'HANDLER_FAILED',
              message: this.redactor.redact(errorMessage(failure)),
            },
          }),
    });
  }

  private contextFor(handler: PlannedHandler, stage: Stage): HandlerContext {
    return {
      env: this.env,
      log: handler.log,
      dialog: this.dialog,
      stage,
      handler: handler.name,
      providers: this.providers,
      transaction: this.mainTransaction,
      internalTransaction: this.internalTransaction,
      dryRun: this.env.get(CoreEnv.dryRun),
      setExitCode: (code, priority) => this.setExitCode(code, priority),
    };
  }

  private logChanges(): void {
    const changed = this.env.takeChanges();
    if (changed.length === 0) return;
    this.log.debug(`ENV ${changed.map((k) => `${k}=${this.env.render(k)}`).join('\n')}`);
  }

  private exitCode(): number {
    const chosen = [...this.exitCodes].sort((a, b) => a.priority - b.priority)[0]?.code ?? 0;
    return this.failed ? Math.max(chosen, 1) : chosen;
  }

  private emit(event: RunEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

function toList(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

/**
 * The fields `CORE/logContextKeys` adds to every log line: each named key that holds a value,
 * as `<last part of the key name>=<value>`. Sensitive keys are left out.
 */
function logContext(env: Environment): Record<string, string> {
  const names = env.getRaw(CoreEnv.logContextKeys.key);
  if (!Array.isArray(names) || names.length === 0) return {};
  const out: Record<string, string> = {};
  for (const name of names as string[]) {
    const value = env.getRaw(name);
    if (value === null || value === undefined || value === '' || env.isSensitive(name)) continue;
    out[name.slice(name.lastIndexOf('/') + 1)] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}
