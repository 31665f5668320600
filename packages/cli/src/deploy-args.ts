/**
 * The command line of `otopi deploy` (yargs): options, their checks and the help.
 */
import { DEFAULT_PARALLEL } from '@otopi/engine';
import yargs from 'yargs';
import { withGroupOptions } from './deploy-programs.js';

export class UsageError extends Error {}

/**
 * The words as yargs should see them: `--events -` (a lone '-' is a positional word to
 * yargs) becomes `--events=-`, and `-vv` becomes `-v -v` (short options do not group here,
 * so that `-l web1` stays a value).
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (a === '-' && out.at(-1) === '--events') out[out.length - 1] = '--events=-';
    else if (/^-v{2,}$/.test(a)) out.push(...Array.from({ length: a.length - 1 }, () => '-v'));
    else out.push(a);
  }
  return out;
}

export function parseArguments(argv: readonly string[]) {
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
    .option('limit', {
      alias: 'l',
      type: 'string',
      describe:
        'deploy only these hosts: names, groups, globs (web*), !PATTERN to leave out, @FILE (a retry file); comma-separated',
    })
    .option('list-hosts', {
      type: 'boolean',
      default: false,
      describe: 'list the hosts the command would deploy to (after --limit) and stop, without connecting',
    })
    .option('verbose', {
      alias: 'v',
      type: 'count',
      describe: "-v: also the hosts' INFO lines; -vv: also every event as a line, on a terminal too",
    })
    .option('correlation-id', {
      type: 'string',
      describe: 'names the log files of this run (hosts given one in the inventory keep theirs) [default: random]',
    })
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
    .option('hard-timeout', { type: 'number', default: 1800, describe: "seconds a host's deploy may take in all" })
    .option('reboot-timeout', {
      type: 'number',
      default: 0,
      describe: 'seconds to wait for a host that reboots to finish its deploy to come back (0: not waited for)',
    });
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
      if (!(a['reboot-timeout'] >= 0)) throw new UsageError('--reboot-timeout takes a number of seconds, 0 or more');
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
        '3 a host is incomplete or reboots (none failed), 64 usage error, 130 interrupted twice.',
    );
}
