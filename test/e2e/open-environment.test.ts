/**
 * otopi's open environment, through the built CLI in the machine dialect as a manager drives
 * it: an answer file written by another otopi-based tool, and keys no group declares set by
 * the manager with env-set, env-query and env-query-multi.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIni } from '@otopi/core';
import { BOUNDARY, MachineSession } from './dialog-harness.js';
import { checkTranscript } from './machine-protocol.js';
import { FIXTURE_PLUGINS, ROOT, tempDir } from './helpers.js';

const ANSWERS = join(ROOT, 'test/e2e/fixtures/answers/engine-setup.conf');
const SECRETS = ['Db-Canary-Pw-3b1f', 'Admin-Canary-Pw-77c2'];

function demoMachineArgs(dir: string, ...extra: string[]): string[] {
  return [
    `BASE/pluginPath=str:${join(ROOT, 'plugins')}:${FIXTURE_PLUGINS}`,
    'APPEND:BASE/pluginGroups=str:demo',
    'DIALOG/dialect=str:machine',
    'DIALOG/customization=bool:True',
    `DEMO/outputFile=str:${join(dir, 'greetings.txt')}`,
    ...extra,
  ];
}

function logOf(dir: string): string {
  const file = readdirSync(dir).find((f) => f.startsWith('otopi-') && f.endsWith('.log'));
  if (file === undefined) throw new Error(`no log file in ${dir}`);
  return readFileSync(join(dir, file), 'utf8');
}

/** What `env-get` shows for each key of the answer file: the value as otopi's parseTypedValue reads it. */
const AS_OTOPI_READS: Readonly<Record<string, string | readonly string[]>> = {
  'OVESETUP_CORE/engineStop': 'none:None',
  'OVESETUP_DIALOG/confirmSettings': 'bool:True',
  'OVESETUP_DB/secured': 'bool:False',
  'OVESETUP_DB/port': 'int:5432',
  'OVESETUP_DB/filter': 'none:None',
  'OVESETUP_DB/restoreJobs': 'int:2',
  'OVESETUP_CONFIG/fqdn': 'str:engine.example.org',
  // Only the first ':' separates the type.
  'OVESETUP_CONFIG/storageType': 'str:nfs:/exports/data',
  'OVESETUP_VMCONSOLE_PROXY_CONFIG/vmconsoleProxyPort': 'int:2222',
  'OSETUP_RPMDISTRO/requireRollback': 'none:None',
  'QUESTION/1/OVESETUP_DIALOG_CONFIRM_SETTINGS': 'str:ok',
  'DEMO/nmae': 'str:typo of DEMO/name',
  'DEMO/count': 'int:2',
  // Continuation lines are stripped; an empty line inside stays an empty item.
  'OVESETUP_CONFIG/additionalHosts': ['host1.example.org', 'host2.example.org', '', 'host3.example.org'],
  'NETWORK_FIREWALLD_SERVICE/ovirt-http': [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<service>',
    '<short>ovirt-http</short>',
    '<port protocol="tcp" port="80"/>',
    '</service>',
  ],
  // Keys no group declares whose names look secret are redacted (otopi showed them).
  'OVESETUP_DB/password': 'str:**REDACTED**',
};

