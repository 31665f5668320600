#!/usr/bin/env node
/**
 * `ovirt-host-deploy`: the host-deploy group run by hand on the host, as `otopi` with
 * `APPEND:BASE/pluginGroups=str:host-deploy` (the group sets its own log file prefix and config
 * file). On a terminal it asks what it needs; with `--config-append` of an answer file it asks
 * nothing. docs/host-deploy.md has the walk-through.
 */
import { installerMain, optionsHelp, runCommand, VERSION } from './installer-main.js';
import { guardStream } from './terminal-guard.js';

const HELP = `Usage: ovirt-host-deploy [options] [KEY=type:value ...]

Makes this machine a virtualization host an engine manages: installs vdsm, writes its
configuration, enrolls its certificate, builds the management bridge, opens the firewall
and starts vdsmd. It asks what it needs (the engine, the certificate enrollment, the
firewall); every answer can be given as a KEY=type:value statement or in an answer file.

Certificates: with enrollment 'inline' the run shows its certificate request; sign it on
the engine with 'otopi ca sign --ca-dir DIR --host NAME < request.pem' and paste the
printed chain, then a line holding only '.'. With 'request' the key and request are saved
and the run ends incomplete; run again with 'accept' and the chain.

${optionsHelp('/etc/ovirt-host-deploy.conf;\n                           repeatable; an answer file (DIALOG/answerFile) repeats a run')}
Examples:
  ovirt-host-deploy VDSM/engineHost=str:engine.example.com DIALOG/answerFile=str:/root/hd.conf
  ovirt-host-deploy --config-append /root/hd.conf < /dev/null

Exit codes: 0 success, 1 error or abort, 2 a plugin group failed to load.
`;

guardStream(process.stderr);
runCommand('ovirt-host-deploy', () =>
  installerMain(process.argv.slice(2), {
    name: 'ovirt-host-deploy',
    help: HELP,
    version: VERSION,
    statements: ['APPEND:BASE/pluginGroups=str:host-deploy'],
  }),
);
