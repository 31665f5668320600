/**
 * The digest of an artifact's unpacked tree, as a host computes it with coreutils over its
 * cache entry before each run (deploy/bootstrap.ts, `otopi_tree`):
 *
 *   cd <entry> && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum
 *
 * that is, the SHA-256 of the lines `<hex sha256>  ./<path>`, one per regular file, sorted by
 * path bytewise. Computed here from the artifact's tar (ustar, as tar.ts writes it), so the host
 * compares its cache with what the engine sent, not with anything stored beside the cache.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { EngineError } from '../errors.js';
import { TAR_BLOCK } from './tar.js';

const memo = new Map<string, string>();

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8');
}

/** The tree digest of a gzip-compressed ustar archive's bytes. */
export function treeDigestOfTar(gz: Buffer): string {
  const tar = gunzipSync(gz);
  const lines: { path: string; line: string }[] = [];
  for (let offset = 0; offset + TAR_BLOCK <= tar.length;) {
    const block = tar.subarray(offset, offset + TAR_BLOCK);
    if (block.every((b) => b === 0)) break;
    const name = field(block, 0, 100);
    const prefix = field(block, 345, 155);
    const size = parseInt(field(block, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(block[156] ?? 0);
    if (!Number.isSafeInteger(size) || size < 0)
      throw new EngineError('BUNDLE_BAD_MANIFEST', 'a tar header has a bad size');
    offset += TAR_BLOCK;
    if (type === '0' || type === '\0') {
      const path = `./${prefix === '' ? name : `${prefix}/${name}`}`;
      const hex = createHash('sha256')
        .update(tar.subarray(offset, offset + size))
        .digest('hex');
      lines.push({ path, line: `${hex}  ${path}\n` });
    } else if (type !== '5') {
      throw new EngineError(
        'BUNDLE_BAD_MANIFEST',
        `the archive holds an entry of type '${type}': only files and folders are shipped`,
      );
    }
    offset += Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
  }
  lines.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return createHash('sha256')
    .update(lines.map((l) => l.line).join(''))
    .digest('hex');
}

/** The tree digest of an artifact file, computed once per file and content hash. */
export function treeDigest(artifact: { readonly file: string; readonly sha256: string }): string {
  const key = `${artifact.file}\0${artifact.sha256}`;
  let digest = memo.get(key);
  if (digest === undefined) {
    digest = treeDigestOfTar(readFileSync(artifact.file));
    memo.set(key, digest);
  }
  return digest;
}
