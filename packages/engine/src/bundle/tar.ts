/**
 * A small, deterministic ustar writer: the same entries give the same bytes, whatever the
 * clock, the umask or the build machine's users. Entries are written in the order given
 * (callers sort them), owned by root, with one fixed modification time, and the archive is
 * padded to whole 10 240-byte records, the record size GNU tar reads by default.
 */
import { EngineError } from '../errors.js';

export const TAR_BLOCK = 512;
export const TAR_RECORD = 10_240;
/** 2023-11-14T22:13:20Z: a fixed time in the past, so tar never sees a stamp in the future. */
export const TAR_MTIME = 1_700_000_000;

export interface TarEntry {
  /** Relative path with `/` separators; folders without a trailing slash. */
  readonly path: string;
  readonly type: 'file' | 'dir';
  /** Permission bits, e.g. 0o755. */
  readonly mode: number;
  /** File content (files only). */
  readonly data?: Buffer;
}

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as GNU tar writes them.
  const text = value.toString(8).padStart(width - 1, '0');
  if (text.length > width - 1) throw new EngineError('USAGE', `tar: ${value} does not fit a ${width}-byte field`);
  return `${text}\0`;
}

function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { name, prefix };
  }
  throw new EngineError('USAGE', `tar: path too long for ustar: ${path}`);
}

function header(entry: TarEntry, size: number): Buffer {
  if (entry.path === '' || entry.path.startsWith('/') || entry.path.split('/').includes('..')) {
    throw new EngineError('USAGE', `tar: not a relative path: '${entry.path}'`);
  }
  const block = Buffer.alloc(TAR_BLOCK);
  const { name, prefix } = splitName(entry.type === 'dir' ? `${entry.path}/` : entry.path);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(entry.mode & 0o7777, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(TAR_MTIME, 12), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(entry.type === 'dir' ? '5' : '0', 156, 'ascii');
  block.write('ustar\u000000', 257, 'ascii');
  block.write('root', 265, 'ascii');
  block.write('root', 297, 'ascii');
  block.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/** The archive for `entries`, in the order given, padded to whole records. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  const push = (b: Buffer): void => {
    parts.push(b);
    length += b.length;
  };
  for (const entry of entries) {
    const data = entry.type === 'file' ? (entry.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    push(header(entry, data.length));
    if (data.length > 0) {
      push(data);
      const rest = (TAR_BLOCK - (data.length % TAR_BLOCK)) % TAR_BLOCK;
      if (rest > 0) push(Buffer.alloc(rest));
    }
  }
  // End of archive (two zero blocks), then zeros up to the end of the record.
  const end = 2 * TAR_BLOCK;
  const total = Math.ceil((length + end) / TAR_RECORD) * TAR_RECORD;
  push(Buffer.alloc(total - length));
  return Buffer.concat(parts, total);
}

/** The entries for a set of files, with every parent folder, sorted by path. */
export function treeEntries(files: ReadonlyMap<string, { data: Buffer; mode: number }>, dirMode = 0o755): TarEntry[] {
  const dirs = new Set<string>();
  for (const path of files.keys()) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const entries: TarEntry[] = [
    ...[...dirs].map((path): TarEntry => ({ path, type: 'dir', mode: dirMode })),
    ...[...files].map(([path, f]): TarEntry => ({ path, type: 'file', mode: f.mode, data: f.data })),
  ];
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
