/**
 * Which lab hosts each integration test file owns. Test files change their hosts (packages,
 * bridges, firewall rules), so no two files share a host they change; a file that only
 * reads may share. The global setup brings up `LAB_HOST_COUNT` hosts.
 *
 * To add a file: take the next free numbers and raise LAB_HOST_COUNT.
 */
export const HOSTS = {
  lab: [1, 2, 3], // read-only checks of the lab itself
  ssh: [1, 2, 3], // read-only: commands on three hosts at once
  hostkey: [1, 2], // read-only: connections only
  network: [4, 5, 6],
  packages: [7, 8, 9],
  restart: [10],
  bundle: [11, 12, 13],
  baseFirewall: [14, 15],
  baseFirewalld: [16],
  basePackages: [17],
  baseServices: [18],
  baseSsh: [19],
  deployMany: [20, 21, 22, 23, 24, 25, 26, 27, 28, 29],
  deployInterrupt: [30, 31],
  deployHostKey: [32, 33],
  deployPassword: [38, 39], // sshd takes passwords during the test
  hostDeploy: [34, 35, 36, 37],
} as const;

export const LAB_HOST_COUNT = 40;
