/**
 * One meaning per exit code across the commands, as the README's table and every help say.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../packages/cli/src/exit-codes.js';
import { ROOT, runCli } from './helpers.js';

const HOST_DEPLOY = join(ROOT, 'packages/cli/dist/ovirt-host-deploy.js');

describe('exit codes', () => {
  it('an unknown option is a usage error (64) for otopi, as its help promises', () => {
    const r = runCli(['--bogus']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain("Unknown option '--bogus'");
    expect(r.stderr).toContain("Try 'otopi --help'.");
    expect(runCli(['--help']).stdout).toContain('64 usage error');
  });

  it('and for ovirt-host-deploy, otopi deploy and otopi config-query', () => {
    const hd = spawnSync(process.execPath, [HOST_DEPLOY, '--bogus'], { encoding: 'utf8' });
    expect(hd.status).toBe(EXIT.usage);
    expect(runCli(['deploy', '--bogus']).code).toBe(EXIT.usage);
    expect(runCli(['config-query', 'query', '-k', 'A/b']).code).toBe(EXIT.usage);
  });

  it('the README table has every code, and each help the same line', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Exit codes'), readme.indexOf('## Documentation'));
    for (const code of Object.values(EXIT)) expect(table).toMatch(new RegExp(`^\\| ${code} \\| `, 'm'));
    const hdHelp = spawnSync(process.execPath, [HOST_DEPLOY, '--help'], { encoding: 'utf8' }).stdout;
    const line = /^Exit codes: .*$/m;
    expect(hdHelp.match(line)?.[0]).toBe(runCli(['--help']).stdout.match(line)?.[0]);
    expect(hdHelp).toContain('3 incomplete');
  });
});
