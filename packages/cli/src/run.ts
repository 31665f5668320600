/**
 * The `otopi` run: environment statements, the dialog dialect, plugin groups, the plan,
 * the stages.
 *
 * The dialect (`DIALOG/dialect`, human by default) is chosen from the command line before
 * plugins load, so that every error from then on, a bad statement or a plugin group that
 * does not load included, is reported in it. In the machine dialect standard output
 * carries the protocol only and nothing is written to standard error: stray writes to
 * either go to the log.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AbortError,
  BaseEnv,
  CoreEnv,
  DialogEnv,
  HumanDialect,
  JsonEventWriter,
  MachineDialect,
  OtopiError,
  Runtime,
  applyListOp,
  colonList,
  formatPlanTable,
  importGroups,
  isOtopiError,
  locateGroups,
  parseStatementValue,
  planToJson,
  resolveConfigFiles,
  splitStatements,
  type StatementText,
} from '@otopi/core';
import { EXIT as CLI_EXIT, EXIT_FOR_ERROR } from './exit-codes.js';

export interface InstallerOptions {
  readonly statements: readonly string[];
  readonly configAppend: readonly string[];
  readonly dumpPlan?: string | undefined;
  readonly events?: string | undefined;
  readonly dryRun: boolean;
  readonly logLevel?: string | undefined;
}

const STRICT_KEYS = BaseEnv.strictKeys.key;

const EXIT = { ok: CLI_EXIT.ok, error: CLI_EXIT.failed } as const;

/** Folders searched for plugin groups when BASE/pluginPath is empty: the source tree, then a bundle. */
export function defaultPluginPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // A bundle keeps its plugins next to bin/; only outside a bundle look for the source tree's.
  const bundled = resolve(here, '../plugins');
  if (existsSync(bundled)) return bundled;
  const sourceTree = resolve(here, '../../../plugins');
  return existsSync(sourceTree) ? sourceTree : '';
}

export async function runInstaller(options: InstallerOptions): Promise<number> {
  const runtime = new Runtime();
  let statements: StatementText[] = [];
  let early: unknown;
  try {
    // Values are parsed only when their key is declared: whether a key is sensitive (and an
    // error must not repeat its value) is known only then.
    statements = splitStatements(options.statements);
    // Where to find plugins and how to talk must be known before the groups load; whether
    // undeclared keys are refused, before any other key.
    const first = statements.filter((s) => s.key.startsWith('BASE/') || s.key.startsWith('DIALOG/'));
    applyStatements(runtime, [
      ...first.filter((s) => s.key === STRICT_KEYS),
      ...first.filter((s) => s.key !== STRICT_KEYS),
    ]);
    if (runtime.env.get(BaseEnv.pluginPath) === '') runtime.env.set(BaseEnv.pluginPath, defaultPluginPath());
  } catch (error) {
    early = error;
  }
  const machine =
    early === undefined ? runtime.env.get(DialogEnv.dialect) === 'machine' : asksForMachine(options.statements);
  // `--events -` puts the events on standard output, so a person's dialog moves to standard error.
  const restoreStdio = openDialect(runtime, machine, !machine && options.events === '-');
  try {
    if (early !== undefined) return fail(runtime, early, options);
    return await run(runtime, options, statements, machine);
  } catch (error) {
    return fail(runtime, error, options);
  } finally {
    await runtime.dialog.terminate();
    restoreStdio();
  }
}

