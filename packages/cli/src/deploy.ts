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
 */
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_PARALLEL,
  deployMany,
  isEngineError,
  limitHosts,
  loadInventory,
  parseSettings,
  readAnswerFile,
  resolveBundle,
  type DeployEvent,
  type EnvSetting,
} from '@otopi/engine';
import yargs from 'yargs';
import { askPassphrases, PassphraseCancelled } from './deploy-passphrase.js';
import { checkKeysBeforeConnecting } from './deploy-keys.js';
import { createProgress, type ProgressMode } from './deploy-progress.js';
import { deployPrograms, mgmtSettings, withGroupOptions } from './deploy-programs.js';
import { formatSummary } from './deploy-summary.js';

export const DEPLOY_EXIT = {
  ok: 0,
  hostFailed: 1,
  notDeployed: 2,
  unfinished: 3,
  usage: 64,
  interrupted: 130,
} as const;

class UsageError extends Error {}

/** The source tree this CLI was built in (`<root>/packages/cli/{src,dist/manager}`), when it is one. */
function sourceRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    dir = dirname(dir);
    if (existsSync(join(dir, 'bundle', 'launcher.sh')) && existsSync(join(dir, 'packages', 'cli'))) return dir;
  }
  return undefined;
}

/** `--plugin-path` folders searched for `<folder>/<group>`, for groups outside `plugins/<group>/dist`. */
function findGroupDirs(
  groups: readonly string[],
  pluginPath: string | undefined,
  root: string | undefined,
): Record<string, string> {
  const dirs: Record<string, string> = {};
  const folders = (pluginPath ?? '').split(delimiter).filter((d) => d !== '');
  for (const group of groups) {
    if (root !== undefined && existsSync(join(root, 'plugins', group, 'dist'))) continue;
    const found = folders.map((f) => resolve(f, group)).find((d) => existsSync(d));
    if (found !== undefined) dirs[group] = found;
  }
  return dirs;
}

function parseArguments(argv: readonly string[]) {
  const common = yargs([...argv])
    .scriptName('otopi deploy')
    .usage(
      'Usage: otopi deploy --inventory FILE [options] [KEY=type:value ...]\n\n' +
        'Deploys the plugin groups to every host of the inventory over SSH, several at a time.\n' +
        'KEY=type:value statements are set on every host (after its inventory settings).',
    )
    .parserConfiguration({
      'parse-positional-numbers': false,
      'camel-case-expansion': false,
      'short-option-groups': false,
    })
    .option('inventory', {
      alias: 'i',
      type: 'string',
      demandOption: true,
      describe: 'inventory file (docs/deploy.md)',
    })
    .option('group', {
      alias: 'g',
      type: 'string',
      describe: 'plugin group to run besides the base group; repeatable or comma-separated',
    })
    .option('answers', { type: 'string', describe: 'otopi answer file whose values every host gets' })
    .option('parallel', {
      alias: 'p',
      type: 'number',
      default: DEFAULT_PARALLEL,
      describe: 'hosts deployed at the same time',
    })
    .option('dry-run', {
      type: 'boolean',
      default: false,
      describe: 'hosts show what would change, with diffs, and change nothing',
    })
    .option('events', { type: 'string', describe: "write JSON-lines events to FILE ('-' = standard output)" })
    .option('log-dir', { type: 'string', describe: 'folder for per-host logs [default: /var/log/otopi-deploy]' })
    .option('limit', { alias: 'l', type: 'string', describe: 'deploy only these hosts (comma-separated names)' })
    .option('ssh-config', {
      alias: 'F',
      type: 'string',
      describe: "OpenSSH client config for hosts whose inventory names none ('none': none) [default: ~/.ssh/config]",
    })
    .option('connect-retries', {
      type: 'number',
      default: 3,
      describe: 'tries again after a connection refused or reset before login (after 1.5, 3, 6 s...)',
    })
    .option('accept-new-host-keys', {
      type: 'boolean',
      default: false,
      describe: "trust unknown host keys on first use and record them in the inventory's known_hosts",
    })
    .option('bundle', {
      type: 'string',
      describe: 'bundle folder with manifest.json [default: bundle/dist of the source tree]',
    })
    .option('plugin-path', { type: 'string', describe: 'folders holding plugin groups, colon-separated' })
    .option('strict-keys', {
      type: 'boolean',
      default: false,
      describe:
        "refuse every key of a deployed group's namespace that it does not declare, not only likely typos, here and on the hosts (BASE/strictKeys)",
    })
    .option('prefer-runtime', {
      type: 'boolean',
      default: false,
      describe: 'ship the bundled Node.js even to hosts that have one',
    })
    .option('connect-timeout', {
      type: 'number',
      default: 30,
      describe: 'seconds for TCP connect, handshake and login',
    })
    .option('inactivity-timeout', {
      type: 'number',
      default: 300,
      describe: 'seconds without output before a host is given up',
    })
    .option('hard-timeout', { type: 'number', default: 1800, describe: "seconds a host's deploy may take in all" });
  return withGroupOptions(common)
    .option('progress', {
      type: 'string',
      choices: ['auto', 'tty', 'plain', 'none'],
      default: 'auto',
      describe: 'how progress is shown',
    })
    .check((a) => {
      if (!Number.isInteger(a.parallel) || a.parallel < 1)
        throw new UsageError('--parallel takes a whole number of 1 or more');
      if (!Number.isInteger(a['connect-retries']) || a['connect-retries'] < 0 || a['connect-retries'] > 10)
        throw new UsageError('--connect-retries takes a whole number from 0 to 10');
      for (const name of ['connect-timeout', 'inactivity-timeout', 'hard-timeout'] as const) {
        if (!(a[name] > 0)) throw new UsageError(`--${name} takes a number of seconds above 0`);
      }
      return true;
    })
    .strictOptions()
    .version(false)
    .help('help')
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      throw new UsageError(message ?? error.message);
    })
    .epilog(
      'Exit codes: 0 all hosts installed, 1 a host failed or aborted, 2 nothing deployed (bad input), ' +
        '3 a host is incomplete or reboots (none failed), 64 usage error.',
    );
}

