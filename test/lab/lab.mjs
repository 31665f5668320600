#!/usr/bin/env node
// The lab's command line: `npm run lab -- <command>`. A thin front to the shell scripts beside it,
// which do the work and can also be run on their own. docs/lab.md explains the lab.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const usage = `usage: npm run lab -- <command>
  up N [--flavour 2=el,3=node]
                    build the bases if needed, bring up hosts h1..hN (debian, or the
                    flavour given per host), write hosts.json
  down [--keep-state]  stop and remove every host of the instance
  status            list the hosts and their systemd state
  exec N cmd...     run a command inside host N (nsenter, no SSH)
  restart N...      reboot hosts: same files, fresh network namespace
  base [--force]    build the cached base root fs (about 2.5 min the first time)
  deps              install the Debian packages the lab needs
environment: OTOPI_LAB_NAME (instance, default "lab"), OTOPI_LAB_STATE, OTOPI_LAB_CACHE,
  OTOPI_LAB_LO_PREFIX, OTOPI_LAB_NET_PREFIX, OTOPI_LAB_APT_PROXY=1 (see docs/lab.md)`;

const scripts = {
  up: 'up.sh',
  down: 'down.sh',
  status: 'status.sh',
  exec: 'exec.sh',
  restart: 'restart.sh',
  base: 'build-base.sh',
  deps: 'deps.sh',
};

const [command, ...args] = process.argv.slice(2);
if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
  console.log(usage);
  process.exit(command === undefined ? 2 : 0);
}
const script = Object.hasOwn(scripts, command) ? scripts[command] : undefined;
if (script === undefined) {
  console.error(`unknown command: ${command}\n${usage}`);
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('the lab needs root: network namespaces, overlay mounts and systemd-nspawn');
  process.exit(1);
}
if (command !== 'deps' && !existsSync('/usr/bin/systemd-nspawn')) {
  console.error('systemd-nspawn is missing: run `npm run lab -- deps` (bash test/lab/deps.sh) first');
  process.exit(1);
}

const path = fileURLToPath(new URL(script, import.meta.url));
// up.sh prints only the hosts.json path on stdout; everything else goes to stderr as it happens.
const result = spawnSync('bash', [path, ...args], {
  stdio: ['inherit', command === 'up' ? 'pipe' : 'inherit', 'inherit'],
  encoding: 'utf8',
});
if (result.error) throw result.error;
if (command === 'up' && result.status === 0) {
  const hostsJson = result.stdout.trim();
  const state = hostsJson.replace(/\/hosts\.json$/, '');
  console.log(`hosts:      ${hostsJson}`);
  console.log(`ssh:        ssh -F ${state}/ssh_config h1`);
  console.log(`assertions: npm run lab -- exec 1 systemctl is-system-running`);
}
process.exit(result.status ?? 1);
