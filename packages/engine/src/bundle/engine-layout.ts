/**
 * The engine layout: one folder an oVirt engine tars as it is (its `BootstrapPackageDirectory`,
 * `interface-3` by default) and streams into its `BootstrapCommand`, which unpacks it into a
 * private temporary folder and runs `<folder>/ovirt-host-deploy` or `<folder>/ovirt-host-mgmt`
 * (reference host-deploy.md §6.3). So the entries sit at the top, each a launcher that finds
 * the bundle's root and its runtime beside itself, and the Node.js runtime is inside,
 * uncompressed: the engine tars plainly and the host's tar unpacks without gzip. A host then
 * needs nothing but sh, coreutils and tar, as with the original.
 *
 * ```
 * interface-3/
 *   ovirt-host-deploy  ovirt-host-mgmt  otopi     launchers (root '.')
 *   bin/ node_modules/ plugins/ package.json      the host bundle (collectBundleFiles)
 *   runtime/bin/node  runtime/LICENSE             the runtime artifact, unpacked
 * ```
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EngineError } from '../errors.js';
import type { RuntimeArtifact } from './artifact.js';
import { GROUP_ENTRIES, collectBundleFiles, launcher, readLauncherTemplate } from './build.js';

/** The folder name oVirt's engine tars by default (`/usr/share/ovirt-host-deploy/interface-3`). */
export const ENGINE_LAYOUT_NAME = 'interface-3';

/** The groups the engine layout always carries: both programs the engine runs. */
export const ENGINE_LAYOUT_GROUPS = ['host-deploy', 'host-mgmt'] as const;

export interface EngineLayoutOptions {
  /** The repository root (the build output, `bundle/launcher.sh`). */
  readonly root: string;
  /** Where `interface-3/` is written (replaced as a whole). */
  readonly outDir: string;
  /** The runtime to unpack inside; without it the hosts need Node.js 20.19+ of their own. */
  readonly runtime?: RuntimeArtifact | undefined;
  /** More plugin groups besides `host-deploy` and `host-mgmt`. */
  readonly groups?: readonly string[];
  /** Built groups outside `plugins/<group>/dist`, by name. */
  readonly groupDirs?: Readonly<Record<string, string>>;
}

export interface EngineLayout {
  readonly dir: string;
  /** The entries at the top, e.g. `['otopi', 'ovirt-host-deploy', 'ovirt-host-mgmt']`. */
  readonly entries: readonly string[];
  readonly groups: readonly string[];
  /** The Node.js version inside, or undefined without a runtime. */
  readonly nodeVersion: string | undefined;
  /** Bytes of every file but the runtime. */
  readonly bundleSize: number;
}

/**
 * Writes the engine layout. It is built beside its final place (`interface-3.new`) and renamed
 * into it, so an engine never tars a half-written folder.
 */
export function buildEngineLayout(options: EngineLayoutOptions): EngineLayout {
  const groups = [...new Set([...ENGINE_LAYOUT_GROUPS, ...(options.groups ?? [])])];
  const { files, groups: inside } = collectBundleFiles({
    root: options.root,
    outDir: options.outDir,
    groups,
    ...(options.groupDirs === undefined ? {} : { groupDirs: options.groupDirs }),
  });
  // The launchers in bin/ are the host bundle's; here the entries at the top replace them.
  for (const path of [...files.keys()]) if (path.startsWith('bin/') && !path.endsWith('.js')) files.delete(path);
  const template = readLauncherTemplate(options.root);
  const entries = ['otopi', ...inside.flatMap((g) => (GROUP_ENTRIES[g] === undefined ? [] : [GROUP_ENTRIES[g]]))];
  for (const entry of entries) files.set(entry, { data: launcher(template, '.', `${entry}.js`), mode: 0o755 });

  const dir = join(options.outDir, ENGINE_LAYOUT_NAME);
  const work = `${dir}.new`;
  rmSync(work, { recursive: true, force: true });
  let bundleSize = 0;
  for (const [path, { data, mode }] of files) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), data, { mode });
    chmodSync(join(work, path), mode);
    bundleSize += data.length;
  }
  if (options.runtime !== undefined) {
    const target = join(work, 'runtime');
    mkdirSync(target, { recursive: true });
    const r = spawnSync('tar', ['-xzf', options.runtime.file, '-C', target, '--no-same-owner'], { encoding: 'utf8' });
    if (r.status !== 0 || !existsSync(join(target, 'bin', 'node')))
      throw new EngineError(
        'RUNTIME_UNAVAILABLE',
        `cannot unpack ${options.runtime.file}: ${r.error?.message ?? r.stderr.trim()}`,
        { file: options.runtime.file },
      );
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return { dir, entries, groups: inside, nodeVersion: options.runtime?.nodeVersion, bundleSize };
}
