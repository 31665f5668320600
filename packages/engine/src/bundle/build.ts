/**
 * Builds the host bundle from the build output (`npm run build`): the CLI in `bin/`, the
 * core as `node_modules/@otopi/core` (so the CLI and every plugin import one instance), the
 * plugin groups in `plugins/`, and the sh launcher `bin/otopi` (and `bin/ovirt-host-deploy`,
 * `bin/ovirt-host-mgmt` when their group is inside). Writes the folder and a
 * deterministic `.tar.gz`: unchanged inputs give the same bytes and the same hash.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip, constants as zlib } from 'node:zlib';
import { EngineError } from '../errors.js';
import { sha256Hex, writeFileAtomic, type BundleArtifact } from './artifact.js';
import { engineOnlyPaths } from '../orchestrate/group-engine.js';
import { MIN_NODE_VERSION, NODE_CHECK_SH } from './node-check.js';
import { treeEntries, writeTar } from './tar.js';

const gzipAsync = promisify(gzip);

export interface BuildBundleOptions {
  /** The repository root, holding `packages/*\/dist`, `plugins/*\/dist` and `bundle/launcher.sh`. */
  readonly root: string;
  /** Where the folder `otopi-bundle/` and `otopi-bundle.tar.gz` go. */
  readonly outDir: string;
  /** Plugin groups to carry besides the base group `otopi`. */
  readonly groups?: readonly string[];
  /** Folders holding built plugin groups outside `plugins/<group>/dist`, by group name. */
  readonly groupDirs?: Readonly<Record<string, string>>;
}

export interface BuiltBundle extends BundleArtifact {
  /** The unpacked bundle folder. */
  readonly dir: string;
  /** Paths inside the bundle, sorted. */
  readonly files: readonly string[];
  /** Size of the uncompressed tar. */
  readonly tarSize: number;
}

export const BUNDLE_NAME = 'otopi-bundle';

/** The plugin groups that have an entry of their own (the command the engine runs), by group. */
export const GROUP_ENTRIES: Readonly<Record<string, string>> = {
  'host-deploy': 'ovirt-host-deploy',
  'host-mgmt': 'ovirt-host-mgmt',
};

type FileMap = Map<string, { data: Buffer; mode: number }>;

function need(path: string, what: string): void {
  if (!existsSync(path)) {
    throw new EngineError('BUNDLE_INPUT_MISSING', `${what} is missing: ${path}`, { hint: 'Run npm run build first' });
  }
}

function addTree(files: FileMap, from: string, to: string, leaveOut: readonly string[] = []): void {
  for (const name of readdirSync(from).sort()) {
    if (leaveOut.includes(name)) continue;
    const path = join(from, name);
    if (statSync(path).isDirectory()) addTree(files, path, `${to}/${name}`);
    else files.set(`${to}/${name}`, { data: readFileSync(path), mode: 0o644 });
  }
}

/** The launcher template `bundle/launcher.sh`, checked for its placeholders. */
export function readLauncherTemplate(root: string): string {
  const file = join(root, 'bundle', 'launcher.sh');
  need(file, 'the launcher template');
  const template = readFileSync(file, 'utf8');
  for (const mark of ['@NODE_CHECK@', '@ROOT@', '@ENTRY@'])
    if (!template.includes(mark)) throw new EngineError('BUNDLE_INPUT_MISSING', `${file} has no ${mark}`);
  return template;
}

/** A launcher running `bin/<entry>` of the bundle whose root is `root` from the launcher's folder. */
export function launcher(template: string, root: '.' | '..', entry: string): Buffer {
  return Buffer.from(
    template.replace('@NODE_CHECK@', NODE_CHECK_SH).replaceAll('@ROOT@', root).replaceAll('@ENTRY@', entry),
  );
}

const json = (value: unknown): Buffer => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);

/** Collects the bundle's files (path → content and mode) without writing anything. */
export function collectBundleFiles(options: BuildBundleOptions): { files: FileMap; version: string; groups: string[] } {
  const { root } = options;
  const groups = ['otopi', ...(options.groups ?? []).filter((g) => g !== 'otopi')];
  need(join(root, 'package.json'), 'the root package.json');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const files: FileMap = new Map();

  const template = readLauncherTemplate(root);
  files.set('bin/otopi', { data: launcher(template, '..', 'otopi.js'), mode: 0o755 });

  const cli = join(root, 'packages', 'cli', 'dist');
  need(join(cli, 'otopi.js'), 'the CLI build');
  for (const name of readdirSync(cli).sort()) {
    // `otopi deploy` is the manager's front end: it never runs on a host.
    if (name.endsWith('.js') && !name.startsWith('deploy'))
      files.set(`bin/${name}`, { data: readFileSync(join(cli, name)), mode: 0o644 });
  }

  const core = join(root, 'packages', 'core', 'dist', 'index.js');
  need(core, 'the core build');
  files.set('node_modules/@otopi/core/index.js', { data: readFileSync(core), mode: 0o644 });
  files.set('node_modules/@otopi/core/package.json', {
    data: json({ name: '@otopi/core', version, private: true, type: 'module', exports: { '.': './index.js' } }),
    mode: 0o644,
  });

  // A bundle with the host-deploy (host-mgmt) group can also be run by hand as
  // ovirt-host-deploy (ovirt-host-mgmt): the same launcher, running the CLI entry that adds
  // the group (and its own help).
  for (const [group, entry] of Object.entries(GROUP_ENTRIES)) {
    if (!groups.includes(group)) continue;
    need(join(cli, `${entry}.js`), `the ${entry} build`);
    files.set(`bin/${entry}`, { data: launcher(template, '..', `${entry}.js`), mode: 0o755 });
  }

  for (const group of groups) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(group))
      throw new EngineError('USAGE', `not a plugin group name: '${group}'`);
    const dist = options.groupDirs?.[group] ?? join(root, 'plugins', group, 'dist');
    need(dist, `the build of plugin group '${group}'`);
    // A group folder's package.json and engine-side program are the engine's (orchestrate/group-engine.ts).
    addTree(files, dist, `plugins/${group}`, engineOnlyPaths(group, dist));
  }

  // "type": "module" makes every .js file in the bundle ESM; `otopi` records what is inside.
  files.set('package.json', {
    data: json({
      name: BUNDLE_NAME,
      version,
      private: true,
      type: 'module',
      engines: { node: `>=${MIN_NODE_VERSION.major}.${MIN_NODE_VERSION.minor}` },
      otopi: { groups },
    }),
    mode: 0o644,
  });
  return { files, version, groups };
}

export async function buildBundle(options: BuildBundleOptions): Promise<BuiltBundle> {
  const { files, version, groups } = collectBundleFiles(options);
  const dir = join(options.outDir, BUNDLE_NAME);
  rmSync(dir, { recursive: true, force: true });
  for (const [path, { data, mode }] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), data, { mode });
  }
  const tar = writeTar(treeEntries(files));
  const compressed = await gzipAsync(tar, { level: zlib.Z_BEST_COMPRESSION });
  const file = join(options.outDir, `${BUNDLE_NAME}.tar.gz`);
  writeFileAtomic(file, compressed);
  let rawSize = 0;
  for (const f of files.values()) rawSize += f.data.length;
  return {
    file,
    sha256: sha256Hex(compressed),
    size: compressed.length,
    version,
    groups,
    rawSize,
    tarSha256: sha256Hex(tar),
    dir,
    files: [...files.keys()].sort(),
    tarSize: tar.length,
  };
}
