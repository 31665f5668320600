// Password logins and where a password must never show. One host takes a root password
// (chpasswd, sshd password login enabled by a drop-in); the inventory gives it through an
// environment variable. A second host is given a wrong password from a file and must fail at
// login. Neither canary may appear in the progress output, the event stream, any engine log
// (which also holds the host's own log), or the hosts' files.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { runDeploy, writeInventory } from './support/deploy-lab.js';

const CANARY = 'Canary-pw-7b1f02e4';
const WRONG = 'Canary-wrong-5c3d9a';
const DROP_IN = '/etc/ssh/sshd_config.d/05-otopi-deploy-test.conf';
let good: LabHost;
let wrong: LabHost;

async function allowPasswords(host: LabHost): Promise<void> {
  await labExec(
    host,
    `printf 'PermitRootLogin yes\\nPasswordAuthentication yes\\nKbdInteractiveAuthentication yes\\n' >${DROP_IN} && systemctl restart ssh`,
    { check: true },
  );
  await labExec(host, ['chpasswd'], { input: `root:${CANARY}\n`, check: true });
}

beforeAll(async () => {
  [good, wrong] = HOSTS.deployPassword.map((n) => labHost(n)) as [LabHost, LabHost];
  await Promise.all([allowPasswords(good), allowPasswords(wrong)]);
}, 60_000);

afterAll(async () => {
  await Promise.all(
    [good, wrong].map((h) => labExec(h, `rm -f ${DROP_IN}; usermod -p '*' root; systemctl restart ssh`)),
  );
});

describe('password logins', () => {
  it('log in with a password from the environment, refuse a wrong one from a file, and never show either', async () => {
    const secrets = mkdtempSync(join(tmpdir(), 'otopi-pw-'));
    writeFileSync(join(secrets, 'wrong.pw'), `${WRONG}\n`, { mode: 0o600 });
    const inventory = writeInventory([good, wrong], {
      extra: {
        [good.name]: ['password_env = OTOPI_DEPLOY_TEST_PW'],
        [wrong.name]: [`password_file = ${join(secrets, 'wrong.pw')}`],
      },
    });
    // The key login of [defaults] must not be used: a host logs in with a key or a password.
    writeFileSync(inventory, readFileSync(inventory, 'utf8').replace(/^identity_file = .*$/m, ''));

    const run = await runDeploy(inventory, ['--group', 'sample', '--progress', 'tty'], {
      OTOPI_DEPLOY_TEST_PW: CANARY,
    });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(run.hosts[good.name]).toMatchObject({ result: 'installed' });
    expect(run.hosts[wrong.name]).toMatchObject({ result: 'failed', stage: 'SSH connection' });
    expect(run.hosts[wrong.name]!.cause).toMatch(/root@127\.42\.\d+\.\d+ refused the login/);

    // Everything the engine wrote or printed, the host log fetched at termination included.
    // The hosts' logs (beside them, the retry file names the host that failed).
    const logs = readdirSync(run.logDir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => readFileSync(join(run.logDir, f), 'utf8'));
    expect(logs).toHaveLength(2);
    expect(logs.join('\n')).toMatch(/---- host log \(\d+ lines\) ----/);
    const everything = [run.stdout, run.stderr, run.eventsText, ...logs];
    for (const text of everything) {
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(WRONG);
    }
    // Nor on the hosts: their logs, temporary files and the bundle cache.
    for (const h of [good, wrong]) {
      const grep = await labExec(
        h,
        `grep -rlF -e '${CANARY}' -e '${WRONG}' /var/log /tmp /var/tmp /var/cache/otopi /root 2>/dev/null`,
      );
      expect(grep.stdout).toBe('');
    }
  });
});
