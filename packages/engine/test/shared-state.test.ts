/**
 * Engine-side state that concurrent deploys share: a CA folder and a vdsm id registry file.
 * Separate `otopi deploy` processes started together must create one CA between them and write
 * the registry as one writer would.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recordFigure } from '../../../test/reliability/support/figures.js';
import { raceProcesses } from '../../../test/support/barrier.js';

const engine = JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)));

describe('state shared by deploys in several processes', () => {
  it('one CA is created in a new folder by processes started together, and every one signs with it', async () => {
    let oneCa = 0;
    const rounds = 3;
    for (let round = 0; round < rounds; round++) {
      const dir = join(mkdtempSync(join(tmpdir(), 'otopi-ca-race-')), 'ca');
      const prelude = `const { CertificateAuthority } = await import(${engine});`;
      const script = `
        const ca = await CertificateAuthority.loadOrCreate(process.argv[1], { organization: 'race' });
        process.stdout.write(ca.pem);`;
      const pems = await raceProcesses(
        { prelude, script },
        Array.from({ length: 5 }, () => [dir]),
      );
      const onDisk = readFileSync(join(dir, 'ca.pem'), 'utf8');
      if (pems.every((p) => p === onDisk)) oneCa++;
    }
    recordFigure({
      item: 'concurrency',
      part: 'new CA folder',
      line: `concurrency (new CA folder): ${rounds} rounds of 5 processes started together: one CA, used by all, in ${oneCa}/${rounds}`,
      ok: oneCa === rounds ? 1 : 0,
      total: 1,
    });
    expect(oneCa).toBe(rounds);
  }, 120_000);

  it('a registry file written by processes started together has one header, and one holder per id', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'otopi-ids-race-')), 'vdsm-ids');
    // Hosts h0..h5 each claim their own id, and all of them claim the id 'shared'.
    const prelude = `const { VdsmIdRegistry } = await import(${engine});`;
    const script = `
      const [file, host] = process.argv.slice(1);
      const registry = VdsmIdRegistry.load(file);
      const own = await registry.claim('id-' + host, host, { persist: true });
      const shared = await registry.claim('shared', host, { persist: true });
      process.stdout.write(JSON.stringify({ own: own ?? null, shared: shared ?? null }));`;
    const hosts = Array.from({ length: 6 }, (_, i) => `h${i}`);
    const results = (
      await raceProcesses(
        { prelude, script },
        hosts.map((h) => [file, h]),
      )
    ).map((t) => JSON.parse(t) as { own: string | null; shared: string | null });
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines.filter((l) => l.startsWith('#'))).toHaveLength(1);
    expect(lines[0]).toMatch(/^# vdsm ids/);
    for (const h of hosts) expect(lines).toContain(`id-${h} ${h}`);
    expect(results.every((r) => r.own === null)).toBe(true);
    const sharedLines = lines.filter((l) => l.startsWith('shared '));
    expect(sharedLines).toHaveLength(1);
    const winner = sharedLines[0]!.split(' ')[1];
    // The winner was told nothing; every other host was told the winner holds it.
    expect(results.map((r, i) => (hosts[i] === winner ? r.shared === null : r.shared === winner))).toEqual(
      hosts.map(() => true),
    );
  }, 60_000);
});
