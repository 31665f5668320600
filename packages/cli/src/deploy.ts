/**
 * `otopi deploy`: the manager's front end. Reads an inventory, picks the bundle, deploys to
 * many hosts at once over SSH (`deployMany`), shows progress, writes a JSON event stream when
 * asked, and ends with a summary table. Imported only when `otopi deploy` is run, so the
 * host-side command never loads yargs, ssh2 or the engine.
 *
 * Exit codes: 0 every host installed; 1 a host failed or aborted; 2 nothing was deployed
 * (inventory, answer file, bundle or CA problem, a likely typo of a key in the inventory or
 * answer file); 3 none failed, but a host is incomplete
 * (needs a manual step) or reboots to finish; 64 usage error (a likely typo of a key on the
 * command line included); 130 interrupted twice.
 *
 * A run goes through named steps: `readCommandLine` (help, usage errors, the groups and their
 * options), `prepareDeploy` (settings, inventory, passphrases, the key check, the bundle, the
 * groups' programs: nothing is contacted until it is done), `runDeploy` (the hosts, with
 * progress, events and interrupts) and `exitCodeOf` (the report); `failureExitCode` turns what
 * stopped it into an exit code.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  deployMany,
  isEngineError,
  limitHosts,
  loadInventory,
  parseSettings,
  readAnswerFile,
  resolveBundle,
  type BundleChoice,
  type DeployEvent,
  type DeployProgramFactory,
  type DeployReport,
  type EnvSetting,
  type InventoryHost,
} from '@otopi/engine';
import { normalizeArgv, parseArguments, UsageError } from './deploy-args.js';
import { findGroupDirs, groupFolders, sourceRoot } from './deploy-groups.js';
import { checkKeysBeforeConnecting } from './deploy-keys.js';
import { askPassphrases, PassphraseCancelled } from './deploy-passphrase.js';
import { createProgress, type ProgressMode } from './deploy-progress.js';
import { deployPrograms, mgmtSettings, type MgmtSettings } from './deploy-programs.js';
import { writeRetry } from './deploy-retry.js';
import { formatHostList, formatSummary } from './deploy-summary.js';
import { WarningFold } from './deploy-warnings.js';
import { EXIT } from './exit-codes.js';

export const DEPLOY_EXIT = {
  ok: EXIT.ok,
  hostFailed: EXIT.failed,
  notDeployed: EXIT.notRun,
  unfinished: EXIT.incomplete,
  usage: EXIT.usage,
  interrupted: EXIT.interrupted,
} as const;

type Args = Awaited<ReturnType<ReturnType<typeof parseArguments>['parseAsync']>>;

/** What the command line asks for, once read and checked. */
interface CommandLine {
  readonly argv: readonly string[];
  readonly args: Args;
  /** The groups besides the base group. */
  readonly groups: readonly string[];
  readonly mgmt: MgmtSettings;
  /** The JSON events go to standard output, the rest to standard error. */
  readonly toJson: boolean;
  readonly human: NodeJS.WriteStream;
  readonly mode: ProgressMode;
  /** The source tree this CLI was built in. */
  readonly root: string | undefined;
}

/** Everything the deploy needs, read and checked before any host is contacted. */
interface PreparedDeploy {
  readonly hosts: readonly InventoryHost[];
  readonly defaults: readonly EnvSetting[];
  readonly overrides: readonly EnvSetting[];
  readonly bundle: BundleChoice;
  readonly programs: Readonly<Record<string, DeployProgramFactory>>;
}

/** What a run leaves to clean up, whatever step it stops at. */
interface Leftovers {
  buildDir?: string;
  eventsFd?: number;
}

const usage = (message: string): number => {
  process.stderr.write(`otopi deploy: ${message}\nTry 'otopi deploy --help'.\n`);
  return DEPLOY_EXIT.usage;
};

