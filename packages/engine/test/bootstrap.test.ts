// The bootstrap program run by a local /bin/sh against a private cache folder, with small
// fake artifacts: what it asks for, that it reads exactly the artifact bytes and leaves the
// rest of standard input to the installer, how it checks hashes and the cache folder.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/bundle/artifact.js';
import { treeEntries, writeTar } from '../src/bundle/tar.js';
import { treeDigestOfTar } from '../src/bundle/tree-digest.js';
import { bootstrapProgram, type BootstrapOptions } from '../src/deploy/bootstrap.js';
import { parseBundleStatus } from '../src/deploy/deploy.js';

interface Fake {
  data: Buffer;
  sha256: string;
  size: number;
}

function artifact(files: Record<string, { text: string; mode: number }>): Fake {
  const map = new Map(Object.entries(files).map(([p, f]) => [p, { data: Buffer.from(f.text), mode: f.mode }]));
  const data = gzipSync(writeTar(treeEntries(map)));
  return { data, sha256: sha256Hex(data), size: data.length };
}

// The fake installer shows its arguments, the runtime it was given, and the first line of its input.
const bundleFake = artifact({
  'bin/otopi': {
    text: '#!/bin/sh\necho "args:$*"\necho "node:$OTOPI_NODE"\nread -r line\necho "input:$line"\n',
    mode: 0o755,
  },
  'lib/data.txt': { text: 'the installer reads this\n', mode: 0o644 },
});
const bundle = { ...bundleFake, treeSha256: treeDigestOfTar(bundleFake.data) };
const runtime = artifact({ 'bin/node': { text: '#!/bin/sh\necho v99.1.2\n', mode: 0o755 } });
const runtimeInfo = { sha256: runtime.sha256, size: runtime.size, nodeVersion: 'v99.1.2' };

let work: string;
let cache: string;
let tools: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'otopi-bootstrap-test-'));
  // A PATH with what the program uses, and no node.
  tools = join(work, 'tools');
  mkdirSync(tools);
  for (const tool of [
    'mkdir',
    'stat',
    'id',
    'mktemp',
    'chmod',
    'rm',
    'dd',
    'sha256sum',
    'tar',
    'gzip',
    'mv',
    'head',
    'tr',
    'cat',
    'find',
    'sort',
    'xargs',
    'cut',
    'dirname',
  ]) {
    symlinkSync(
      spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(),
      join(tools, tool),
    );
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeEach(() => {
  cache = join(mkdtempSync(join(work, 'host-')), 'cache');
});

interface Run {
  lines: string[];
  stderr: string;
  code: number | null;
  needed: string[] | undefined;
}

/** Runs the program; on its status line, sends what `send` returns for the needed kinds, then `after`. */
function run(
  options: Partial<BootstrapOptions>,
  send?: (needed: string[]) => Buffer,
  after = 'hello from the engine\n',
): Promise<Run> {
  const program = bootstrapProgram({ bundle, runtime: runtimeInfo, cacheRoot: cache, ...options });
  const child = spawn('/bin/sh', ['-c', program], { env: { PATH: tools }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let stderr = '';
  let needed: string[] | undefined;
  child.stdin.on('error', () => {});
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (needed !== undefined) return;
    for (const line of out.split('\n').slice(0, -1)) {
      const status = parseBundleStatus(line);
      if (status === undefined) continue;
      needed = status;
      const payload = Buffer.concat(status.map((kind) => (send ?? defaultSend)([kind])));
      // Artifacts and the first dialog line in one write: the installer must still get the line whole.
      child.stdin.write(Buffer.concat([payload, Buffer.from(after)]));
    }
  });
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ lines: out.split('\n').filter((l) => l !== ''), stderr, code, needed }));
  });
}
const defaultSend = ([kind]: string[]): Buffer => (kind === 'bundle' ? bundle.data : runtime.data);

