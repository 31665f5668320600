/**
 * The command line of an installer run (`otopi`, `ovirt-host-deploy`): options parsed with
 * `node:util`, so the host-side commands start fast, then `runInstaller`. A command may put
 * statements before the user's (`ovirt-host-deploy` adds its plugin group).
 */
import { parseArgs } from 'node:util';

export interface InstallerCommand {
  /** The command's name, in messages. */
  readonly name: string;
  readonly help: string;
  readonly version: string;
  /** Statements before the user's. Default none. */
  readonly statements?: readonly string[];
}

declare const __OTOPI_VERSION__: string | undefined;
export const VERSION = typeof __OTOPI_VERSION__ === 'string' ? __OTOPI_VERSION__ : '0.0.0-dev';

/**
 * The options part of an installer command's help: what `installerMain` parses. Only what
 * `--config-append` reads after differs between the commands (`configAppend`: the rest of its
 * description, lines after the first indented to the description column).
 */
export function optionsHelp(configAppend: string): string {
  return `Options:
  --config-append FILE     read FILE (and FILE.d/*.conf) after ${configAppend}
  --dump-plan[=FORMAT]     print the run plan as 'table' (default) or 'json', run nothing
  --events FILE            write JSON-lines run events to FILE ('-' = standard error)
  --dry-run                show what would change, with diffs, and change nothing
  --log-level LEVEL        trace, debug (default), info, warn or error
  --strict-keys            refuse keys of a loaded group's namespace that it does not
                           declare (likely typos) instead of warning (BASE/strictKeys)
  -h, --help               show this help
  --version                show the version
`;
}

/** Runs a command's main and sets the exit code; an unexpected error is an internal error, exit 1. */
export function runCommand(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${name}: internal error: ${String((error as Error)?.stack ?? error)}\n`);
      process.exitCode = 1;
    },
  );
}

export async function installerMain(argv: readonly string[], command: InstallerCommand): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      // --dump-plan may come without a value; node's parseArgs wants one, so default it here.
      args: argv.map((a) => (a === '--dump-plan' ? '--dump-plan=table' : a)),
      allowPositionals: true,
      strict: true,
      options: {
        'config-append': { type: 'string', multiple: true },
        'dump-plan': { type: 'string' },
        events: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'log-level': { type: 'string' },
        'strict-keys': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (error) {
    process.stderr.write(`${command.name}: ${(error as Error).message}\nTry '${command.name} --help'.\n`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(command.help);
    return 0;
  }
  if (values.version === true) {
    process.stdout.write(`${command.name} ${command.version}\n`);
    return 0;
  }
  // The runtime (core, zod, pino) loads only for a run: --help and --version answer at once.
  const { runInstaller } = await import('./run.js');
  return runInstaller({
    statements: [
      ...(values['strict-keys'] === true ? ['BASE/strictKeys=bool:True'] : []),
      ...(command.statements ?? []),
      ...positionals,
    ],
    configAppend: values['config-append'] ?? [],
    dumpPlan: values['dump-plan'],
    events: values.events,
    dryRun: values['dry-run'] === true,
    logLevel: values['log-level'],
  });
}
