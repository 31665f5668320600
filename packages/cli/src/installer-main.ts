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
    statements: [...(command.statements ?? []), ...positionals],
    configAppend: values['config-append'] ?? [],
    dumpPlan: values['dump-plan'],
    events: values.events,
    dryRun: values['dry-run'] === true,
    logLevel: values['log-level'],
  });
}
