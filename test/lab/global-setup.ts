// vitest globalSetup of the `lab` project: brings up real SSH hosts before the lab and integration
// tests, removes them afterwards. The tests use their own instance ("vitest", at 127.42.1.N), so a
// lab brought up by hand with `npm run lab -- up` (127.42.0.N) survives a test run.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { delimiter, join } from 'node:path';
import { labDown, labUp } from './lab.js';
import { LAB_HOST_COUNT } from './allocation.js';
import { usePrivateStateDir } from '../support/private-state.js';

function onPath(cmd: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// A machine that cannot run the lab must fail the run, not skip it: a skipped integration suite
// looks green.
function checkMachine(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'The lab tests need root (network namespaces, overlay mounts, systemd-nspawn). ' +
        'Run them as root, or run only the unit tests: npx vitest run --project unit',
    );
  }
  const missing = ['systemd-nspawn', 'debootstrap', 'socat', 'nsenter', 'ip', 'dpkg-deb', 'iptables'].filter(
    (cmd) => !onPath(cmd),
  );
  if (missing.length > 0) {
    throw new Error(`The lab needs ${missing.join(', ')}: run \`bash test/lab/deps.sh\` as root first.`);
  }
}

// The deploy tests ship the host bundle and its Node.js runtime (lab hosts have no Node.js):
// pack them when a plain `vitest run` finds none (`npm test` packs them before).
function ensureBundle(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  if (existsSync(join(root, 'bundle/dist/manifest.json'))) return;
  execFileSync('npm', ['run', 'bundle', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

export default async function setup(): Promise<() => Promise<void>> {
  checkMachine();
  ensureBundle();
  // The test workers inherit this environment, so lab.ts finds the same instance there.
  process.env['OTOPI_LAB_NAME'] ??= 'vitest';
  process.env['OTOPI_LAB_LO_PREFIX'] ??= '127.42.1';
  // Tests that need real Debian packages (firewalld) reach the mirror through the lab's apt
  // proxy; everything else still installs from the lab repo only.
  process.env['OTOPI_LAB_APT_PROXY'] ??= '1';
  const removeStateDir = usePrivateStateDir();
  const wanted = process.env['OTOPI_LAB_HOSTS'] ?? String(LAB_HOST_COUNT);
  const count = Number(wanted);
  // Each integration test file owns its hosts (allocation.ts).
  if (!Number.isInteger(count) || count < 3) throw new Error(`OTOPI_LAB_HOSTS=${wanted}: need a count of 3 or more`);

  // Leftovers of a run that crashed or was interrupted before its teardown.
  await labDown();
  // On failure up.sh removes what it created itself, keeping the logs it names.
  await labUp(count);

  return async () => {
    removeStateDir();
    if (process.env['OTOPI_LAB_KEEP'] === '1') {
      console.warn(`OTOPI_LAB_KEEP=1: lab instance ${process.env['OTOPI_LAB_NAME'] ?? ''} left up`);
      return;
    }
    await labDown();
  };
}
