/**
 * Environment keys of the base group, one declaration per area. Each plugin lists the
 * groups it owns in its `env`; the others only read them (a declaration may be listed by
 * several plugins, it is the same object).
 */
import { defineEnv, defineEnvFamily, key, keySchema } from '@otopi/core';

const { atLeast, oneOf } = keySchema;

const STANDARD_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export const PACKAGERS = ['auto', 'apt', 'dnf', 'yum', 'offline'] as const;
export const SERVICE_MANAGERS = ['auto', 'systemd', 'openrc', 'sysv', 'none'] as const;
export const FIREWALL_MANAGERS = ['auto', 'iptables', 'nftables', 'firewalld', 'none'] as const;

export const SystemEnv = defineEnv('SYSTEM', {
  commandPath: key.str({
    default: () =>
      [...new Set([...STANDARD_PATH, ...(process.env['PATH'] ?? '').split(':').filter((d) => d.startsWith('/'))])].join(
        ':',
      ),
    defaultDoc: 'the sbin and bin folders, then $PATH',
    description: 'Colon-separated folders searched for COMMAND/* programs at the programs stage (first match wins).',
  }),
  clockSet: key.bool({
    default: false,
    description:
      'Synchronise the clock at misc: chronyc waitsync when chrony runs, else ntpdate against SYSTEM/clockServers.',
  }),
  clockMaxWait: key.int({
    default: 60,
    schema: atLeast(1),
    description: 'Seconds to wait for the clock to synchronise before warning and going on.',
  }),
  clockServers: key.multiStr({
    default: ['pool.ntp.org'],
    description: 'Servers ntpdate asks when chrony is not running.',
  }),
  reboot: key.bool({ default: false, description: 'Reboot the host after a successful run (stage reboot).' }),
  rebootAllow: key.bool({
    default: true,
    description: 'Whether a reboot asked for by SYSTEM/reboot may happen (a manager can veto it).',
  }),
  rebootDeferTime: key.int({
    default: 10,
    schema: atLeast(0),
    description: 'Seconds between the end of the run and the reboot, so the manager can collect the log first.',
  }),
});

/** `COMMAND/<program>`: where a program is. Plugins name the programs they need at setup. */
export const CommandFamily = defineEnvFamily(
  'COMMAND',
  key.optionalStr({
    default: null,
    description: 'Path of the program <name>; found on SYSTEM/commandPath at the programs stage unless set.',
  }),
);

export const PackagerEnv = defineEnv('PACKAGER', {
  packager: key.str({
    default: 'auto',
    schema: oneOf(PACKAGERS),
    description:
      "Package manager: 'auto' picks from os-release and the tools present; 'offline' installs nothing and checks that needed packages are there.",
  }),
  refreshCache: key.bool({
    default: true,
    description:
      'Refresh the package lists (apt-get update, dnf makecache) once, before the first install or availability query.',
  }),
  keepAliveInterval: key.int({
    default: 30,
    schema: atLeast(1),
    description:
      'While the package manager works, an INFO progress line at most every this many seconds (keeps remote managers from timing out).',
  }),
  lockTimeout: key.int({
    default: 300,
    schema: atLeast(0),
    description: 'Seconds to keep retrying while another process holds the package manager lock; 0 fails at once.',
  }),
  lockRetryInterval: key.int({
    default: 5,
    schema: atLeast(1),
    description: 'Seconds between retries while the package lock is held.',
  }),
  rollback: key.bool({
    default: true,
    description:
      'When the run fails, undo the package changes it made (apt: purge new packages, downgrade where possible; dnf/yum: history undo).',
  }),
});

export const ServicesEnv = defineEnv('SERVICES', {
  manager: key.str({
    default: 'auto',
    schema: oneOf(SERVICE_MANAGERS),
    description: "Service manager: 'auto' detects systemd, then OpenRC, then SysV init scripts.",
  }),
  restoreOnError: key.bool({
    default: true,
    description:
      'When the run fails, put every service this run changed back to its previous enabled and running state (at cleanup).',
  }),
});

export const NetworkEnv = defineEnv('NETWORK', {
  sshEnable: key.bool({
    default: false,
    description: 'Add NETWORK/sshKey to the authorized_keys of NETWORK/sshUser at misc.',
  }),
  sshKey: key.optionalStr({
    default: null,
    description: 'One public key line (ssh-ed25519, ecdsa-sha2-*, ssh-rsa, sk-*), with an optional comment.',
  }),
  sshUser: key.str({
    default: '',
    defaultDoc: '(empty: the user running otopi)',
    description: 'Whose authorized_keys gets NETWORK/sshKey.',
  }),
  firewallManager: key.str({
    default: 'auto',
    schema: oneOf(FIREWALL_MANAGERS),
    description:
      "Firewall to configure: 'auto' uses firewalld when it runs, else the one whose rules are given; 'none' leaves the firewall alone.",
  }),
  firewallSshCheck: key.bool({
    default: true,
    description:
      'Refuse rules that would refuse new SSH connections (tcp/22, or the port of $SSH_CONNECTION). False applies them anyway.',
  }),
  iptablesRules: key.optionalMultiStr({
    default: null,
    description:
      'IPv4 rules in iptables-restore format (*filter … COMMIT); loaded, persisted, and rolled back on failure.',
  }),
  iptablesRulesFile: key.optionalStr({
    default: null,
    defaultDoc: '/etc/iptables/rules.v4 (Debian), /etc/sysconfig/iptables (EL)',
    description: 'Where the iptables rules are persisted for boot.',
  }),
  nftablesRules: key.optionalMultiStr({
    default: null,
    description:
      'An nft ruleset (table declarations) checked with nft -c, loaded, persisted and rolled back on failure; its tables are replaced as a whole.',
  }),
  nftablesFile: key.optionalStr({
    default: null,
    defaultDoc: '/etc/nftables.d/otopi.nft (Debian), /etc/nftables/otopi.nft (EL)',
    description: "Where the nft ruleset is persisted; the distribution's nftables.conf includes it.",
  }),
  firewalldServices: key.multiStr({
    default: [],
    description: 'firewalld services to allow (permanent and runtime), e.g. ssh, cockpit.',
  }),
  firewalldPorts: key.multiStr({
    default: [],
    description: 'Ports to open with firewalld, as port/protocol (54321/tcp, 5900-6923/tcp).',
  }),
  firewalldZone: key.optionalStr({
    default: null,
    defaultDoc: "firewalld's default zone",
    description: 'Zone the services and ports go to.',
  }),
});