export async function deploy(argv: readonly string[]): Promise<number> {
  let args;
  let helpShown = false;
  try {
    const parser = parseArguments(argv);
    args = await parser.parseAsync([...argv], {}, (_error, _argv, output) => {
      if (output !== '') {
        helpShown = true;
        process.stdout.write(`${output}\n`);
      }
    });
  } catch (error) {
    process.stderr.write(`otopi deploy: ${(error as Error).message}\nTry 'otopi deploy --help'.\n`);
    return DEPLOY_EXIT.usage;
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
  if (typeof mgmt === 'string') {
    process.stderr.write(`otopi deploy: ${mgmt}\nTry 'otopi deploy --help'.\n`);
    return DEPLOY_EXIT.usage;
  }
  const root = sourceRoot();
  let buildDir: string | undefined;
  let eventsFd: number | undefined;

  try {
    let overrides: EnvSetting[];
    let defaults: EnvSetting[] = [];
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
    const chosen = args.limit === undefined ? inventory.hosts : limitHosts(inventory, args.limit.split(','));
    const hosts = await askPassphrases(chosen, { input: process.stdin, output: process.stderr });
    if (args.answers !== undefined) defaults = readAnswerFile(args.answers);
    // The hosts refuse such keys too: BASE/ settings go on the installer's command line.
    if (args['strict-keys'])
      overrides.push({ op: 'set', key: 'BASE/strictKeys', value: true, source: '--strict-keys' });

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
    buildDir = mkdtempSync(join(tmpdir(), 'otopi-deploy-bundle-'));
    const choice = await resolveBundle({
      dir: resolve(args.bundle ?? join(root!, 'bundle', 'dist')),
      root: args.bundle === undefined ? root : undefined,
      groups,
      groupDirs: findGroupDirs(groups, args['plugin-path'], root),
      buildDir,
    });
    for (const note of choice.notes) human.write(`note: ${note}\n`);

    const programs = await deployPrograms(groups, {
      hosts,
      mgmt,
      caDir: args['ca-dir'] === undefined ? undefined : resolve(args['ca-dir']),
      idRegistryFile: args['vdsm-id-registry'] === undefined ? undefined : resolve(args['vdsm-id-registry']),
      note: (text) => human.write(`note: ${text}\n`),
    });

    if (args.events !== undefined && !toJson) eventsFd = openSync(args.events, 'w', 0o600);
    const writeEvent = (event: DeployEvent): void => {
      const line = `${JSON.stringify(event)}\n`;
      if (toJson) process.stdout.write(line);
      else if (eventsFd !== undefined) writeSync(eventsFd, line);
    };
    const progress = createProgress(mode, human);

    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      interrupts++;
      if (interrupts > 1) {
        progress.close();
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
      const report = await deployMany({
        hosts,
        bundle: choice.bundle,
        runtime: choice.runtime,
        preferRuntime: args['prefer-runtime'],
        groups,
        dryRun: args['dry-run'],
        defaults,
        overrides,
        parallel: args.parallel,
        connectRetries: args['connect-retries'],
        programs,
        logDir: args['log-dir'],
        timeouts: {
          connectMs: args['connect-timeout'] * 1000,
          inactivityMs: args['inactivity-timeout'] * 1000,
          hardMs: args['hard-timeout'] * 1000,
        },
        signal: controller.signal,
        onEvent: (event) => {
          progress.event(event);
          writeEvent(event);
        },
      });
      progress.close();
      human.write(`\n${formatSummary(report, { dryRun: args['dry-run'] })}`);
      if (report.ok) return DEPLOY_EXIT.ok;
      const unfinished = report.counts.incomplete + report.counts.reboot;
      return unfinished > 0 && unfinished === report.hosts.length - report.counts.installed
        ? DEPLOY_EXIT.unfinished
        : DEPLOY_EXIT.hostFailed;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`otopi deploy: ${error.message}\nTry 'otopi deploy --help'.\n`);
      return DEPLOY_EXIT.usage;
    }
    if (error instanceof PassphraseCancelled) {
      process.stderr.write(`otopi deploy: nothing deployed: ${error.message}\n`);
      return DEPLOY_EXIT.notDeployed;
    }
    if (!isEngineError(error)) throw error;
    process.stderr.write(
      `otopi deploy: ${error.code}: ${error.message}\n${error.hint === undefined ? '' : `  ${error.hint}\n`}`,
    );
    return error.code === 'USAGE' ? DEPLOY_EXIT.usage : DEPLOY_EXIT.notDeployed;
  } finally {
    if (eventsFd !== undefined) closeSync(eventsFd);
    if (buildDir !== undefined) rmSync(buildDir, { recursive: true, force: true });
  }
}
