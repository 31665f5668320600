/**
 * Environment keys owned by the runtime itself (groups BASE and CORE).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { defineEnv, key } from '../env/declare.js';

export const BaseEnv = defineEnv('BASE', {
  error: key.bool({
    default: false,
    description: 'Set once any handler failed; later success-only stages are skipped.',
  }),
  aborted: key.bool({
    default: false,
    description: 'Set when the run was aborted (by the user, the engine or a signal).',
  }),
  errorMessages: key.multiStr({
    default: [],
    description: 'Messages of the errors this run met, in order (redacted).',
  }),
  pluginPath: key.str({
    default: '',
    defaultDoc: 'the plugins folder next to the installed program',
    description: 'Colon-separated folders holding plugin groups, one sub-folder per group.',
  }),
  pluginGroups: key.str({
    default: 'otopi',
    description: "Colon-separated plugin groups to load; 'otopi' is always loaded.",
  }),
  executionDirectory: key.str({
    default: () => process.env['OTOPI_EXECDIR'] ?? process.cwd(),
    defaultDoc: '$OTOPI_EXECDIR, else the working directory at start',
    description: 'Folder relative paths given by the user are resolved against.',
  }),
  strictKeys: key.bool({
    default: false,
    description:
      'Refuse, instead of warning about, a key in a namespace a loaded group owns (VDSM/, CORE/, ...) that matches none of its declared keys: a likely typo. Keys of other namespaces are always accepted. Takes effect from when it is set: on the command line (or --strict-keys) before any other key, in a config file before the other keys of its section.',
  }),
  debug: key.int({
    default: () => Number.parseInt(process.env['OTOPI_DEBUG'] ?? '0', 10) || 0,
    defaultDoc: '$OTOPI_DEBUG or 0',
    description: 'Above 0, internal errors print their stack trace.',
  }),
});

export const CoreEnv = defineEnv('CORE', {
  ignoreMissingBeforeAfter: key.bool({
    default: true,
    description:
      "Whether a handler's before/after naming no loaded handler is tolerated (logged as a warning) instead of failing at setup.",
  }),
  dumpPlan: key.str({
    default: 'none',
    schema: z.enum(['none', 'table', 'json']),
    description: "Print the run plan ('table' or 'json') to standard output and stop before booting.",
  }),
  logDir: key.str({
    default: () => process.env['OTOPI_LOGDIR'] ?? tmpdir(),
    defaultDoc: '$OTOPI_LOGDIR, else the system temporary folder',
    description: 'Folder of the log file.',
  }),
  logFileNamePrefix: key.str({ default: 'otopi', description: 'Prefix of the generated log file name.' }),
  logFileName: key.optionalStr({
    default: () => process.env['OTOPI_LOGFILE'] ?? null,
    defaultDoc: '$OTOPI_LOGFILE, else <logDir>/<prefix>-<timestamp>-<random>.log',
    description: 'Log file path; set at boot when empty.',
  }),
  logLevel: key.str({
    default: 'debug',
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error']),
    description: "Lowest level written to the log file ('trace' adds full environment dumps).",
  }),
  logRemoveAtExit: key.bool({ default: false, description: 'Remove the log file when the run ends.' }),
  logContextKeys: key.multiStr({
    default: [],
    description:
      'Environment keys whose values, once set, are added to every later log line as <name>=<value> (name: the part after the last /), e.g. a correlation id.',
  }),
  logFilter: key.multiStr({
    default: [],
    sensitive: true,
    description: 'Extra strings to redact from every output.',
  }),
  configFileName: key.str({
    default: () => process.env['OTOPI_CONFIG'] ?? '/etc/otopi.conf',
    defaultDoc: '$OTOPI_CONFIG, else /etc/otopi.conf',
    description: 'Main config file; its `.d` folder (`*.conf`, sorted) is read after it. A missing file is fine.',
  }),
  configFileAppend: key.optionalStr({
    default: null,
    description:
      'Colon-separated config files read after the main one (e.g. answer files); a missing one is a warning.',
  }),
  eventsFile: key.optionalStr({
    default: null,
    description: "Write a JSON-lines event stream (stages, handlers, results) to this file; '-' for standard error.",
  }),
  journalDir: key.str({
    default: () => join(process.env['OTOPI_STATEDIR'] ?? '/var/lib/otopi', 'journal'),
    defaultDoc: '$OTOPI_STATEDIR/journal, else /var/lib/otopi/journal',
    description:
      'Folder for transaction commit journals; a run killed mid-commit is rolled back from them by the next run.',
  }),
  lockFile: key.str({
    default: () => join(process.env['OTOPI_STATEDIR'] ?? '/var/lib/otopi', 'run.lock'),
    defaultDoc: '$OTOPI_STATEDIR/run.lock, else /var/lib/otopi/run.lock',
    description: 'Lock file that keeps a second run on this host from starting while one is running.',
  }),
  dryRun: key.bool({
    default: false,
    description: 'Show what would change (with diffs for files) and change nothing.',
  }),
  modifiedFiles: key.multiStr({ default: [], description: 'Files this run changed, in commit order.' }),
});
