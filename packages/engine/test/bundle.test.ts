// The host bundle: what it holds, that it is byte-for-byte reproducible, that it unpacks
// quietly with GNU tar, and that its launcher finds (or clearly refuses) a Node.js.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/bundle/artifact.js';
import { buildBundle, type BuiltBundle } from '../src/bundle/build.js';
import { NODE_CHECK_SH } from '../src/bundle/node-check.js';
import { TAR_RECORD } from '../src/bundle/tar.js';
import { snapshotBuild } from './build-snapshot.js';

let work: string;
let root: string;
let first: BuiltBundle;
let second: BuiltBundle;

const sh = (script: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync('/bin/sh', ['-c', script, 'sh', ...args], { encoding: 'utf8', env });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'otopi-bundle-test-'));
  // The same inputs for both builds, whatever a build elsewhere does meanwhile.
  root = snapshotBuild(join(work, 'root'));
  first = await buildBundle({ root, outDir: join(work, 'one') });
  second = await buildBundle({ root, outDir: join(work, 'two') });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the bundle build', () => {
  it('lays out the launcher and CLI in bin/, the core as one node_modules package, the base group in plugins/', () => {
    expect(first.files).toEqual(
      expect.arrayContaining([
        'bin/otopi',
        'bin/otopi.js',
        'node_modules/@otopi/core/index.js',
        'node_modules/@otopi/core/package.json',
        'package.json',
      ]),
    );
    expect(first.files.some((f) => f.startsWith('plugins/otopi/') && f.endsWith('.js'))).toBe(true);
    expect(first.files.every((f) => /^(bin|node_modules\/@otopi\/core|plugins\/otopi)\/|^package\.json$/.test(f))).toBe(
      true,
    );
    expect(first.groups).toEqual(['otopi']);
    const pkg = JSON.parse(readFileSync(join(first.dir, 'package.json'), 'utf8')) as { type: string };
    expect(pkg.type).toBe('module');
    const launcher = readFileSync(join(first.dir, 'bin/otopi'), 'utf8');
    expect(launcher).toMatch(/^#!\/bin\/sh\n/);
    expect(launcher).toContain('otopi_node_ok()');
    expect(launcher).not.toContain('@NODE_CHECK@');
  });

  it('is reproducible: the same inputs give the same bytes and hash', () => {
    expect(second.sha256).toBe(first.sha256);
    expect(readFileSync(second.file).equals(readFileSync(first.file))).toBe(true);
    expect(sha256Hex(readFileSync(first.file))).toBe(first.sha256);
    expect(first.size).toBe(readFileSync(first.file).length);
  });

  it('changes its hash when an input changes', async () => {
    const changed = join(work, 'changed');
    cpSync(root, changed, { recursive: true });
    writeFileSync(join(changed, 'plugins/otopi/dist/extra.js'), 'export default undefined;\n');
    const third = await buildBundle({ root: changed, outDir: join(work, 'three') });
    expect(third.sha256).not.toBe(first.sha256);
  });

  it('is a tar padded to whole 10 KiB records that GNU tar unpacks without a word on stderr', () => {
    const tar = gunzipSync(readFileSync(first.file));
    expect(tar.length % TAR_RECORD).toBe(0);
    const into = join(work, 'unpacked');
    mkdirSync(into);
    const r = spawnSync('tar', ['--warning=no-timestamp', '-xzf', first.file, '-C', into], { encoding: 'utf8' });
    expect(r).toMatchObject({ status: 0, stderr: '' });
    const listed = spawnSync('tar', ['-tzf', first.file], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(listed.filter((p) => !p.endsWith('/')).sort()).toEqual([...first.files]);
  });

  it('fails clearly when the build output is missing', async () => {
    await expect(buildBundle({ root: join(work, 'nothing'), outDir: join(work, 'four') })).rejects.toThrow(/missing/);
  });
});

