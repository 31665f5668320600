#!/usr/bin/env node
/**
 * `ovirt-host-mgmt`: the host-mgmt group, for a host that is already deployed: check for
 * package updates, upgrade, or enroll the vdsm certificate again. The engine runs it in the
 * machine dialect; run by hand, every setting is a KEY=type:value statement or comes from an
 * answer file. docs/host-mgmt.md has the walk-through.
 */
import { installerMain, optionsHelp, runCommand, VERSION } from './installer-main.js';

const HELP = `Usage: ovirt-host-mgmt [options] [KEY=type:value ...]

Manages a host that ovirt-host-deploy made a virtualization host:
  check for updates   OMGMT_PACKAGES/packagesUpdateMode=str:checkUpdate
                      OMGMT_PACKAGES/packages=multi-str:vdsm  (changes nothing; the
                      updates found are in OMGMT_PACKAGES/packagesInfo and the log)
  upgrade             OMGMT_PACKAGES/packagesUpdateMode=str:update: the packages are
                      upgraded, vdsm.conf is kept and vdsmd restarted; a failed upgrade
                      is rolled back
  re-enroll           VDSM/certificateEnrollment=str:inline: a new certificate for the
                      host key (VDSM/certificateRenew=bool:True: for a new key)

${optionsHelp('/etc/ovirt-host-mgmt.conf;\n                           repeatable')}
Examples:
  ovirt-host-mgmt OMGMT_PACKAGES/packagesUpdateMode=str:checkUpdate OMGMT_PACKAGES/packages=multi-str:vdsm
  ovirt-host-mgmt --config-append /root/upgrade.conf < /dev/null

Exit codes: 0 success, 1 error or abort, 2 a plugin group failed to load.
`;

runCommand('ovirt-host-mgmt', () =>
  installerMain(process.argv.slice(2), {
    name: 'ovirt-host-mgmt',
    help: HELP,
    version: VERSION,
    statements: ['APPEND:BASE/pluginGroups=str:host-mgmt'],
  }),
);
