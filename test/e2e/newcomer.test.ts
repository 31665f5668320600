/**
 * A newcomer's first commands (README "Set-up on a fresh machine"): `npm install` leaves the
 * lock file as committed, the build prints nothing but errors, and lint does not read the
 * demo's output folder, so `npm run demo` then `npm test` pass.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers.js';

/** Every workspace (packages/*, plugins/*): what npm install reads besides the root. */
const WORKSPACES = ['packages', 'plugins'].flatMap((d) =>
  readdirSync(join(ROOT, d))
    .filter((w) => existsSync(join(ROOT, d, w, 'package.json')))
    .map((w) => `${d}/${w}`),
);

describe('a newcomer', () => {
  it('npm install does not rewrite package-lock.json', () => {
    const dir = tempDir('otopi-lock-');
    for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(dir, file));
    for (const w of WORKSPACES) {
      mkdirSync(join(dir, w), { recursive: true });
      cpSync(join(ROOT, w, 'package.json'), join(dir, w, 'package.json'));
    }
    const r = spawnSync(
      'npm',
      ['install', '--package-lock-only', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'package-lock.json'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'package-lock.json'), 'utf8'),
    );
  });

  it('lint ignores the demo output folder', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    expect(await eslint.isPathIgnored(join(ROOT, 'test/demo/.out/bundle/bin/otopi.js'))).toBe(true);
    // and still reads the demo's own script
    expect(await eslint.isPathIgnored(join(ROOT, 'test/demo/demo.mjs'))).toBe(false);
  });

  it('npm run build prints nothing (no tsdown Node.js deprecation warning)', () => {
    // A copy of the sources, so the build's clean never empties the dist folders other tests run.
    const dir = tempDir('otopi-build-');
    for (const file of ['package.json', 'build.mjs', 'tsdown.config.ts', 'tsconfig.json'])
      cpSync(join(ROOT, file), join(dir, file));
    for (const w of WORKSPACES) {
      cpSync(join(ROOT, w, 'src'), join(dir, w, 'src'), { recursive: true });
      cpSync(join(ROOT, w, 'package.json'), join(dir, w, 'package.json'));
      // A group's engine program (docs/plugins.md) is a source folder of its own.
      if (existsSync(join(ROOT, w, 'engine')))
        cpSync(join(ROOT, w, 'engine'), join(dir, w, 'engine'), {
          recursive: true,
          filter: (src) => !/\/engine\/dist(\/|$)/.test(src),
        });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('');
    expect(readFileSync(join(dir, 'packages/cli/dist/otopi.js'), 'utf8')).toContain('otopi');
  }, 120_000);
});
