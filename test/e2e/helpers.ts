/**
 * Runs the built `otopi` CLI as a user would, with a private log folder and no system config.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'packages/cli/dist/otopi.js');
export const FIXTURE_PLUGINS = join(ROOT, 'test/e2e/fixtures/plugins');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function tempDir(prefix = 'otopi-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function runCli(
  args: readonly string[],
  options: { dir?: string; env?: Record<string, string>; input?: string } = {},
): CliResult {
  const dir = options.dir ?? tempDir();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      OTOPI_CONFIG: join(dir, 'no-system.conf'),
      OTOPI_LOGDIR: dir,
      OTOPI_STATEDIR: join(dir, 'state'),
      ...options.env,
    },
    timeout: 30_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Statements that load the fixture group `demo` next to the base group. */
export function demoArgs(...extra: string[]): string[] {
  return [
    `BASE/pluginPath=str:${join(ROOT, 'plugins')}:${FIXTURE_PLUGINS}`,
    'APPEND:BASE/pluginGroups=str:demo',
    ...extra,
  ];
}

/** Statements that load one fixture group next to the base group. */
export function fixtureGroup(group: string): string[] {
  return [`BASE/pluginPath=str:${join(ROOT, 'plugins')}:${FIXTURE_PLUGINS}`, `APPEND:BASE/pluginGroups=str:${group}`];
}