async function run(
  runtime: Runtime,
  options: InstallerOptions,
  statements: readonly StatementText[],
  machine: boolean,
): Promise<number> {
  try {
    const env = runtime.env;
    const locations = locateGroups(
      colonList(env.get(BaseEnv.pluginPath)),
      colonList(env.get(BaseEnv.pluginGroups)),
      env.get(BaseEnv.executionDirectory),
    );
    for (const { plugin, defaultName } of await importGroups(locations)) runtime.register(plugin, defaultName);
    void runtime.plan; // planning errors (cycles, duplicates, later-stage links) surface here
  } catch (error) {
    return fail(runtime, error, options);
  }

  try {
    applyStatements(
      runtime,
      statements.filter((s) => !s.key.startsWith('BASE/') && !s.key.startsWith('DIALOG/')),
    );
    const env = runtime.env;
    if (options.configAppend.length > 0) {
      const files = options.configAppend.map((f) => resolve(env.get(BaseEnv.executionDirectory), f));
      // An answer file named on the command line must exist: without its answers the run
      // would go on with defaults (otopi only warned).
      const missing = resolveConfigFiles({ main: '', append: files }).missing;
      if (missing.length > 0) {
        throw new OtopiError('CONFIG_MISSING', `answer file ${missing.join(', ')} does not exist (--config-append)`, {
          hint: 'Check the path; nothing was changed.',
        });
      }
      const old = env.get(CoreEnv.configFileAppend);
      env.set(CoreEnv.configFileAppend, [...(old === null ? [] : [old]), ...files].join(':'), {
        kind: 'cmdline',
        where: '--config-append',
      });
    }
    if (options.dryRun) env.set(CoreEnv.dryRun, true, { kind: 'cmdline', where: '--dry-run' });
    if (options.logLevel !== undefined)
      env.setExternal('CORE/logLevel', options.logLevel, { kind: 'cmdline', where: '--log-level' });
    if (options.dumpPlan !== undefined)
      env.setExternal('CORE/dumpPlan', options.dumpPlan, { kind: 'cmdline', where: '--dump-plan' });
    if (options.events !== undefined)
      env.set(CoreEnv.eventsFile, options.events, { kind: 'cmdline', where: '--events' });
  } catch (error) {
    return fail(runtime, error, options);
  }

  const dump = runtime.env.get(CoreEnv.dumpPlan);
  if (dump !== 'none') {
    const text =
      dump === 'json' ? `${JSON.stringify(planToJson(runtime.plan), null, 2)}\n` : formatPlanTable(runtime.plan);
    // In the machine dialect the plan travels as notes, like any other text.
    if (machine) runtime.dialog.note(text);
    else process.stdout.write(text);
    return EXIT.ok;
  }

  const eventsFile = runtime.env.get(CoreEnv.eventsFile);
  const events =
    eventsFile === null ? undefined : new JsonEventWriter(eventsFile, runtime.redactor, { dashFd: machine ? 2 : 1 });
  if (events !== undefined) runtime.on(events.listener);
  const onSignal = (signal: NodeJS.Signals): void => {
    if (runtime.env.get(BaseEnv.aborted)) process.exit(EXIT.error); // a second signal: leave now
    runtime.interrupt(signal);
    // A handler waiting for an answer would otherwise keep waiting.
    runtime.dialog.interrupt?.(new AbortError(`Interrupted by ${signal}`));
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

/** Whether the raw arguments ask for the machine dialect, for when they do not parse. */
function asksForMachine(args: readonly string[]): boolean {
  return args.some((a) => /(?:^|\s)DIALOG\/dialect=["']?str:["']?machine(?:["'\s]|$)/.test(a));
}

/**
 * Installs the dialect as the runtime's dialog. For the machine dialect, standard output
 * is kept for the protocol and stray writes to it or to standard error are logged
 * instead. Returns what undoes that.
 */
function openDialect(runtime: Runtime, machine: boolean, eventsOnStdout = false): () => void {
  const common = { env: runtime.env, redactor: runtime.redactor, log: runtime.log.child({ plugin: 'otopi.dialog' }) };
  if (!machine) {
    // A reader that goes away (`otopi ... | head`) must not kill the run half way: like otopi,
    // stop printing and go on; the log still has everything.
    let gone = false;
    const onError = (error: Error): void => {
      gone = true;
      runtime.log.debug({ console: false }, `console output failed, no longer printing: ${error.message}`);
    };
    const console = eventsOnStdout ? process.stderr : process.stdout;
    console.on('error', onError);
    const output = {
      write: (text: string): void => {
        if (!gone) console.write(text);
      },
      isTTY: console.isTTY,
    };
    runtime.dialog = new HumanDialect({ ...common, input: process.stdin, output });
    return () => console.off('error', onError);
  }
  const stdout = process.stdout;
  const write = stdout.write.bind(stdout);
  let broken = false;
  const onError = (error: Error): void => {
    // The manager closed its end (EPIPE): nobody hears us any more; stop like a hang-up.
    broken = true;
    runtime.log.debug({ console: false }, `dialog output failed: ${error.message}`);
    runtime.interrupt('SIGPIPE');
    runtime.dialog.interrupt?.(new AbortError('The manager closed the dialog'));
  };
  stdout.on('error', onError);
  runtime.dialog = new MachineDialect({
    ...common,
    input: process.stdin,
    write: (text) => {
      if (!broken) write(text);
    },
  });
  // Node would print an uncaught error to stderr and exit; report it in the protocol instead.
  const onFatal = (error: unknown): void => {
    reportError(runtime, error);
    void runtime.dialog.terminate();
    process.exit(EXIT.error);
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  const undo = [divert(stdout, 'stdout', runtime), divert(process.stderr, 'stderr', runtime)];
  return () => {
    for (const u of undo) u();
    stdout.off('error', onError);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
  };
}

/** Replaces a stream's `write` with one that logs the text at debug level. */
function divert(stream: NodeJS.WriteStream, label: string, runtime: Runtime): () => void {
  const original = stream.write;
  const logged = (chunk: unknown, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
    runtime.log.debug({ console: false }, `${label}: ${text.replace(/\n$/, '')}`);
    const callback = rest.find((r): r is () => void => typeof r === 'function');
    if (callback !== undefined) process.nextTick(callback);
    return true;
  };
  stream.write = logged as typeof stream.write;
  return () => {
    stream.write = original;
  };
}

/**
 * Reports an error met before the run started. The run's events never began, so when events
 * were asked for, one `run-end` event says how it ended and with which code.
 */
function fail(runtime: Runtime, error: unknown, options: Pick<InstallerOptions, 'events'>): number {
  reportError(runtime, error);
  const exitCode = isOtopiError(error) ? EXIT_FOR_ERROR[error.code] : EXIT.error;
  const target = options.events ?? eventsFileSet(runtime);
  if (target !== undefined) {
    try {
      const writer = new JsonEventWriter(target, runtime.redactor);
      writer.listener({
        type: 'run-end',
        exitCode,
        error: true,
        aborted: false,
        durationMs: 0,
        failure: {
          code: isOtopiError(error) ? error.code : 'INTERNAL',
          message: error instanceof Error ? error.message : String(error),
        },
      });
      writer.close();
    } catch (writeError) {
      runtime.log.debug({ console: false }, `the events file could not be written: ${String(writeError)}`);
    }
  }
  return exitCode;
}

function eventsFileSet(runtime: Runtime): string | undefined {
  try {
    return runtime.env.get(CoreEnv.eventsFile) ?? undefined;
  } catch {
    return undefined; // not declared yet
  }
}

function applyStatements(runtime: Runtime, statements: readonly StatementText[]): void {
  for (const text of statements) {
    const s = parseStatementValue(text, runtime.env.isSensitive(text.key));
    const value = s.op === 'set' ? s.value : applyListOp(runtime.env.getRaw(s.key) as never, s.op, s.value, s.key);
    runtime.env.setExternal(s.key, value, { kind: 'cmdline', where: s.source });
  }
}

/** One clear line (plus a hint) in the dialect; the stack goes to the log (and to stderr when debugging a human run). */
function reportError(runtime: Runtime, error: unknown): void {
  const dialog = runtime.dialog;
  const text = isOtopiError(error)
    ? `${error.location}${error.message}`
    : `Internal error: ${error instanceof Error ? error.message : String(error)}`;
  dialog.log({ level: 'ERROR', message: runtime.redactor.redact(text) });
  if (isOtopiError(error) && error.hint !== undefined) dialog.note(runtime.redactor.redact(error.hint));
  runtime.log.debug({ err: error, console: false }, 'error details');
  const debug = runtime.env.get(BaseEnv.debug);
  if (debug > 0 && error instanceof Error && error.stack !== undefined)
    process.stderr.write(`${runtime.redactor.redact(error.stack)}\n`);
}
