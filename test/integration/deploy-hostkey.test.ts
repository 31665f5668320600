// Host keys in `otopi deploy`: a host whose key does not match its known_hosts line or its
// pinned fingerprint is refused with both fingerprints and the other hosts still install;
// unknown hosts are refused unless --accept-new-host-keys, which records their keys in the
// inventory's known_hosts for the strict runs that follow.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labHost, labStateDir } from '../lab/lab.js';
import { type DeployRun, runDeploy, writeInventory } from './support/deploy-lab.js';

let h1: LabHost;
let h2: LabHost;
/** A lab host outside this file's pair whose key serves as "another key"; it is never connected to. */
let stranger: LabHost;
const detail = (run: DeployRun): string => `${run.stdout}\n${run.stderr}`;

beforeAll(() => {
  [h1, h2] = HOSTS.deployHostKey.map((n) => labHost(n)) as [LabHost, LabHost];
  stranger = labHost(1);
});

describe('host keys', () => {
  it('refuses a host whose known_hosts line holds another key, showing both fingerprints; the other installs', async () => {
    const lab = readFileSync(join(labStateDir(), 'known_hosts'), 'utf8').split('\n');
    const keyOf = (h: LabHost): string =>
      lab
        .find((l) => l.startsWith(`${h.address} `))!
        .split(' ')
        .slice(1)
        .join(' ');
    const file = join(mkdtempSync(join(tmpdir(), 'otopi-kh-')), 'known_hosts');
    // h2 is recorded with another host's key: as if someone else answered at h2's address.
    writeFileSync(file, `${h1.address} ${keyOf(h1)}\n${h2.address} ${keyOf(stranger)}\n`);
    const run = await runDeploy(writeInventory([h1, h2], { hostKeys: file }), []);
    expect(run.code, detail(run)).toBe(1);
    expect(run.hosts[h1.name]?.result).toBe('installed');
    const refused = run.hosts[h2.name]!;
    expect(refused).toMatchObject({ result: 'failed', stage: 'SSH connection', bytes: { total: 0 } });
    expect(refused.cause).toContain(`it presented ssh-ed25519 ${h2.hostKeyFingerprint}`);
    expect(refused.cause).toContain(`expected ssh-ed25519 ${stranger.hostKeyFingerprint} (${file}:2)`);
    expect(run.stdout).toContain('2 hosts: 1 installed, 1 failed, 0 aborted');
    expect(run.stdout).toMatch(new RegExp(`${h2.name}: failed at SSH connection: host key of [0-9.]+ does not match`));
    // The known_hosts file was not touched.
    expect(readFileSync(file, 'utf8').split('\n')[1]).toBe(`${h2.address} ${keyOf(stranger)}`);
  });

  it('refuses a host whose pinned fingerprint is another key', async () => {
    const inventory = writeInventory([h1, h2]);
    const text = readFileSync(inventory, 'utf8').replace(
      `fingerprint = ${h2.hostKeyFingerprint}`,
      `fingerprint = ${stranger.hostKeyFingerprint}`,
    );
    writeFileSync(inventory, text);
    const run = await runDeploy(inventory, []);
    expect(run.code, detail(run)).toBe(1);
    expect(run.hosts[h1.name]?.result).toBe('installed');
    expect(run.hosts[h2.name]).toMatchObject({ result: 'failed', stage: 'SSH connection' });
    expect(run.hosts[h2.name]!.cause).toContain(
      `presented ssh-ed25519 ${h2.hostKeyFingerprint}, expected ${stranger.hostKeyFingerprint}`,
    );
  });

  it('refuses unknown hosts by default; --accept-new-host-keys records them, and later runs check them strictly', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'otopi-kh-')), 'known_hosts');
    writeFileSync(file, '');
    const inventory = writeInventory([h1, h2], { hostKeys: file });

    const strict = await runDeploy(inventory, []);
    expect(strict.code, detail(strict)).toBe(1);
    for (const h of [h1, h2]) {
      expect(strict.hosts[h.name]).toMatchObject({ result: 'failed', stage: 'SSH connection' });
      expect(strict.hosts[h.name]!.cause).toContain(
        `is not in ${file}; it presented ssh-ed25519 ${h.hostKeyFingerprint}`,
      );
    }
    expect(readFileSync(file, 'utf8')).toBe('');

    const tofu = await runDeploy(inventory, ['--accept-new-host-keys']);
    expect(tofu.code, detail(tofu)).toBe(0);
    for (const h of [h1, h2])
      expect(tofu.hosts[h.name]!.hostKey).toEqual({
        type: 'ssh-ed25519',
        fingerprint: h.hostKeyFingerprint,
        learnt: true,
      });
    expect(tofu.stdout).toContain(
      `${h1.name}: connected, host key ssh-ed25519 ${h1.hostKeyFingerprint} (new: recorded in known_hosts)`,
    );
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);

    const again = await runDeploy(inventory, []);
    expect(again.code, detail(again)).toBe(0);
    for (const h of [h1, h2]) expect(again.hosts[h.name]!.hostKey?.learnt).toBe(false);
  });
});