describe('the bootstrap program', () => {
  it('asks for both artifacts on a bare host, caches them, and gives the rest of stdin to the installer', async () => {
    const first = await run({ statements: ["DEMO/name=str:it's me", 'CORE/x=int:1'] });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.lines).toEqual([
      '**%BundleNeed: bundle runtime',
      '**%BundleStored',
      "args:DIALOG/dialect=str:machine DIALOG/customization=bool:True DEMO/name=str:it's me CORE/x=int:1",
      `node:${cache}/runtimes/${runtime.sha256}/bin/node`,
      'input:hello from the engine',
    ]);
    for (const dir of [cache, join(cache, 'bundles'), join(cache, 'runtimes'), join(cache, 'bundles', bundle.sha256)]) {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    }
    expect(existsSync(join(cache, 'bundles', bundle.sha256, '.otopi-complete'))).toBe(true);
    // Nothing is left of the incoming folder.
    expect(readdirSync(cache).sort()).toEqual(['bundles', 'runtimes']);

    const second = await run({});
    expect(second).toMatchObject({ stderr: '', code: 0, needed: [] });
    expect(second.lines[0]).toBe('**%BundleCached');
    expect(second.lines.at(-1)).toBe('input:hello from the engine');
  });

  it('replaces a broken cached runtime and keeps the cached bundle', async () => {
    await run({});
    writeFileSync(join(cache, 'runtimes', runtime.sha256, 'bin', 'node'), '#!/bin/sh\necho v1.0.0\n');
    const again = await run({});
    expect(again).toMatchObject({ stderr: '', code: 0, needed: ['runtime'] });
    expect(again.lines.at(-1)).toBe('input:hello from the engine');
    const third = await run({});
    expect(third.needed).toEqual([]);
  });

  it('uses a suitable Node.js of the host instead of the runtime', async () => {
    const bin = join(work, 'node-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'node'), '#!/bin/sh\necho v22.3.0\n', { mode: 0o755 });
    const program = bootstrapProgram({ bundle, runtime: runtimeInfo, cacheRoot: cache });
    const child = spawnSync('/bin/sh', ['-c', program], {
      env: { PATH: `${bin}:${tools}` },
      input: Buffer.concat([bundle.data, Buffer.from('x\n')]),
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(child.stdout.split('\n').slice(0, 4)).toEqual([
      '**%BundleNeed: bundle',
      '**%BundleStored',
      expect.stringMatching(/^args:/),
      `node:${bin}/node`,
    ]);
  });

  it('stops with one ***L:ERROR line when there is no Node.js and no runtime was offered', async () => {
    const r = await run({ runtime: undefined });
    expect(r).toMatchObject({ stderr: '', code: 1, needed: undefined });
    expect(r.lines).toEqual([
      expect.stringMatching(/^\*\*\*L:ERROR otopi needs Node\.js 20\.19 or newer on this host, and none was found\. /),
    ]);
  });

  it('refuses an artifact whose bytes do not match its hash, and caches nothing', async () => {
    const tampered = Buffer.from(bundle.data);
    tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 0xff;
    const r = await run({}, ([kind]) => (kind === 'bundle' ? tampered : runtime.data));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.lines).toEqual([
      '**%BundleNeed: bundle runtime',
      `***L:ERROR the bundle received does not match its SHA-256 ${bundle.sha256}`,
    ]);
    expect(readdirSync(join(cache, 'bundles'))).toEqual([]);
    expect(readdirSync(cache).sort()).toEqual(['bundles', 'runtimes']);
  });

  it('refuses a cache folder that others can read', async () => {
    mkdirSync(cache, { recursive: true });
    chmodSync(cache, 0o755);
    const r = await run({});
    expect(r).toMatchObject({ code: 1, stderr: '', needed: undefined });
    expect(r.lines).toEqual([
      `***L:ERROR the cache folder ${cache} must belong to user ${process.getuid?.() ?? 0} with mode 0700; remove it or fix it`,
    ]);
  });

  it('checks a cached bundle against its tree hash before each run: an altered one is set aside, fetched again, never run', async () => {
    await run({});
    const entry = join(cache, 'bundles', bundle.sha256);
    // Same size, other content: only the hash can tell.
    writeFileSync(join(entry, 'lib', 'data.txt'), 'the installer reads THIS\n');
    const again = await run({});
    expect(again).toMatchObject({ stderr: '', code: 0, needed: ['bundle'] });
    expect(again.lines.slice(0, 3)).toEqual([
      `***L:WARNING the cached bundle ${entry} fails its check (SHA-256, owner or modes): set aside, fetched again`,
      '**%BundleNeed: bundle',
      '**%BundleStored',
    ]);
    expect(again.lines.at(-1)).toBe('input:hello from the engine');
    // A file added to the entry, or one that others may write, is caught too.
    writeFileSync(join(entry, 'bin', 'extra.js'), '');
    expect((await run({})).needed).toEqual(['bundle']);
    chmodSync(join(entry, 'bin', 'otopi'), 0o777);
    expect((await run({})).needed).toEqual(['bundle']);
    expect((await run({})).needed).toEqual([]);
  });

  it('refuses a bundle whose unpacked tree differs from the hash the engine sent', async () => {
    const r = await run({ bundle: { ...bundle, treeSha256: '0'.repeat(64) } });
    expect(r.code).toBe(1);
    expect(r.lines.at(-1)).toMatch(/^\*\*\*L:ERROR the bundle unpacked in .* does not match what was sent$/);
    expect(readdirSync(join(cache, 'bundles'))).toEqual([]);
  });

  it('refuses a cache below a folder that other users may write', async () => {
    const open = join(work, 'open');
    mkdirSync(open, { recursive: true });
    chmodSync(open, 0o777);
    const r = await run({ cacheRoot: join(open, 'cache') });
    expect(r).toMatchObject({ code: 1, stderr: '', needed: undefined });
    expect(r.lines).toEqual([`***L:ERROR ${open}, above the cache folder, may be written by other users (mode 777)`]);
  });

  it('always runs the runtime when asked to prefer it', async () => {
    const r = await run({ preferRuntime: true });
    expect(r.needed).toEqual(['bundle', 'runtime']);
  });
});
