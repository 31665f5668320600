/**
 * Gives a test run its own otopi state folder (`OTOPI_STATEDIR`: the run lock and the commit
 * journals), so no test ever takes the machine-wide lock of real runs (`/var/lib/otopi/run.lock`)
 * or replays their journals. Called by the global setups; test workers and the processes they
 * start inherit the environment. Returns the teardown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function usePrivateStateDir(): () => void {
  if (process.env['OTOPI_STATEDIR'] !== undefined) return () => undefined;
  const dir = mkdtempSync(join(tmpdir(), 'otopi-test-state-'));
  process.env['OTOPI_STATEDIR'] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
