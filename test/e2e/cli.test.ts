import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, demoArgs, fixtureGroup, runCli, tempDir } from './helpers.js';

function logOf(dir: string): string {
  const file = readdirSync(dir).find((f) => f.startsWith('otopi-') && f.endsWith('.log'));
  if (file === undefined) throw new Error(`no log file in ${dir}`);
  return readFileSync(join(dir, file), 'utf8');
}

describe('otopi CLI: running plugin groups', () => {
  it('prints help and exits 0', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: otopi');
    expect(r.stdout).toContain('Exit codes: 0 success, 1 failed or aborted, 2 nothing done');
  });

  it('runs the demo group end to end and commits its file', () => {
    const dir = tempDir();
    const out = join(dir, 'greetings.txt');
    const r = runCli(demoArgs('DEMO/name=str:Ada  Lovelace', `DEMO/outputFile=str:${out}`, 'DEMO/count=int:2'), {
      dir,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[ INFO  ] Hello, Ada  Lovelace!');
    expect(r.stdout).toContain('[ INFO  ] Stage: Transaction commit');
    expect(r.stdout).toContain('[ INFO  ] Demo done.');
    expect(readFileSync(out, 'utf8')).toBe('hello Ada  Lovelace #1\nhello Ada  Lovelace #2\n');
    expect(statSync(out).mode & 0o777).toBe(0o640);
    const log = logOf(dir);
    expect(log).toContain('Stage misc METHOD demo.greet.write');
    expect(log).toContain('DEMO/count=int:2');
  });

  it('rolls back on a failure after the file was queued, leaving it byte-identical', () => {
    const dir = tempDir();
    const out = join(dir, 'greetings.txt');
    writeFileSync(out, 'precious original\n', { mode: 0o600 });
    const r = runCli(demoArgs(`DEMO/outputFile=str:${out}`, 'DEMO/failAt=str:misc'), { dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "[ ERROR ] Failed to execute stage 'Misc configuration' in demo.greet.fail: demo failure requested at misc",
    );
    expect(r.stdout).not.toContain('Stage: Transaction commit');
    expect(r.stdout).toContain('Stage: Clean up');
    expect(readFileSync(out, 'utf8')).toBe('precious original\n');
    expect(readdirSync(dir).filter((f) => f.startsWith('greetings.txt') && f !== 'greetings.txt')).toEqual([]);
  });

  it('dumps the plan as a table and as JSON without running anything', () => {
    const dir = tempDir();
    const table = runCli([...demoArgs(), '--dump-plan'], { dir });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^\s*#\s+STAGE\s+PRIORITY\s+HANDLER/);
    expect(table.stdout).toMatch(/customization\s+5000\s+demo\.greet\.greet/);
    expect(readdirSync(dir).some((f) => f.endsWith('.log'))).toBe(false);
    const json = runCli([...demoArgs(), 'CORE/dumpPlan=str:json'], { dir });
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout) as { handlers: { name: string; stage: string }[] };
    const names = plan.handlers.map((h) => h.name);
    expect(names.indexOf('otopi.core.log.init')).toBe(0);
    expect(names.indexOf('demo.greet.write')).toBeLessThan(names.indexOf('otopi.core.transaction.mainCommit'));
  });

  it('exits 2 naming the file when a plugin module cannot load', () => {
    const r = runCli(fixtureGroup('broken'));
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/\[ ERROR \] .*cannot load plugin module .*broken\/bad\.mjs/);
  });

  it('exits 2 for a missing group and for a module that is no plugin', () => {
    const missing = runCli(demoArgs('APPEND:BASE/pluginGroups=str:nosuchgroup'));
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain("plugin group 'nosuchgroup' not found in plugin path");
    const invalid = runCli(fixtureGroup('notaplugin'));
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toContain('does not export a plugin');
  });

  it('exits 1 with the cycle path for cyclic handlers', () => {
    const r = runCli(fixtureGroup('cyclic'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('dependency cycle: cyclic.loop.one → cyclic.loop.two → cyclic.loop.one');
  });

  it('rejects bad statements with a clear error and changes nothing', () => {
    const dir = tempDir();
    const badInt = runCli(demoArgs('DEMO/count=int:many'), { dir });
    expect(badInt.code).toBe(1);
    expect(badInt.stdout).toMatch(/\[ ERROR \] argv\[\d\]: 'many' is not an integer for DEMO\/count/);
    const split = runCli(demoArgs('DEMO/name=str:Ada', 'Lovelace'), { dir });
    expect(split.code).toBe(1);
    // The stray word may be the rest of a secret: the error names the argument, not the word.
    expect(split.stdout).toContain("argv[3]: not a KEY=type:value statement (after 'DEMO/name=…')");
    expect(split.stdout).not.toContain('Lovelace');
    const unknown = runCli(['--strict-keys', ...demoArgs('DEMO/nmae=str:x')], { dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain("unknown environment key 'DEMO/nmae'");
    expect(unknown.stdout).toContain('did you mean DEMO/name?');
    expect(readdirSync(dir).some((f) => f.endsWith('.log'))).toBe(false);
  });

  it('takes a key no group declares, warning once when it looks like a typo of a declared one', () => {
    const dir = tempDir();
    const r = runCli(demoArgs('DEMO/nmae=str:x', 'OVESETUP_CORE/engineStop=none:None'), { dir });
    expect(r.code).toBe(0);
    const warnings = r.stdout.split('\n').filter((l) => l.startsWith('[WARNING] Unknown environment key'));
    expect(warnings).toEqual([
      "[WARNING] Unknown environment key 'DEMO/nmae' (from command line argv[2]): no loaded group declares this DEMO/ key; did you mean DEMO/name? (kept as given; --strict-keys or BASE/strictKeys=bool:True refuses such keys)",
    ]);
  });

  it('reads bool:no as false (otopi read it as true)', () => {
    const dir = tempDir();
    const r = runCli(demoArgs('CORE/logRemoveAtExit=bool:no'), { dir });
    expect(r.code).toBe(0);
    expect(readdirSync(dir).some((f) => f.endsWith('.log'))).toBe(true);
  });
});

describe('otopi CLI: config files', () => {
  const answers = (dir: string, body: string): string => {
    const file = join(dir, 'answers.conf');
    writeFileSync(file, body);
    return file;
  };

  it('applies default (command line wins), init (beats command line) and enforce', () => {
    const dir = tempDir();
    const file = answers(
      dir,
      [
        '[environment:default]',
        'DEMO/name=str:from-default',
        'DEMO/count=int:3',
        '',
        '[environment:init]',
        'DEMO/failAt=str:nowhere',
        '',
      ].join('\n'),
    );
    const out = join(dir, 'o.txt');
    const r = runCli(
      demoArgs(
        'DEMO/name=str:from-cmdline',
        `DEMO/outputFile=str:${out}`,
        'DEMO/failAt=str:misc',
        '--config-append',
        file,
      ),
      { dir },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Configuration files: ${file}`);
    expect(readFileSync(out, 'utf8')).toBe('hello from-cmdline #1\nhello from-cmdline #2\nhello from-cmdline #3\n');
    const enforced = answers(dir, '[environment:enforce]\nDEMO/name=str:enforced\n');
    const r2 = runCli(demoArgs('DEMO/name=str:cmdline', `DEMO/outputFile=str:${out}`, '--config-append', enforced), {
      dir,
    });
    expect(r2.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('hello enforced #1\n');
  });

  it('names file, line and key for a bad value in a config file', () => {
    const dir = tempDir();
    const file = answers(dir, '[environment:default]\n# comment\nDEMO/count=int:lots\n');
    const r = runCli(demoArgs('--config-append', file), { dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${file}:3`);
    expect(r.stdout).toContain('DEMO/count');
  });

  it('refuses a missing answer file given with --config-append, naming it', () => {
    const dir = tempDir();
    const r = runCli(demoArgs('--config-append', join(dir, 'nope.conf')), { dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`answer file ${join(dir, 'nope.conf')} does not exist (--config-append)`);
  });

  it('queries and matches keys with config-query', () => {
    const dir = tempDir();
    const file = answers(dir, '[environment:default]\nDEMO/name=str:Ada\nDEMO/lines=multi-str:a\n b\n');
    expect(runCli(['config-query', 'query', '-k', 'DEMO/name', '-f', file])).toMatchObject({
      code: 0,
      stdout: 'Ada\n',
    });
    expect(runCli(['config-query', 'query', '-t', '-k', 'DEMO/name', '-f', file]).stdout).toBe('str:Ada\n');
    expect(runCli(['config-query', 'match', '-k', 'DEMO/name', '-v', 'str:Ada', '-f', file]).code).toBe(0);
    expect(runCli(['config-query', 'match', '-k', 'DEMO/name', '-v', 'str:Bob', '-f', file]).code).toBe(1);
    expect(runCli(['config-query', 'match', '-k', 'DEMO/none', '-v', 'str:Bob', '-f', file]).code).toBe(2);
  });
});

describe('otopi CLI: secrets', () => {
  it('keeps a canary password out of the console, log, events and errors', () => {
    const dir = tempDir();
    const canary = 'Canary-Pw-91c2e';
    const file = join(dir, 'answers.conf');
    writeFileSync(file, `[environment:default]\nDEMO/password=str:${canary}\n`);
    const events = join(dir, 'events.jsonl');
    const viaFile = runCli(demoArgs('--config-append', file, '--events', events, 'DEMO/failAt=str:misc'), { dir });
    const viaCmdline = runCli(demoArgs(`DEMO/password=str:${canary}`, 'DEMO/count=int:x'), { dir });
    expect(viaFile.code).toBe(1);
    expect(viaCmdline.code).toBe(1);
    const outputs = [
      viaFile.stdout,
      viaFile.stderr,
      viaCmdline.stdout,
      viaCmdline.stderr,
      logOf(dir),
      readFileSync(events, 'utf8'),
    ];
    for (const text of outputs) expect(text).not.toContain(canary);
    expect(logOf(dir)).toContain('using password **REDACTED** for nothing');
    expect(readFileSync(events, 'utf8')).toContain('"type":"run-end"');
  });
});

describe('otopi env-doc', () => {
  it('keeps docs/environment.md in step with the declarations of every group', () => {
    const r = runCli(['env-doc']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| `CORE/dumpPlan` | str | `none` |');
    expect(r.stdout).toContain('One of: `none`, `table`, `json`.');
    // Every group of the plugin path, each under its own heading.
    for (const heading of [
      '## The runtime',
      '## Plugin group `otopi`',
      '## Plugin group `host-deploy`',
      '### VDSM',
      '### ODEPLOY',
    ])
      expect(r.stdout).toContain(`\n${heading}\n`);
    expect(r.stdout).toContain('| `VDSM/engineHost` |');
    expect(r.stdout).toContain('| `VDSM/` | host-deploy |');
    const committed = readFileSync(join(ROOT, 'docs/environment.md'), 'utf8');
    expect(committed, 'docs/environment.md is stale: run `npm run docs:env`').toBe(r.stdout);
  });

  it('shows one key, and names the closest ones for a key no group declares', () => {
    const one = runCli(['env-doc', 'VDSM/engineHost']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(
      /^VDSM\/engineHost\n {2}declared by: plugin group host-deploy\n {2}type: +str or none\n/,
    );
    const family = runCli(['env-doc', 'QUESTION/1/CUSTOMIZATION_COMMAND']);
    expect(family.stdout).toMatch(/^QUESTION\/\*\n {2}declared by: the runtime\n/);
    const typo = runCli(['env-doc', 'VDSM/engineHots']);
    expect(typo.code).toBe(1);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toContain(
      "no plugin group in the plugin path declares 'VDSM/engineHots'; did you mean VDSM/engineHost",
    );
    expect(runCli(['env-doc', 'A/b', 'C/d']).code).toBe(64);
  });
});

describe('otopi CLI: a reader that goes away', () => {
  it('keeps running and commits when standard output is closed early (otopi ... | head)', async () => {
    const { spawn } = await import('node:child_process');
    const dir = tempDir();
    const out = join(dir, 'greetings.txt');
    const child = spawn(
      process.execPath,
      [join(ROOT, 'packages/cli/dist/otopi.js'), ...demoArgs(`DEMO/outputFile=str:${out}`, 'DEMO/sleepMs=int:300')],
      {
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          OTOPI_CONFIG: join(dir, 'none.conf'),
          OTOPI_LOGDIR: dir,
          OTOPI_STATEDIR: join(dir, 'state'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy(); // like `head -1` exiting
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('hello world #1\n');
  });
});
