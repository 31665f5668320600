/**
 * The `otopi` run: environment statements, plugin groups, the plan, the stages.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BaseEnv,
  ConsoleDialog,
  CoreEnv,
  JsonEventWriter,
  Runtime,
  applyListOp,
  colonList,
  formatPlanTable,
  importGroups,
  isOtopiError,
  locateGroups,
  parseStatements,
  planToJson,
  type Statement,
} from '@otopi/core';

export interface InstallerOptions {
  readonly statements: readonly string[];
  readonly configAppend: readonly string[];
  readonly dumpPlan?: string | undefined;
  readonly events?: string | undefined;
  readonly dryRun: boolean;
  readonly logLevel?: string | undefined;
}

export const EXIT = { ok: 0, error: 1, pluginLoad: 2 } as const;

export function usage(message: string): number {
  process.stderr.write(`otopi: ${message}\nTry 'otopi --help'.\n`);
  return EXIT.error;
}

/** Folders searched for plugin groups when BASE/pluginPath is empty: the source tree, then a bundle. */
export function defaultPluginPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return [resolve(here, '../../../plugins'), resolve(here, '../plugins')].filter((p) => existsSync(p)).join(':');
}

export async function runInstaller(options: InstallerOptions): Promise<number> {
  const dialog = new ConsoleDialog(process.stdout);
  const runtime = new Runtime({ dialog });
  const fail = (error: unknown): number => {
    const code = isOtopiError(error) && error.code.startsWith('PLUGIN_') ? EXIT.pluginLoad : EXIT.error;
    reportError(dialog, runtime, error);
    return code;
  };

  let statements: Statement[];
  try {
    statements = parseStatements(options.statements);
    // Where to find plugins must be known before the groups that declare other keys load.
    applyStatements(runtime, statements.filter((s) => s.key.startsWith('BASE/')));
    if (runtime.env.get(BaseEnv.pluginPath) === '') runtime.env.set(BaseEnv.pluginPath, defaultPluginPath());
  } catch (error) {
    return fail(error);
  }

  try {
    const env = runtime.env;
    const locations = locateGroups(colonList(env.get(BaseEnv.pluginPath)), colonList(env.get(BaseEnv.pluginGroups)), env.get(BaseEnv.executionDirectory));
    for (const { plugin, defaultName } of await importGroups(locations)) runtime.register(plugin, defaultName);
    void runtime.plan; // planning errors (cycles, duplicates, later-stage links) surface here
  } catch (error) {
    return fail(error);
  }

  try {
    applyStatements(runtime, statements.filter((s) => !s.key.startsWith('BASE/')));
    const env = runtime.env;
    if (options.configAppend.length > 0) {
      const files = options.configAppend.map((f) => resolve(env.get(BaseEnv.executionDirectory), f));
      const old = env.get(CoreEnv.configFileAppend);
      env.set(CoreEnv.configFileAppend, [...(old === null ? [] : [old]), ...files].join(':'), { kind: 'cmdline', where: '--config-append' });
    }
    if (options.dryRun) env.set(CoreEnv.dryRun, true, { kind: 'cmdline', where: '--dry-run' });
    if (options.logLevel !== undefined) env.setExternal('CORE/logLevel', options.logLevel, { kind: 'cmdline', where: '--log-level' });
    if (options.dumpPlan !== undefined) env.setExternal('CORE/dumpPlan', options.dumpPlan, { kind: 'cmdline', where: '--dump-plan' });
    if (options.events !== undefined) env.set(CoreEnv.eventsFile, options.events, { kind: 'cmdline', where: '--events' });
  } catch (error) {
    return fail(error);
  }

  const dump = runtime.env.get(CoreEnv.dumpPlan);
  if (dump !== 'none') {
    process.stdout.write(dump === 'json' ? `${JSON.stringify(planToJson(runtime.plan), null, 2)}\n` : formatPlanTable(runtime.plan));
    return EXIT.ok;
  }

  const eventsFile = runtime.env.get(CoreEnv.eventsFile);
  const events = eventsFile === null ? undefined : new JsonEventWriter(eventsFile, runtime.redactor);
  if (events !== undefined) runtime.on(events.listener);
  const onSignal = (signal: NodeJS.Signals): void => {
    if (runtime.env.get(BaseEnv.aborted)) process.exit(EXIT.error); // a second signal: leave now
    runtime.interrupt(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    // Errors met during the run were shown as they happened, with their hints.
    return await runtime.run();
  } finally {
    for (const s of signals) process.off(s, onSignal);
    events?.close();
  }
}

function applyStatements(runtime: Runtime, statements: readonly Statement[]): void {
  for (const s of statements) {
    const value = s.op === 'set' ? s.value : applyListOp(runtime.env.getRaw(s.key) as never, s.op, s.value, s.key);
    runtime.env.setExternal(s.key, value, { kind: 'cmdline', where: s.source });
  }
}

/** One clear line (plus a hint) for the user; the stack goes to the log only. */
function reportError(dialog: ConsoleDialog, runtime: Runtime, error: unknown): void {
  const message = runtime.redactor.redact(
    isOtopiError(error) ? `${error.location}${error.message}` : error instanceof Error ? error.message : String(error),
  );
  dialog.log({ level: 'ERROR', message });
  if (isOtopiError(error) && error.hint !== undefined) dialog.note(runtime.redactor.redact(error.hint));
  runtime.log.debug({ err: error, console: false }, 'error details');
  const debug = runtime.env.get(BaseEnv.debug);
  if (debug > 0 && error instanceof Error && error.stack !== undefined) process.stderr.write(`${runtime.redactor.redact(error.stack)}\n`);
}
