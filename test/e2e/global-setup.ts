/**
 * The end-to-end tests run the built CLI, exactly as a user would; build it first so a
 * plain `vitest run` never tests stale output.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { usePrivateStateDir } from '../support/private-state.js';

export default function setup(): () => void {
  const teardown = usePrivateStateDir();
  const root = fileURLToPath(new URL('../..', import.meta.url));
  if (process.env['OTOPI_SKIP_BUILD'] !== '1')
    execFileSync('npx', ['tsdown', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  return teardown;
}
