// The base group's SSH key plugin on a real host: a key is authorized once, with the right
// modes and owner, next to the keys already there (the lab's own among them), and a second
// run changes nothing. Host state is read from the host's files, not through the tool.
import { readFileSync, statSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, hostRootPath, labExec, labHost } from '../lab/lab.js';
import { installCli, runOtopi, type RemoteRun } from './support/remote-cli.js';

const ok = (run: RemoteRun): void => expect(run.code, `${run.stdout}\n${run.stderr}\n${run.log.slice(-3000)}`).toBe(0);
// A throwaway public key (its private half was discarded).
const ENGINE_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID9E0o0j9qwuRfNP0H9WbQ8qwQE/7/KkqeQXt3Lb7Rg7';

describe('SSH authorized key on a lab host', () => {
  let h1: LabHost;
  let labKeys = '';
  beforeAll(async () => {
    h1 = labHost(HOSTS.baseSsh[0]);
    await installCli(h1);
    labKeys = readFileSync(hostRootPath(h1, 'root/.ssh/authorized_keys'), 'utf8');
  });

  it('adds an ed25519 key for root once, keeping the keys already there', async () => {
    const statements = ['NETWORK/sshEnable=bool:True', `NETWORK/sshKey=str:${ENGINE_KEY} ovirt-engine`];
    const run = await runOtopi(h1, statements);
    ok(run);
    expect(run.stdout).toContain("SSH ssh-ed25519 key 'ovirt-engine' for root: added to /root/.ssh/authorized_keys");
    const path = hostRootPath(h1, 'root/.ssh/authorized_keys');
    expect(readFileSync(path, 'utf8')).toBe(`${labKeys}${ENGINE_KEY} ovirt-engine\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);

    const again = await runOtopi(h1, statements);
    ok(again);
    expect(again.stdout).toContain("SSH ssh-ed25519 key 'ovirt-engine' for root is already authorized: no changes");
    expect(readFileSync(path, 'utf8')).toBe(`${labKeys}${ENGINE_KEY} ovirt-engine\n`);
  });

  it('for another user, creates ~/.ssh 0700 and the file 0600, both owned by the user; a new comment replaces the old line', async () => {
    await labExec(h1, ['useradd', '-m', '-s', '/bin/sh', 'deploy'], { check: true });
    const run = await runOtopi(h1, [
      'NETWORK/sshEnable=bool:True',
      `NETWORK/sshKey=str:${ENGINE_KEY} engine-old`,
      'NETWORK/sshUser=str:deploy',
    ]);
    ok(run);
    const uid = Number((await labExec(h1, ['id', '-u', 'deploy'], { check: true })).stdout);
    const dir = statSync(hostRootPath(h1, 'home/deploy/.ssh'));
    const file = statSync(hostRootPath(h1, 'home/deploy/.ssh/authorized_keys'));
    expect([dir.mode & 0o777, dir.uid, file.mode & 0o777, file.uid]).toEqual([0o700, uid, 0o600, uid]);

    const renamed = await runOtopi(h1, [
      'NETWORK/sshEnable=bool:True',
      `NETWORK/sshKey=str:${ENGINE_KEY} engine-new`,
      'NETWORK/sshUser=str:deploy',
    ]);
    ok(renamed);
    expect(readFileSync(hostRootPath(h1, 'home/deploy/.ssh/authorized_keys'), 'utf8')).toBe(
      `${ENGINE_KEY} engine-new\n`,
    );
  });

  it('refuses a key that is not one', async () => {
    const run = await runOtopi(h1, ['NETWORK/sshEnable=bool:True', 'NETWORK/sshKey=str:ssh-rsa AAAAnotakey']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('SSH public key is invalid');
  });
});
