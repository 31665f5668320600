/**
 * Which bundle a deploy ships. The one in a bundle folder (`bundle/dist`, written by
 * `npm run bundle`) when it is current and holds the plugin groups asked for; otherwise, in a
 * source tree, a fresh one built from the build output into a private folder (the shared
 * bundle folder is left alone). The bundle is reproducible, so an unchanged build gives the
 * same hash and hosts that have it cached receive nothing. The runtime comes from the bundle
 * folder's manifest only: it is large and fetched from the npm registry by `npm run bundle`.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzip, constants as zlib } from 'node:zlib';
import {
  MANIFEST_FILE,
  readManifest,
  sha256Hex,
  writeFileAtomic,
  type BundleArtifact,
  type Manifest,
  type RuntimeArtifact,
} from '../bundle/artifact.js';
import { BUNDLE_NAME, collectBundleFiles } from '../bundle/build.js';
import { treeEntries, writeTar } from '../bundle/tar.js';
import { EngineError, isEngineError } from '../errors.js';

const gzipAsync = promisify(gzip);

export interface BundleSourceOptions {
  /** The bundle folder holding `manifest.json` (`bundle/dist`). */
  readonly dir: string;
  /** The source tree (holds `packages/*\/dist`, `plugins/*\/dist`, `bundle/launcher.sh`); undefined outside one. */
  readonly root?: string | undefined;
  /** Plugin groups the deploy runs besides `otopi`. */
  readonly groups?: readonly string[];
  /** Built groups found outside `plugins/<group>/dist`, by name. */
  readonly groupDirs?: Readonly<Record<string, string>>;
  /** Where a fresh bundle is written when one is needed (created 0700). */
  readonly buildDir: string;
}

export interface BundleChoice {
  readonly bundle: BundleArtifact;
  readonly runtime: RuntimeArtifact | undefined;
  /** `manifest`: the bundle folder's; `built`: built now from the build output. */
  readonly origin: 'manifest' | 'built';
  /** Things the user should know (a stale bundle folder, no runtime). */
  readonly notes: readonly string[];
}

function unpacksTo(compressed: Buffer, tar: Buffer): boolean {
  try {
    return gunzipSync(compressed).equals(tar);
  } catch {
    return false;
  }
}

function readIfThere(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function tryManifest(dir: string): { manifest?: Manifest; problem?: string } {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) return { problem: `${file} does not exist` };
  try {
    return { manifest: readManifest(file) };
  } catch (error) {
    if (!isEngineError(error)) throw error;
    return { problem: error.message };
  }
}

export async function resolveBundle(options: BundleSourceOptions): Promise<BundleChoice> {
  const groups = (options.groups ?? []).filter((g) => g !== 'otopi');
  const { manifest, problem } = tryManifest(options.dir);
  const notes: string[] = [];
  const runtime = manifest?.runtime;
  if (runtime === undefined) {
    notes.push(
      `no runtime in ${options.dir}: hosts without Node.js 20.19+ will refuse the deploy (run npm run bundle)`,
    );
  }
  const haveBuild = options.root !== undefined && existsSync(join(options.root, 'packages', 'cli', 'dist', 'otopi.js'));

  if (!haveBuild) {
    if (manifest === undefined) {
      throw new EngineError('BUNDLE_INPUT_MISSING', `no bundle to deploy: ${problem ?? 'no manifest'}`, {
        hint: 'Run npm run build && npm run bundle, or give the bundle folder with --bundle',
      });
    }
    const missing = groups.filter((g) => !manifest.bundle.groups.includes(g));
    if (missing.length > 0) {
      throw new EngineError(
        'BUNDLE_INPUT_MISSING',
        `the bundle in ${options.dir} lacks the plugin group(s) ${missing.join(', ')}`,
        {
          hint: `Rebuild it with npm run bundle -- ${missing.map((g) => `--group ${g}`).join(' ')}`,
        },
      );
    }
    return { bundle: manifest.bundle, runtime, origin: 'manifest', notes };
  }

  // Build the tar in memory first: when the bundle folder, or an earlier deploy, already has
  // these bytes compressed, ship that file (compressing again costs ~30 ms per deploy).
  const root = options.root!;
  const {
    files,
    version,
    groups: inside,
  } = collectBundleFiles({
    root,
    outDir: options.buildDir,
    groups,
    ...(options.groupDirs === undefined ? {} : { groupDirs: options.groupDirs }),
  });
  const tar = writeTar(treeEntries(files));
  const tarSha256 = sha256Hex(tar);
  if (manifest !== undefined && manifest.bundle.tarSha256 === tarSha256) {
    return { bundle: manifest.bundle, runtime, origin: 'manifest', notes };
  }
  // Named by the tar's hash, so the next deploy of the same build finds it without compressing.
  const file = join(options.buildDir, `${BUNDLE_NAME}-${tarSha256.slice(0, 16)}.tar.gz`);
  // Unpacking to check it holds exactly this tar costs a tenth of compressing it again.
  const found = readIfThere(file);
  const earlier = found !== undefined && unpacksTo(found, tar) ? found : undefined;
  const compressed = earlier ?? (await gzipAsync(tar, { level: zlib.Z_BEST_COMPRESSION }));
  const sha256 = sha256Hex(compressed);
  if (manifest !== undefined && manifest.bundle.sha256 === sha256) {
    return { bundle: manifest.bundle, runtime, origin: 'manifest', notes };
  }
  if (earlier === undefined) {
    mkdirSync(options.buildDir, { recursive: true, mode: 0o700 });
    writeFileAtomic(file, compressed);
  }
  let rawSize = 0;
  for (const f of files.values()) rawSize += f.data.length;
  notes.unshift(
    manifest === undefined
      ? `no bundle in ${options.dir} (${problem ?? 'no manifest'}): built one from the build output`
      : `the bundle in ${options.dir} is not the current build${groups.length === 0 ? '' : ` with ${groups.join(', ')}`}: built one from the build output`,
  );
  return {
    bundle: { file, sha256, size: compressed.length, version, groups: inside, rawSize, tarSha256 },
    runtime,
    origin: 'built',
    notes,
  };
}
