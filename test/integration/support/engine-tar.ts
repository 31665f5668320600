// The tar an oVirt engine makes of its BootstrapPackageDirectory (reference host-deploy.md §6.3,
// CachedTar): GNU tar, no compression, entries rooted at `./`, symlinks followed, folders and
// executables 0700, other files 0600, owned by root, padded to 10 240-byte records (GNU tar's
// default record size, as commons-compress pads). Made here with this machine's GNU tar.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';

export function engineTar(dir: string, file: string): { bytes: number } {
  execFileSync(
    'tar',
    [
      '--create',
      '--format=gnu',
      '--dereference',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      // rwX for the owner, nothing for others: 0755 → 0700, 0644 → 0600.
      '--mode=u+rwX,go=',
      '--file',
      file,
      '-C',
      dir,
      '.',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return { bytes: statSync(file).size };
}

/** `tar -tv` of the archive: mode, owner and path of every entry. */
export function tarListing(file: string): { mode: string; path: string }[] {
  return execFileSync('tar', ['-tvf', file], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const parts = l.split(/\s+/);
      return { mode: parts[0]!, path: parts.slice(5).join(' ') };
    });
}
