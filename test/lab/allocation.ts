/**
 * Which lab hosts each integration test file owns. Test files change their hosts (packages,
 * bridges, firewall rules), so no two files share a host they change; a file that only
 * reads may share. The global setup brings up `LAB_HOST_COUNT` hosts.
 *
 * To add a file: take the next free numbers (LAB_HOST_COUNT follows).
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
  // The reliability suite (test/reliability/lab, docs/reliability.md).
  reliabilityFullDisk: [40], // a small tmpfs mounted and filled
  reliabilityConcurrency: [41, 42],
  reliabilitySecrets: [43],
  reliabilityBadHosts: [44], // read-only: refused logins only
  // The three ways into host-deploy (docs/host-deploy.md).
  hostDeployCli: [46, 47, 48, 49], // otopi deploy --group host-deploy: install, a shared vdsm id, a wrong host key
  hostDeployByHand: [50, 51, 52], // ovirt-host-deploy on the host: on a terminal, unattended, a bad answer file
  baseDnf: [53], // dnf and rpm from the Debian mirror, the lab's rpm repository
  // The fault matrix (test/reliability/lab/fault-matrix.test.ts): the SSH connection cut from the
  // engine side on the first, the installer killed on the second; the others are spare.
  reliabilityFaultMatrix: [54, 55, 56, 57],
  // SIGKILL while dpkg (first) and dnf/rpm (second) run (test/reliability/lab/package-kill.test.ts).
  reliabilityPackageKill: [58, 59],
  // Randomized kills of the installer, the engine, the SSH session and the network (random-kill.test.ts).
  reliabilityRandomKill: [60, 61, 62, 63],
  // Deploys and runs started together, a host whose link goes dead (test/reliability/lab/concurrent-deploys.test.ts).
  reliabilityConcurrentDeploys: [64, 65, 66, 67],
  // otopi's open environment through otopi deploy: other tools' keys pass through, typos are refused before connecting.
  deployOpenEnv: [68],
  // A plugin group that brings its own engine program (the 'stamp' fixture), through otopi deploy.
  deployGroupProgram: [69],
  // oVirt's own bootstrap command with a plain tar of the engine layout, on a host without Node.js.
  engineBootstrap: [70],
  // otopi deploy --group host-mgmt on hosts deployed first: check and upgrade, a failed upgrade
  // rolled back, certificate re-enrollment.
  hostMgmt: [71, 72, 73],
  // Reaching hosts (docs/deploy.md, "Reaching hosts"): a bastion and a target only it reaches
  // (isolated: no forwarder); an ssh-agent and an encrypted key; a full cache disk, a retried
  // connection and an MD5 pin.
  deployReach: [75, 76, 79, 80],
  // sudo without and with a password (sudo installed from the Debian mirror), a changed cache.
  deployBecome: [77, 78],
  // A converged host-deploy rerun does nothing (apt, iptables, certificates observed on the host).
  convergedRerun: [81],
  // What a person sees of a deploy (test/integration/deploy-recap.test.ts): dry run, recap, retry.
  deployRecap: [85, 86, 87],
  // Real hosts (docs/lab.md, "Host flavours"): host-deploy on an el host (installed, then run again
  // and restarted; the second one sees the engine vanish behind the new bridge, then fails after
  // every change, and rolls back), and on a vintage oVirt Node (installed, restarted, run again;
  // the second one enrolls in two phases, request then accept).
  hostDeployEl: [90, 91],
  hostDeployNode: [92, 93],
} as const;

/**
 * Virtual machines (test/lab/vm/, the vm flavour), 100 to 103: each test file brings its own up
 * and removes them (test/lab/vm/vm.ts), so they are not in HOSTS and LAB_HOST_COUNT, which the
 * global setup brings up as containers.
 */
export const VM_HOSTS = {
  hostDeployVm: [100, 101], // the bridge on a bond (100) and on a VLAN (101); 102 and 103 are spare
} as const;

/** The highest host number any file owns: the global setup brings up hosts 1 to this. */
export const LAB_HOST_COUNT = Math.max(...Object.values(HOSTS).flat());

/** Hosts that are not of the default (debian) flavour; the global setup brings them up so. */
export const FLAVOURS: Readonly<Record<number, 'el' | 'node'>> = {
  90: 'el',
  91: 'el',
  92: 'node',
  93: 'node',
};

/** The flavour list for `up.sh --flavour` (hosts beyond `count` are left out). */
export function flavourList(count: number): string {
  return Object.entries(FLAVOURS)
    .filter(([host]) => Number(host) <= count)
    .map(([host, flavour]) => `${host}=${flavour}`)
    .join(',');
}
