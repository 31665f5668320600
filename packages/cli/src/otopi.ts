#!/usr/bin/env node
/**
 * `otopi`: run plugin groups. This is the command that runs on hosts, so it parses its
 * arguments with `node:util` and loads nothing it does not need; subcommands with heavier
 * front ends are imported only when named.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as DeployCli from './deploy.js';
import type * as CaCli from './deploy-ca.js';
import { EXIT, EXIT_HELP } from './exit-codes.js';
import { installerMain, optionsHelp, runCommand, VERSION } from './installer-main.js';
import { guardStream } from './terminal-guard.js';

const HELP = `Usage: otopi [options] [KEY=type:value ...]

Runs the plugin groups named in BASE/pluginGroups through otopi's 18 stages.

Environment statements:
  KEY=type:value           set a key; type is none, bool, int, str or multi-str
  APPEND:KEY=type:value    append to a colon list (BASE/pluginGroups, BASE/pluginPath)
  PREPEND:KEY=type:value   prepend to a colon list
  Quote a value with spaces as one argument: 'DEMO/x=str:a b'

${optionsHelp('the main config; repeatable')}
Subcommands:
  otopi config-query ...   read a key from a config file (otopi config-query --help)
  otopi env-doc [KEY]      the environment reference of every plugin group, or one key
  otopi deploy ...         deploy to many hosts over SSH from an inventory (otopi deploy --help)
  otopi ca sign ...        sign a host's certificate request with the engine CA (otopi ca sign --help)

${EXIT_HELP}
`;

async function main(argv: string[]): Promise<number> {
  // Nothing but human text goes to stderr (the machine dialect writes none); the manager's
  // commands show inventories, hosts' messages and requests on stdout too.
  guardStream(process.stderr);
  if (argv[0] === 'deploy' || argv[0] === 'ca' || argv[0] === 'config-query' || argv[0] === 'env-doc')
    guardStream(process.stdout);
  if (argv[0] === 'config-query') {
    const { configQuery } = await import('./config-query.js');
    return configQuery(argv.slice(1));
  }
  if (argv[0] === 'deploy') {
    const { deploy } = (await manager('deploy')) as typeof DeployCli;
    const code = await deploy(argv.slice(1));
    // Everything is reported. A connection to a host that stopped answering may still wait for
    // its peer (or the SSH keepalive) to close: the command does not wait with it. Standard
    // output and error are synchronous here (files and pipes on Linux), so nothing is lost.
    process.exit(code);
  }
  if (argv[0] === 'ca') {
    const { ca } = (await manager('deploy-ca')) as typeof CaCli;
    return ca(argv.slice(1));
  }
  if (argv[0] === 'env-doc') {
    const { envDoc } = await import('./env-doc.js');
    return envDoc(argv.slice(1));
  }
  return installerMain(argv, { name: 'otopi', help: HELP, version: VERSION });
}

/**
 * The manager's front ends are built apart (`dist/manager/`, each one self-contained module)
 * and are not in host bundles, which run only the installer.
 */
async function manager(name: string): Promise<unknown> {
  const url = new URL(`./manager/${name}.js`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    process.stderr.write(
      `otopi: '${process.argv[2]}' runs on the managing machine; this copy of otopi (a host bundle) has only the installer\n`,
    );
    process.exit(EXIT.usage);
  }
  return import(url.href);
}

runCommand('otopi', () => main(process.argv.slice(2)));
