// The engine layout (interface-3): the entries at its top run the bundle with the runtime inside
// it, found relative to themselves, also through a symlink, on a PATH without node; and the
// engine's command is the one oVirt sends. The lab test (test/integration/engine-bootstrap.test.ts)
// runs it over SSH on a host without Node.js.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, writeFileAtomic } from '../src/bundle/artifact.js';
import { buildEngineLayout, type EngineLayout } from '../src/bundle/engine-layout.js';
import { treeEntries, writeTar } from '../src/bundle/tar.js';
import { ovirtBootstrapCommand } from '../src/deploy/ovirt-bootstrap.js';
import { snapshotBuild } from './build-snapshot.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
let work: string;
let layout: EngineLayout;
let tools: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'otopi-engine-layout-'));
  const root = snapshotBuild(join(work, 'root'));
  for (const group of ['host-deploy', 'host-mgmt'])
    cpSync(join(repo, 'plugins', group, 'dist'), join(root, 'plugins', group, 'dist'), { recursive: true });
  // A runtime artifact whose bin/node runs this Node.js: what matters is where the launcher finds it.
  const runtimeTar = gzipSync(
    writeTar(
      treeEntries(
        new Map([
          ['bin/node', { data: Buffer.from(`#!/bin/sh\nexec '${process.execPath}' "$@"\n`), mode: 0o755 }],
          ['LICENSE', { data: Buffer.from('license\n'), mode: 0o644 }],
        ]),
      ),
    ),
  );
  const file = join(work, 'runtime.tar.gz');
  writeFileAtomic(file, runtimeTar);
  layout = buildEngineLayout({
    root,
    outDir: join(work, 'out'),
    runtime: {
      file,
      sha256: sha256Hex(runtimeTar),
      size: runtimeTar.length,
      nodeVersion: process.version,
      rawSize: 0,
      originalSize: 0,
      stripped: false,
    },
  });
  // The few tools the launcher uses, and no node.
  tools = join(work, 'tools');
  mkdirSync(tools);
  for (const tool of ['readlink', 'dirname', 'head', 'tr']) {
    const found = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, join(tools, tool));
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the engine layout', () => {
  it('has the three entries at its top, the groups and the runtime inside, and no half-built folder beside it', () => {
    expect(layout.entries).toEqual(['otopi', 'ovirt-host-deploy', 'ovirt-host-mgmt']);
    expect(layout.groups).toEqual(['otopi', 'host-deploy', 'host-mgmt']);
    for (const entry of layout.entries) expect(statSync(join(layout.dir, entry)).mode & 0o777).toBe(0o755);
    expect(existsSync(join(layout.dir, 'runtime/bin/node'))).toBe(true);
    expect(existsSync(join(layout.dir, 'plugins/host-mgmt/packages/update.js'))).toBe(true);
    // The bundle's own launchers in bin/ are replaced by the entries at the top.
    expect(existsSync(join(layout.dir, 'bin/otopi'))).toBe(false);
    expect(existsSync(`${layout.dir}.new`)).toBe(false);
    expect(readFileSync(join(layout.dir, 'ovirt-host-mgmt'), 'utf8')).toContain('"$otopi_root/bin/ovirt-host-mgmt.js"');
  });

  it('each entry runs its program with the runtime inside, on a PATH without node, also through a symlink', () => {
    symlinkSync(join(layout.dir, 'ovirt-host-mgmt'), join(work, 'linked-mgmt'));
    for (const [path, name] of [
      [join(layout.dir, 'ovirt-host-deploy'), 'ovirt-host-deploy'],
      [join(layout.dir, 'ovirt-host-mgmt'), 'ovirt-host-mgmt'],
      [join(layout.dir, 'otopi'), 'otopi'],
      [join(work, 'linked-mgmt'), 'ovirt-host-mgmt'],
    ] as const) {
      const r = spawnSync(path, ['--version'], { encoding: 'utf8', env: { PATH: tools } });
      expect(r.stderr, path).toBe('');
      expect(r.stdout).toBe(`${name} 0.1.0\n`);
    }
  });

  it('is rebuilt in place: a second build replaces the folder', () => {
    const again = buildEngineLayout({ root: join(work, 'root'), outDir: join(work, 'out') });
    expect(again.dir).toBe(layout.dir);
    expect(again.nodeVersion).toBeUndefined();
    expect(existsSync(join(layout.dir, 'runtime'))).toBe(false);
  });
});

describe("the engine's BootstrapCommand", () => {
  it('unpacks a plain tar into a private folder, runs the entry there with the machine dialect, and removes the folder', () => {
    const tmp = mkdtempSync(join(work, 'host-tmp-'));
    const tar = writeTar(
      treeEntries(
        new Map([['ovirt-host-mgmt', { data: Buffer.from('#!/bin/sh\necho "$0" "$@"; umask\n'), mode: 0o700 }]]),
      ),
    );
    const r = spawnSync('/bin/sh', ['-c', ovirtBootstrapCommand('ovirt-host-mgmt')], {
      input: tar,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', OVIRT_TMPDIR: tmp },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [program, ...rest] = r.stdout.trim().split(/\s+/);
    expect(program).toMatch(new RegExp(`^${tmp}/ovirt-[A-Za-z0-9]{10}/ovirt-host-mgmt$`));
    expect(rest).toEqual(['DIALOG/dialect=str:machine', 'DIALOG/customization=bool:True', '0077']);
    expect(spawnSync('ls', ['-A', tmp], { encoding: 'utf8' }).stdout).toBe('');
  });
});
