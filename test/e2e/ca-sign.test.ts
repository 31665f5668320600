/**
 * The engine side of a host deployed by hand, run as a user runs it: `otopi ca sign` signs a
 * request (pasted with whatever surrounded it on the host's screen) and prints the chain that
 * `openssl verify` accepts, or the answer-file section an unattended `accept` run reads; and
 * `ovirt-host-deploy` is `otopi` with the host-deploy group.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfigFiles } from '@otopi/core';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir } from './helpers.js';

const BOUNDARY = '--=451b80dc-996f-432e-9e4f-2b29ef6d1141=--';

function request(dir: string): string {
  execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/',
      '-keyout',
      join(dir, 'host.key'),
      '-out',
      join(dir, 'host.csr'),
    ],
    {
      stdio: 'ignore',
    },
  );
  return execFileSync('cat', [join(dir, 'host.csr')], { encoding: 'utf8' });
}

describe('otopi ca sign', () => {
  it('signs a pasted request and prints the chain, CA first, that openssl verifies', () => {
    const dir = tempDir();
    const csr = request(dir);
    // As copied from the host's terminal: the display header, the block, the boundary.
    const pasted = `D:MULTI-STRING VDSM_CERTIFICATE_REQUEST ${BOUNDARY}\n${csr}${BOUNDARY}\n`;
    const ca = join(dir, 'engine-ca');
    const run = runCli(
      ['ca', 'sign', '--ca-dir', ca, '--host', 'h1.lab', '--alt-name', '10.88.0.11', '--organization', 'Lab'],
      {
        dir,
        input: pasted,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(statSync(ca).mode & 0o777).toBe(0o700);
    const blocks = run.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g)!;
    expect(blocks).toHaveLength(2);
    expect(run.stdout).toBe(blocks.join(''));
    writeFileSync(join(dir, 'ca.pem'), blocks[0]!);
    writeFileSync(join(dir, 'host.pem'), blocks[1]!);
    expect(
      execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'host.pem')], { encoding: 'utf8' }),
    ).toBe(`${join(dir, 'host.pem')}: OK\n`);
    expect(
      execFileSync('openssl', ['x509', '-noout', '-subject', '-ext', 'subjectAltName', '-in', join(dir, 'host.pem')], {
        encoding: 'utf8',
      }),
    ).toMatch(/subject=O = Lab, CN = h1\.lab\n[\s\S]*DNS:h1\.lab, IP Address:10\.88\.0\.11/);
    // The certificate is for the request's key.
    const keyPub = execFileSync('openssl', ['pkey', '-pubout', '-in', join(dir, 'host.key')], { encoding: 'utf8' });
    expect(
      execFileSync('openssl', ['x509', '-noout', '-pubkey', '-in', join(dir, 'host.pem')], { encoding: 'utf8' }),
    ).toBe(keyPub);

    // The same CA signs the next request; --as-config gives what `accept` reads unattended.
    const again = runCli(['ca', 'sign', '--ca-dir', ca, '--host', 'h2.lab', '--as-config'], {
      dir,
      input: request(dir),
    });
    expect(again.code).toBe(0);
    writeFileSync(join(dir, 'chain.conf'), again.stdout);
    const [entry] = readConfigFiles([join(dir, 'chain.conf')]).entries;
    expect(entry).toMatchObject({ key: 'VDSM/certificateChain', section: 'environment:default' });
    const chain = entry!.value as string[];
    expect(chain[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(`${chain.join('\n')}\n`.startsWith(blocks[0]!)).toBe(true);
  });

  it('refuses garbage (1), an unusable CA folder (2), and a missing --host (64)', () => {
    const dir = tempDir();
    const garbage = runCli(['ca', 'sign', '--ca-dir', join(dir, 'ca'), '--host', 'h1'], { dir, input: 'hello\n' });
    expect(garbage).toMatchObject({
      code: 1,
      stderr: 'otopi ca: no -----BEGIN CERTIFICATE REQUEST----- block in the input\n',
    });
    mkdirSync(join(dir, 'file-not-folder'));
    writeFileSync(join(dir, 'file-not-folder', 'x'), '');
    const ca = runCli(['ca', 'sign', '--ca-dir', join(dir, 'file-not-folder', 'x', 'ca'), '--host', 'h1'], {
      dir,
      input: '',
    });
    expect(ca.code).toBe(2);
    expect(ca.stderr).toMatch(/^otopi ca: CA_UNAVAILABLE: cannot load or create the CA in /);
    expect(runCli(['ca', 'sign'], { dir }).code).toBe(64);
    expect(runCli(['ca', 'verify'], { dir }).stderr).toContain("unknown subcommand 'verify'");
  });
});

describe('ovirt-host-deploy', () => {
  const bin = join(ROOT, 'packages/cli/dist/ovirt-host-deploy.js');
  const run = (args: string[]) => {
    const dir = tempDir();
    return spawnSync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
      input: '',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', OTOPI_CONFIG: join(dir, 'none.conf'), OTOPI_LOGDIR: dir },
      timeout: 30_000,
    });
  };

  it('is otopi with the host-deploy group: its plan holds the group, with the questions of a run by hand', () => {
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: ovirt-host-deploy \[options\]/);
    const plan = run(['--dump-plan=json']);
    expect(plan.status).toBe(0);
    const names = (JSON.parse(plan.stdout) as { handlers: { name: string }[] }).handlers.map((h) => h.name);
    expect(names).toContain('host-deploy.core.misc.proceed');
    expect(names).toContain('host-deploy.core.questions.ask');
    expect(names.indexOf('host-deploy.core.questions.ask')).toBeGreaterThan(names.indexOf('otopi.core.config.enforce'));
  });
});
