// Which bundle a deploy from a source tree ships: the bundle folder's when it holds the current
// build, else one built now into a private folder, which the next deploy of the same build
// reuses without compressing again, unless it no longer holds that build.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, writeManifest } from '../src/bundle/artifact.js';
import { buildBundle } from '../src/bundle/build.js';
import { resolveBundle } from '../src/orchestrate/bundle-source.js';
import { snapshotBuild } from './build-snapshot.js';

let work: string;
let root: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'otopi-bundle-source-'));
  root = snapshotBuild(join(work, 'root'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the bundle a deploy from a source tree ships', () => {
  it('builds one when the bundle folder has none, and reuses it for the same build', async () => {
    const options = { dir: join(work, 'empty'), root, buildDir: join(work, 'build') };
    const first = await resolveBundle(options);
    expect(first.origin).toBe('built');
    expect(first.notes[0]).toContain('built one from the build output');
    expect(sha256Hex(readFileSync(first.bundle.file))).toBe(first.bundle.sha256);
    const written = statSync(first.bundle.file).mtimeMs;

    const again = await resolveBundle(options);
    expect(again.bundle).toEqual(first.bundle);
    expect(statSync(again.bundle.file).mtimeMs).toBe(written);
  });

  it('builds it again when the file it would reuse no longer holds that build', async () => {
    const options = { dir: join(work, 'empty'), root, buildDir: join(work, 'build-tampered') };
    const first = await resolveBundle(options);
    writeFileSync(first.bundle.file, 'not a gzip file');
    const again = await resolveBundle(options);
    expect(again.bundle.sha256).toBe(first.bundle.sha256);
    expect(sha256Hex(readFileSync(again.bundle.file))).toBe(first.bundle.sha256);
  });

  it("ships the bundle folder's own file when it holds the current build, by the tar's hash or the file's", async () => {
    const dir = join(work, 'dist');
    const built = await buildBundle({ root, outDir: dir });
    writeManifest(dir, { bundle: built });
    const current = await resolveBundle({ dir, root, buildDir: join(work, 'build-unused') });
    expect(current).toMatchObject({ origin: 'manifest', bundle: { file: built.file, sha256: built.sha256 } });

    // A manifest written before the tar's hash was recorded: compared by the compressed file.
    const { tarSha256: _dropped, ...older } = built;
    writeManifest(dir, { bundle: older });
    const old = await resolveBundle({ dir, root, buildDir: join(work, 'build-unused') });
    expect(old).toMatchObject({ origin: 'manifest', bundle: { file: built.file, sha256: built.sha256 } });
  });
});
