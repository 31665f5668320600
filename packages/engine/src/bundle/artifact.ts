/**
 * Artifacts: the compressed files shipped to hosts (a bundle, a runtime), each named by the
 * SHA-256 of its bytes, and the manifest that lists what a build produced.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { EngineError } from '../errors.js';

export interface Artifact {
  /** The artifact file (a gzip-compressed tar). */
  readonly file: string;
  /** SHA-256 of the file, hex: the host's cache key. */
  readonly sha256: string;
  /** Size of the file in bytes. */
  readonly size: number;
}

export interface BundleArtifact extends Artifact {
  readonly version: string;
  /** Plugin groups inside, `otopi` first. */
  readonly groups: readonly string[];
  /** Total size of the files inside, before tar and compression. */
  readonly rawSize: number;
  /**
   * SHA-256 of the tar before compression: a deploy from a source tree compares it with the
   * build output's, which is much cheaper than compressing again. Absent in older manifests.
   */
  readonly tarSha256?: string | undefined;
}

export interface RuntimeArtifact extends Artifact {
  /** What its `bin/node --version` prints, e.g. `v24.21.0`. */
  readonly nodeVersion: string;
  /** Size of the node binary as shipped (after stripping, when stripped). */
  readonly rawSize: number;
  /** Size of the binary as the package carries it. */
  readonly originalSize: number;
  readonly stripped: boolean;
}

export interface Manifest {
  readonly bundle: BundleArtifact;
  readonly runtime?: RuntimeArtifact;
}

export const MANIFEST_FILE = 'manifest.json';

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes a file through a temporary name, so a reader sees the old or the new one whole. */
export function writeFileAtomic(file: string, data: Buffer | string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, data);
  renameSync(temp, file);
}

/** Writes the manifest with file paths relative to its folder. */
export function writeManifest(dir: string, manifest: Manifest): string {
  const file = (a: Artifact): string => (a.file.startsWith(`${dir}/`) ? a.file.slice(dir.length + 1) : a.file);
  const { bundle, runtime } = manifest;
  const data = {
    bundle: {
      file: file(bundle),
      sha256: bundle.sha256,
      size: bundle.size,
      version: bundle.version,
      groups: bundle.groups,
      rawSize: bundle.rawSize,
      ...(bundle.tarSha256 === undefined ? {} : { tarSha256: bundle.tarSha256 }),
    },
    ...(runtime === undefined
      ? {}
      : {
          runtime: {
            file: file(runtime),
            sha256: runtime.sha256,
            size: runtime.size,
            nodeVersion: runtime.nodeVersion,
            rawSize: runtime.rawSize,
            originalSize: runtime.originalSize,
            stripped: runtime.stripped,
          },
        }),
  };
  const path = join(dir, MANIFEST_FILE);
  writeFileAtomic(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

function checkArtifact(value: unknown, at: string, base: string): Artifact {
  const a = value as Partial<Artifact> | undefined;
  if (
    typeof a?.file !== 'string' ||
    typeof a.sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(a.sha256) ||
    !Number.isSafeInteger(a.size)
  ) {
    throw new EngineError('BUNDLE_BAD_MANIFEST', `${at}: expected file, sha256 and size`);
  }
  const file = isAbsolute(a.file) ? a.file : resolve(base, a.file);
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new EngineError('BUNDLE_INPUT_MISSING', `${at}: ${file} is missing`, {
      cause: error,
      hint: 'Run npm run bundle',
    });
  }
  if (size !== a.size)
    throw new EngineError('BUNDLE_BAD_MANIFEST', `${at}: ${file} has ${size} bytes, the manifest says ${a.size}`);
  return { ...(a as Artifact), file };
}

/** Reads a build's manifest (`bundle/dist/manifest.json` by default), checking that each file is there with its size. */
export function readManifest(file: string): Manifest {
  let data: { bundle?: unknown; runtime?: unknown };
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as typeof data;
  } catch (error) {
    throw new EngineError('BUNDLE_INPUT_MISSING', `cannot read the bundle manifest ${file}`, {
      cause: error,
      hint: 'Run npm run bundle',
    });
  }
  const base = dirname(file);
  const bundle = checkArtifact(data.bundle, `${file}: bundle`, base) as BundleArtifact;
  if (data.runtime === undefined) return { bundle };
  const runtime = checkArtifact(data.runtime, `${file}: runtime`, base) as RuntimeArtifact;
  if (typeof runtime.nodeVersion !== 'string' || !/^v\d+\.\d+\.\d+$/.test(runtime.nodeVersion)) {
    throw new EngineError('BUNDLE_BAD_MANIFEST', `${file}: runtime: expected nodeVersion like v24.21.0`);
  }
  return { bundle, runtime };
}