describe('the launcher', () => {
  let fake: string;
  // A PATH with the few tools the launcher uses and no node.
  let tools: string;
  beforeAll(() => {
    tools = join(work, 'tools');
    mkdirSync(tools);
    for (const tool of ['readlink', 'dirname', 'head', 'tr']) {
      const found = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(found, join(tools, tool));
    }
    fake = join(work, 'fake');
    mkdirSync(fake);
    for (const [name, version] of Object.entries({
      v18: 'v18.19.1',
      v2018: 'v20.18.3',
      v2019: 'v20.19.0',
      v22: 'v22.1.0',
      v100: 'v100.0.0',
      junk: 'hello',
    })) {
      writeFileSync(join(fake, name), `#!/bin/sh\necho ${version}\n`, { mode: 0o755 });
    }
    writeFileSync(join(fake, 'noexec'), '#!/bin/sh\necho v22.1.0\n', { mode: 0o644 });
    writeFileSync(join(fake, 'garbage'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]), { mode: 0o755 });
    // A truncated binary that crashes: the shell's "Segmentation fault" must not reach stderr.
    writeFileSync(join(fake, 'crash'), readFileSync(process.execPath).subarray(0, 4096), { mode: 0o755 });
  });

  it('accepts Node.js 20.19 and newer, and nothing else, silently', () => {
    const verdicts: Record<string, number | null> = {};
    for (const name of ['v18', 'v2018', 'v2019', 'v22', 'v100', 'junk', 'noexec', 'garbage', 'crash', 'missing']) {
      const r = sh(`${NODE_CHECK_SH}\notopi_node_ok "$1"`, [join(fake, name)]);
      expect(r.stderr).toBe('');
      verdicts[name] = r.status;
    }
    expect(verdicts).toEqual({
      v18: 1,
      v2018: 1,
      v2019: 0,
      v22: 0,
      v100: 0,
      junk: 1,
      noexec: 1,
      garbage: 1,
      crash: 1,
      missing: 1,
    });
    const error = sh(`${NODE_CHECK_SH}\notopi_node_error "$1"`, [join(fake, 'crash')]);
    expect(error.stderr).toBe('');
    expect(error.stdout).toContain(`found a program that is not Node.js at ${join(fake, 'crash')}.`);
    expect(sh(`${NODE_CHECK_SH}\notopi_node_ok ""`).status).toBe(1);
  });

  it('runs the installer with the Node.js on PATH, loading the bundled plugin group', () => {
    const r = spawnSync(join(first.dir, 'bin/otopi'), ['--dump-plan'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('otopi.system.info.log');
  });

  it('prefers OTOPI_NODE, and says in one ***L:ERROR line on stdout when it is too old', () => {
    const r = spawnSync(join(first.dir, 'bin/otopi'), ['--version'], {
      encoding: 'utf8',
      env: { ...process.env, OTOPI_NODE: join(fake, 'v18') },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      `***L:ERROR otopi needs Node.js 20.19 or newer on this host, and found v18.19.1 at ${join(fake, 'v18')}. ` +
        'Install Node.js 20.19+ or deploy the self-contained bundle, which brings its own runtime.\n',
    );
  });

  it('blames NODE_OPTIONS, not the Node.js, when NODE_OPTIONS is what stops it from starting', () => {
    const r = spawnSync(join(first.dir, 'bin/otopi'), ['--version'], {
      encoding: 'utf8',
      env: { ...process.env, OTOPI_NODE: process.execPath, NODE_OPTIONS: '--no-such-option' },
    });
    expect(r).toMatchObject({ status: 1, stderr: '' });
    expect(r.stdout).toBe(
      `***L:ERROR Node.js at ${process.execPath} refuses to start with the NODE_OPTIONS set in this environment; ` +
        'unset NODE_OPTIONS or correct it.\n',
    );
  });

  it('has no manager front ends: otopi deploy in a host bundle says where it runs', () => {
    expect(first.files.filter((f) => f.startsWith('bin/manager') || /(^|\/)deploy(-ca)?\.js$/.test(f))).toEqual([]);
    const r = spawnSync(join(first.dir, 'bin/otopi'), ['deploy', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(64);
    expect(r.stderr).toBe(
      "otopi: 'deploy' runs on the managing machine; this copy of otopi (a host bundle) has only the installer\n",
    );
  });

  it('says so when there is no Node.js at all', () => {
    const r = spawnSync('/bin/sh', [join(first.dir, 'bin/otopi')], { encoding: 'utf8', env: { PATH: tools } });
    expect(r).toMatchObject({ status: 1, stderr: '' });
    expect(r.stdout).toMatch(
      /^\*\*\*L:ERROR otopi needs Node\.js 20\.19 or newer on this host, and none was found\. [^\n]*\n$/,
    );
  });

  it('uses runtime/bin/node beside bin/ in an unpacked self-contained bundle', () => {
    const dir = join(work, 'self-contained');
    cpSync(first.dir, dir, { recursive: true });
    mkdirSync(join(dir, 'runtime/bin'), { recursive: true });
    symlinkSync(process.execPath, join(dir, 'runtime/bin/node'));
    chmodSync(join(dir, 'bin/otopi'), 0o755);
    const r = spawnSync(join(dir, 'bin/otopi'), ['--version'], { encoding: 'utf8', env: { PATH: tools } });
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(r.stdout).toMatch(/^otopi \d+\.\d+\.\d+/);
  });
});
