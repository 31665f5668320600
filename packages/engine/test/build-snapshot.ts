// A copy of the build output a host bundle is made from (the base group only), so a build
// running elsewhere cannot change a test's inputs while it runs.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../..', import.meta.url));

/** Copies the bundle's inputs from this source tree into `root`; returns `root`. */
export function snapshotBuild(root: string): string {
  for (const path of [
    'package.json',
    'bundle/launcher.sh',
    'packages/cli/dist',
    'packages/core/dist',
    'plugins/otopi/dist',
  ])
    cpSync(join(repo, path), join(root, path), { recursive: true });
  return root;
}
