/**
 * The CLI installed the way Node users expect: `npm run pack` (packaging/npm.mjs) makes a
 * tarball that `npm install -g` turns into `otopi` and `ovirt-host-deploy` on the PATH, offline
 * (everything it needs is bundled) and without a dev dependency, with man pages and a bash
 * completion made from the commands' help. Installed into a temporary prefix.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers.js';

describe('npm install -g of the packed CLI', () => {
  it('puts otopi and ovirt-host-deploy on the PATH, with man pages and completion, and no dev dependency', () => {
    const out = tempDir('otopi-pack-');
    const tarball = execFileSync(process.execPath, [join(ROOT, 'packaging/npm.mjs'), '--out', out], {
      encoding: 'utf8',
    }).trim();
    expect(tarball).toMatch(/otopi-ts-\d+\.\d+\.\d+\.tgz$/);
    const prefix = tempDir('otopi-prefix-');
    const install = spawnSync(
      'npm',
      ['install', '-g', tarball, '--prefix', prefix, '--offline', '--no-audit', '--no-fund'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(install.status, install.stderr).toBe(0);
    const env = { PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, HOME: prefix };
    const run = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', env, cwd: prefix });
    expect(run('otopi', '--version').stdout).toMatch(/^otopi \d+\.\d+\.\d+\n$/);
    expect(run('ovirt-host-deploy', '--help').stdout).toContain('Usage: ovirt-host-deploy');
    // The manager's front end and its bundled ssh2 load from the installed package.
    expect(run('otopi', 'deploy', '--help').stdout).toContain('--list-hosts');
    // A local run finds its plugin groups in the package.
    const local = run('otopi', `CORE/logDir=str:${prefix}`, `BASE/pluginGroups=str:otopi`);
    expect(local.status, local.stdout + local.stderr).toBe(0);
    const pkg = join(prefix, 'lib/node_modules/otopi-ts');
    expect(readdirSync(join(pkg, 'node_modules')).sort()).toEqual(
      ['@otopi', 'asn1', 'bcrypt-pbkdf', 'safer-buffer', 'ssh2', 'tweetnacl'].sort(),
    );
    for (const dev of ['vitest', 'typescript', 'tsdown', 'eslint'])
      expect(existsSync(join(pkg, 'node_modules', dev))).toBe(false);
    for (const page of ['otopi.1', 'ovirt-host-deploy.1', 'otopi-deploy.1'])
      expect(readFileSync(join(prefix, 'share/man/man1', page), 'utf8')).toMatch(/^\.TH /);
    const completion = spawnSync(
      'bash',
      [
        '-c',
        `source ${pkg}/completion/otopi.bash; COMP_WORDS=(otopi deploy --lim); COMP_CWORD=2; _otopi; echo "\${COMPREPLY[*]}"`,
      ],
      { encoding: 'utf8' },
    );
    expect(completion.stdout.trim()).toBe('--limit');
  }, 120_000);
});