/** Step 1: the options, the help, the groups and their options; an exit code when the run ends here. */
async function readCommandLine(argv: readonly string[]): Promise<CommandLine | number> {
  let args: Args;
  let helpShown = false;
  try {
    const joined = normalizeArgv(argv);
    const parser = parseArguments(joined);
    args = await parser.parseAsync(joined, {}, (_error, _argv, output) => {
      if (output !== '') {
        helpShown = true;
        process.stdout.write(`${output}\n`);
      }
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  if (helpShown || args.help === true) return DEPLOY_EXIT.ok;

  const toJson = args.events === '-';
  const human = toJson ? process.stderr : process.stdout;
  const mode: ProgressMode =
    args.progress === 'auto' ? (human.isTTY ? 'tty' : 'plain') : (args.progress as ProgressMode);
  // Repeated, yargs gives a list; `array: true` would swallow the statements after it.
  const groupArgs: unknown = args.group;
  const groups = (Array.isArray(groupArgs) ? groupArgs.map(String) : typeof groupArgs === 'string' ? [groupArgs] : [])
    .flatMap((g) => g.split(','))
    .map((g) => g.trim())
    .filter((g) => g !== '' && g !== 'otopi');
  const mgmt = mgmtSettings(
    { action: args['mgmt-action'], packages: args['mgmt-packages'], newKey: args['mgmt-new-key'] },
    groups,
  );
  if (typeof mgmt === 'string') return usage(mgmt);
  return { argv, args, groups, mgmt, toJson, human, mode, root: sourceRoot() };
}

/**
 * Step 2: the settings, the inventory (and `--list-hosts`), the passphrases, the key check, the
 * bundle and the groups' programs. Nothing is contacted; an exit code when the run ends here.
 */
async function prepareDeploy(cli: CommandLine, leftovers: Leftovers): Promise<PreparedDeploy | number> {
  const { args, groups, human, root } = cli;
  let overrides: EnvSetting[];
  try {
    overrides = parseSettings(args._.map(String));
  } catch (error) {
    process.stderr.write(
      `otopi deploy: ${(error as Error).message}\n${isEngineError(error) && error.hint ? `  ${error.hint}\n` : ''}`,
    );
    return DEPLOY_EXIT.usage;
  }
  const inventory = loadInventory(args.inventory, {
    acceptNewHostKeys: args['accept-new-host-keys'],
    ...(args['ssh-config'] === undefined ? {} : { sshConfig: args['ssh-config'] }),
  });
  const chosen = args.limit === undefined ? inventory.hosts : limitHosts(inventory, [args.limit]);
  if (args['list-hosts']) {
    process.stdout.write(formatHostList(chosen, inventory.groups));
    return DEPLOY_EXIT.ok;
  }
  const hosts = await askPassphrases(chosen, { input: process.stdin, output: process.stderr });
  const defaults = args.answers === undefined ? [] : readAnswerFile(args.answers);
  // The hosts refuse such keys too: BASE/ settings go on the installer's command line.
  if (args['strict-keys']) overrides.push({ op: 'set', key: 'BASE/strictKeys', value: true, source: '--strict-keys' });

  // Likely typos of the deployed groups' keys are refused here, before any host is contacted.
  const refused = await checkKeysBeforeConnecting({
    groups,
    root,
    groupDirs: findGroupDirs(['otopi', ...groups], args['plugin-path'], root),
    commandLine: overrides,
    files: [...defaults, ...hosts.flatMap((h) => h.environment)],
    strict: args['strict-keys'],
    write: (text) => human.write(text),
  });
  if (refused !== undefined) return refused === 'commandLine' ? DEPLOY_EXIT.usage : DEPLOY_EXIT.notDeployed;

  if (args.bundle === undefined && root === undefined) {
    throw new UsageError('no bundle folder: give it with --bundle (the folder npm run bundle writes)');
  }
  leftovers.buildDir = mkdtempSync(join(tmpdir(), 'otopi-deploy-bundle-'));
  const bundle = await resolveBundle({
    dir: resolve(args.bundle ?? join(root!, 'bundle', 'dist')),
    root: args.bundle === undefined ? root : undefined,
    groups,
    groupDirs: findGroupDirs(groups, args['plugin-path'], root),
    buildDir: leftovers.buildDir,
  });
  for (const note of bundle.notes) human.write(`note: ${note}\n`);

  const programs = await deployPrograms({
    groups,
    folders: groupFolders(groups, args['plugin-path'], root),
    hosts,
    mgmt: cli.mgmt,
    caDir: args['ca-dir'] === undefined ? undefined : resolve(args['ca-dir']),
    idRegistryFile: args['vdsm-id-registry'] === undefined ? undefined : resolve(args['vdsm-id-registry']),
    note: (text) => human.write(`note: ${text}\n`),
  });
  return { hosts, defaults, overrides, bundle, programs };
}

/** Runs `work` with SIGINT/SIGTERM closing the connections, and a second one leaving at once. */
async function withInterrupts<T>(
  human: NodeJS.WriteStream,
  closeProgress: () => void,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) {
      closeProgress();
      process.stderr.write(
        `otopi deploy: ${signal} again: leaving now; hosts still running will notice the closed connections\n`,
      );
      process.exit(DEPLOY_EXIT.interrupted);
    }
    human.write(`\n${signal}: closing the connections; running hosts roll back (again to leave at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Step 3: the hosts, with progress, the event stream and interrupts; then the summary. */
async function runDeploy(cli: CommandLine, ready: PreparedDeploy, leftovers: Leftovers): Promise<DeployReport> {
  const { args, human, toJson } = cli;
  if (args.events !== undefined && !toJson) leftovers.eventsFd = openSync(args.events, 'w', 0o600);
  const writeEvent = (event: DeployEvent): void => {
    const line = `${JSON.stringify(event)}\n`;
    if (toJson) process.stdout.write(line);
    else if (leftovers.eventsFd !== undefined) writeSync(leftovers.eventsFd, line);
  };
  const warnings = new WarningFold();
  const progress = createProgress(cli.mode, human, { verbosity: args.verbose, warnings });
  const report = await withInterrupts(
    human,
    () => progress.close(),
    (signal) =>
      deployMany({
        hosts: ready.hosts,
        bundle: ready.bundle.bundle,
        runtime: ready.bundle.runtime,
        preferRuntime: args['prefer-runtime'],
        groups: cli.groups,
        dryRun: args['dry-run'],
        defaults: ready.defaults,
        overrides: ready.overrides,
        parallel: args.parallel,
        connectRetries: args['connect-retries'],
        programs: ready.programs,
        logDir: args['log-dir'],
        timeouts: {
          connectMs: args['connect-timeout'] * 1000,
          inactivityMs: args['inactivity-timeout'] * 1000,
          hardMs: args['hard-timeout'] * 1000,
          rebootMs: args['reboot-timeout'] * 1000,
        },
        signal,
        ...(args['correlation-id'] === undefined ? {} : { correlationId: args['correlation-id'] }),
        onEvent: (event) => {
          progress.event(event);
          writeEvent(event);
        },
      }),
  );
  progress.close();
  human.write(`\n${formatSummary(report, { dryRun: args['dry-run'], warnings: warnings.lines() })}`);
  for (const line of writeRetry(report, args.inventory, cli.argv)) human.write(`${line}\n`);
  return report;
}

/** Step 4: 0 all installed; 3 none failed but some are incomplete or reboot; else 1. */
function exitCodeOf(report: DeployReport): number {
  if (report.ok) return DEPLOY_EXIT.ok;
  const unfinished = report.counts.incomplete + report.counts.reboot;
  return unfinished > 0 && unfinished === report.hosts.length - report.counts.installed
    ? DEPLOY_EXIT.unfinished
    : DEPLOY_EXIT.hostFailed;
}

/** What stopped the run before or while deploying, shown, as an exit code; anything else is rethrown. */
function failureExitCode(error: unknown): number {
  if (error instanceof UsageError) return usage(error.message);
  if (error instanceof PassphraseCancelled) {
    process.stderr.write(`otopi deploy: nothing deployed: ${error.message}\n`);
    return DEPLOY_EXIT.notDeployed;
  }
  if (!isEngineError(error)) throw error;
  process.stderr.write(
    `otopi deploy: ${error.code}: ${error.message}\n${error.hint === undefined ? '' : `  ${error.hint}\n`}`,
  );
  return error.code === 'USAGE' ? DEPLOY_EXIT.usage : DEPLOY_EXIT.notDeployed;
}

export async function deploy(argv: readonly string[]): Promise<number> {
  const cli = await readCommandLine(argv);
  if (typeof cli === 'number') return cli;
  const leftovers: Leftovers = {};
  try {
    const ready = await prepareDeploy(cli, leftovers);
    if (typeof ready === 'number') return ready;
    return exitCodeOf(await runDeploy(cli, ready, leftovers));
  } catch (error) {
    return failureExitCode(error);
  } finally {
    if (leftovers.eventsFd !== undefined) closeSync(leftovers.eventsFd);
    if (leftovers.buildDir !== undefined) rmSync(leftovers.buildDir, { recursive: true, force: true });
  }
}