describe('the open environment, driven over the machine dialect', () => {
  it('loads an answer file of another otopi-based tool with every value as otopi reads it, runs to the end and writes the keys back', async () => {
    const dir = tempDir();
    const again = join(dir, 'again.conf');
    const s = MachineSession.start(
      ['--config-append', ANSWERS, ...demoMachineArgs(dir, `DIALOG/answerFile=str:${again}`)],
      dir,
    );
    for (const [key, expected] of Object.entries(AS_OTOPI_READS)) {
      await s.command('CUSTOMIZATION_COMMAND', `env-get -k ${key}`);
      if (typeof expected === 'string') {
        expect(await s.waitFor((l) => l.startsWith('***D:VALUE'))).toBe(`***D:VALUE ${key}=${expected}`);
      } else {
        expect(await s.block(key)).toEqual(expected);
      }
    }
    await s.command('CUSTOMIZATION_COMMAND', 'install');
    await s.command('TERMINATION_COMMAND', 'quit');
    const r = await s.finish();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(() => checkTranscript(r.stdout)).not.toThrow();
    expect(r.stdout).toContain('***TERMINATE\n');
    // The declared key from the file took effect.
    expect(readFileSync(join(dir, 'greetings.txt'), 'utf8')).toBe('hello world #1\nhello world #2\n');

    // One warning per likely typo in a namespace a loaded group owns, naming the closest key; none for other tools' keys.
    const warnings = r.stdout.split('\n').filter((l) => l.startsWith('***L:WARNING Unknown environment key'));
    expect(warnings).toEqual([
      expect.stringContaining(`'DEMO/nmae' (from ${ANSWERS}:`),
      expect.stringContaining(`'CORE/logFileNamePrefx' (from ${ANSWERS}:`),
    ]);
    expect(warnings[0]).toContain('did you mean DEMO/name?');
    expect(warnings[1]).toContain('did you mean CORE/logFileNamePrefix?');
    expect(logOf(dir)).toContain("WARNING Unknown environment key 'DEMO/nmae'");

    // The generated answer file holds every key of the first one as it was written, but the secrets.
    const original = new Map(
      parseIni(readFileSync(ANSWERS, 'utf8'), ANSWERS).sections[0]!.entries.map((e) => [e.key, e.value]),
    );
    const written = new Map(
      parseIni(readFileSync(again, 'utf8'), again).sections[0]!.entries.map((e) => [e.key, e.value]),
    );
    for (const [key, value] of original) {
      if (key.endsWith('Password') || key.endsWith('/password')) expect(written.has(key)).toBe(false);
      else if (key !== 'DEMO/count') expect(written.get(key), key).toBe(value);
    }
    expect(readFileSync(again, 'utf8')).toContain('#   OVESETUP_CONFIG/adminPassword=str:<answer>');
    for (const text of [r.stdout, logOf(dir), readFileSync(again, 'utf8')])
      for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it('takes keys no group declares from env-set, env-query and env-query-multi, typed by the reply', async () => {
    const dir = tempDir();
    const s = MachineSession.start(demoMachineArgs(dir), dir);
    await s.command('CUSTOMIZATION_COMMAND', 'env-query -k X/any');
    await s.answer('X/any', 'VALUE X/any=int:42');
    await s.command('CUSTOMIZATION_COMMAND', 'env-query -k OVIRT_NEWER/feature');
    await s.answer('OVIRT_NEWER/feature', 'VALUE OVIRT_NEWER/feature=none:None');
    await s.command('CUSTOMIZATION_COMMAND', 'env-query-multi -k X/lines');
    await s.answer('X/lines', 'first', '', 'third', BOUNDARY);
    await s.command('CUSTOMIZATION_COMMAND', 'env-set -k X/flag -t bool -v True');
    await s.command('CUSTOMIZATION_COMMAND', 'env-set -k X/text -v "two words"');
    const shown: string[] = [];
    for (const key of ['X/any', 'OVIRT_NEWER/feature', 'X/flag', 'X/text', 'X/never-set']) {
      await s.command('CUSTOMIZATION_COMMAND', `env-get -k ${key}`);
      shown.push(await s.waitFor((l) => l.startsWith('***D:VALUE')));
    }
    expect(shown).toEqual([
      '***D:VALUE X/any=int:42',
      '***D:VALUE OVIRT_NEWER/feature=none:None',
      '***D:VALUE X/flag=bool:True',
      '***D:VALUE X/text=str:two words',
      '***D:VALUE X/never-set=none:None',
    ]);
    await s.command('CUSTOMIZATION_COMMAND', 'env-get -k X/lines');
    expect(await s.block('X/lines')).toEqual(['first', '', 'third']);
    // A declared key still refuses a value of the wrong type.
    await s.command('CUSTOMIZATION_COMMAND', 'env-query -k DEMO/count');
    await s.answer('DEMO/count', 'VALUE DEMO/count=str:three');
    expect(await s.waitFor((l) => l.startsWith('***L:ERROR'))).toContain('DEMO/count: str:three does not fit int');
    await s.command('CUSTOMIZATION_COMMAND', 'install');
    await s.command('TERMINATION_COMMAND', 'quit');
    const r = await s.finish();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(() => checkTranscript(r.stdout)).not.toThrow();
    expect(r.stdout).not.toContain('***L:WARNING Unknown environment key');
  });
});
