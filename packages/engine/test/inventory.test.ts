import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../src/errors.js';
import { limitHosts, loadInventory } from '../src/inventory/inventory.js';
import { Secret } from '../src/inventory/secret.js';
import { parseSettings, planSettings, readAnswerFile } from '../src/inventory/settings.js';

const FP = 'SHA256:nyy4aw4uErD4+bTG3Q9CfVsy8skLJpffLdWMgett6j8';

function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'otopi-inventory-'));
  writeFileSync(join(dir, 'id_ed25519'), 'not really a key\n', { mode: 0o600 });
  return dir;
}

/** Writes an inventory (mode 0600 unless told) and loads it. */
function load(
  text: string,
  options: { env?: Record<string, string>; mode?: number; acceptNewHostKeys?: boolean } = {},
) {
  const dir = workdir();
  const file = join(dir, 'hosts.ini');
  writeFileSync(file, text);
  chmodSync(file, options.mode ?? 0o600);
  return {
    dir,
    file,
    inventory: loadInventory(file, {
      env: options.env ?? {},
      home: dir,
      ...(options.acceptNewHostKeys === undefined ? {} : { acceptNewHostKeys: options.acceptNewHostKeys }),
    }),
  };
}

function failure(text: string, options: Parameters<typeof load>[1] = {}): EngineError {
  try {
    load(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    return error as EngineError;
  }
  throw new Error('expected the inventory to be refused');
}

describe('inventory files', () => {
  it('reads hosts with defaults, environment settings, answers, key policies and timeouts', () => {
    const { dir, inventory } = load(
      [
        '# two hosts',
        '[defaults]',
        'identity_file = id_ed25519',
        'CORE/logLevel = str:info',
        'inactivity_timeout = 60',
        '',
        '[host h1]',
        'address = 192.0.2.11',
        `fingerprint = ${FP}`,
        'DEMO/name = str:Ada Lovelace',
        'DEMO/count = int:2',
        'answer.DEMO_COLOUR = blue',
        '',
        '[host web-2.example.org]',
        'port: 2222',
        'user = deploy',
        'tofu = yes',
        'CORE/logLevel = str:debug',
      ].join('\n'),
    );
    expect(inventory.hosts.map((h) => h.name)).toEqual(['h1', 'web-2.example.org']);
    const [h1, h2] = inventory.hosts;
    expect(h1).toMatchObject({
      address: '192.0.2.11',
      port: 22,
      user: 'root',
      auth: { identities: [{ file: join(dir, 'id_ed25519') }] },
      hostKey: { kind: 'fingerprint', fingerprint: FP },
      answers: { DEMO_COLOUR: 'blue' },
      timeouts: { inactivityMs: 60_000 },
      source: { line: 7 },
    });
    expect(h1!.environment.map((s) => [s.key, s.value, s.source.replace(/^.*\//, '')])).toEqual([
      ['CORE/logLevel', 'info', 'hosts.ini:4'],
      ['DEMO/name', 'Ada Lovelace', 'hosts.ini:10'],
      ['DEMO/count', 2, 'hosts.ini:11'],
    ]);
    // The address defaults to the section's name; known_hosts sits beside the inventory.
    expect(h2).toMatchObject({
      address: 'web-2.example.org',
      port: 2222,
      user: 'deploy',
      hostKey: { kind: 'known-hosts', file: join(dir, 'known_hosts'), trustOnFirstUse: true },
    });
    // A later setting of the same key wins when the settings are planned.
    expect(planSettings(h2!.environment).values).toEqual([{ key: 'CORE/logLevel', value: 'debug' }]);
  });

  it('trusts on first use only when asked, and never together with a pinned fingerprint', () => {
    const text = '[defaults]\nidentity_file = id_ed25519\n[host h1]\naddress = h1.example\n';
    expect(load(text).inventory.hosts[0]!.hostKey).toEqual({
      kind: 'known-hosts',
      file: expect.stringMatching(/known_hosts$/),
    });
    expect(load(text, { acceptNewHostKeys: true }).inventory.hosts[0]!.hostKey).toMatchObject({
      trustOnFirstUse: true,
    });
    const error = failure(`${text}fingerprint = ${FP}\ntofu = true\n`);
    expect(error).toMatchObject({ code: 'INVENTORY_INVALID', host: 'h1', field: 'tofu', line: 6 });
  });

  it.each([
    [
      '[host h1]\nport = 70000\nidentity_file = id_ed25519\n',
      'INVENTORY_INVALID',
      2,
      'h1',
      'port',
      /port number from 1 to 65535 \(got '70000'\)/,
    ],
    ['[host h1]\nadress = x\n', 'INVENTORY_INVALID', 2, 'h1', 'adress', /unknown field.*did you mean 'address'/s],
    ['[host h1]\nfingerprint = MD5:aa:bb\n', 'INVENTORY_INVALID', 2, 'h1', 'fingerprint', /SHA256/],
    [
      '[host h1]\nDEMO/count = int:many\n',
      'INVENTORY_INVALID',
      2,
      'h1',
      'DEMO/count',
      /the value \(not shown: it may be a secret\) is not an integer for DEMO\/count/,
    ],
    ['[host h1]\nDEMO/x = nope\n', 'INVENTORY_INVALID', 2, 'h1', 'DEMO/x', /has no type/],
    ['[host h1]\nDEMO/ = str:x\n', 'INVENTORY_INVALID', 2, 'h1', 'DEMO/', /not an environment key/],
    ['[host h1]\ntofu = maybe\n', 'INVENTORY_INVALID', 2, 'h1', 'tofu', /expected true or false/],
    ['[host bad/name]\n', 'INVENTORY_INVALID', 1, 'bad/name', undefined, /host name/],
    ['[hosts]\n', 'INVENTORY_SYNTAX', 1, undefined, undefined, /unknown section \[hosts\]/],
    ['address = x\n', 'INVENTORY_SYNTAX', 1, undefined, undefined, /before the first \[section\]/],
    ['[host h1]\nport = 1\nport = 2\n', 'INVENTORY_SYNTAX', 3, undefined, undefined, /appears twice/],
    ['[defaults]\nuser = root\n', 'INVENTORY_INVALID', undefined, undefined, undefined, /no hosts/],
    ['[host h1]\nuser = root\n', 'INVENTORY_INVALID', 1, 'h1', 'identity_file', /no credentials/],
    [
      '[host h1]\npassword_env = PW\nidentity_file = id_ed25519\n',
      'INVENTORY_INVALID',
      3,
      'h1',
      'identity_file',
      /not both/,
    ],
    [
      '[host h1]\npassword_env = PW\npassword_file = pw\n',
      'INVENTORY_INVALID',
      3,
      'h1',
      'password_file',
      /one way only/,
    ],
    ['[host h1]\npassword_env = NOT_SET\n', 'SECRET_UNAVAILABLE', 2, 'h1', 'password_env', /NOT_SET is not set/],
    [
      '[host h1]\npassword_file = missing\n',
      'SECRET_UNAVAILABLE',
      2,
      'h1',
      'password_file',
      /cannot read .*missing: ENOENT/,
    ],
  ])('refuses %j with a coded error naming file, line, host and field', (text, code, line, host, field, message) => {
    const error = failure(text, { env: { PW: 'pw' } });
    expect(error.code).toBe(code);
    expect(error.file).toMatch(/hosts\.ini$/);
    expect(error.line).toBe(line);
    expect(error.host).toBe(host);
    expect(error.field).toBe(field);
    expect(`${error.message} (${error.hint ?? ''})`).toMatch(message);
    expect(error.message).toMatch(new RegExp(`hosts\\.ini${line === undefined ? '' : `:${line}`}: `));
  });

  it('reads a password from a variable or a private file, and refuses readable ones', () => {
    const pw = 'canary-inventory-pw';
    const fromEnv = load('[host h1]\npassword_env = H1_PW\n', { env: { H1_PW: pw } }).inventory.hosts[0]!;
    expect(fromEnv.auth.password?.reveal()).toBe(pw);

    const dir = workdir();
    writeFileSync(join(dir, 'pw'), `${pw}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'hosts.ini'), `[host h1]\npassword_file = ${join(dir, 'pw')}\n`, { mode: 0o644 });
    const fromFile = loadInventory(join(dir, 'hosts.ini'), { env: {} }).hosts[0]!;
    expect(fromFile.auth.password?.reveal()).toBe(pw);
    chmodSync(join(dir, 'pw'), 0o644);
    expect(() => loadInventory(join(dir, 'hosts.ini'), { env: {} })).toThrow(
      expect.objectContaining({
        code: 'INVENTORY_INSECURE',
        field: 'password_file',
        message: expect.stringMatching(/mode 644/),
      }),
    );

    // A literal password needs a private inventory.
    expect(load(`[host h1]\npassword = ${pw}\n`).inventory.hosts[0]!.auth.password).toBeDefined();
    const error = failure(`[host h1]\npassword = ${pw}\n`, { mode: 0o644 });
    expect(error).toMatchObject({ code: 'INVENTORY_INSECURE', field: 'password', line: 2 });
    expect(error.message).not.toContain(pw);
  });

  it('never shows a password: not in JSON, strings or inspect output', () => {
    const host = load('[host h1]\npassword_env = PW\n', { env: { PW: 'canary-never-shown' } }).inventory.hosts[0]!;
    expect(JSON.stringify(host)).not.toContain('canary-never-shown');
    expect(inspect(host, { depth: 10 })).not.toContain('canary-never-shown');
    expect(`${String(new Secret('canary-never-shown'))}`).toBe('**REDACTED**');
  });

  it('selects hosts with --limit and refuses unknown names', () => {
    const { inventory } = load('[defaults]\nidentity_file = id_ed25519\n[host a]\n[host b]\n[host c]\n');
    expect(limitHosts(inventory, ['c', 'a']).map((h) => h.name)).toEqual(['a', 'c']);
    expect(() => limitHosts(inventory, ['a', 'zz'])).toThrow(/does not have: zz/);
  });
});

describe('settings', () => {
  it('sends BASE/DIALOG keys and list operations on the command line, everything else at customization', () => {
    const settings = parseSettings([
      'DEMO/name=str:Ada Lovelace',
      'APPEND:BASE/pluginGroups=str:demo',
      'DEMO/count=int:2',
      'DIALOG/boundary=str:xyz',
      'DEMO/name=str:Grace',
      'DEMO/list=multi-str:a\nb',
    ]);
    expect(planSettings(settings)).toEqual({
      statements: ['APPEND:BASE/pluginGroups=str:demo', 'DIALOG/boundary=str:xyz'],
      values: [
        { key: 'DEMO/name', value: 'Grace' },
        { key: 'DEMO/count', value: 2 },
        { key: 'DEMO/list', value: ['a', 'b'] },
      ],
    });
    expect(() => parseSettings(['nonsense'])).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => parseSettings(['DEMO/x=bool:perhaps'])).toThrow(
      expect.objectContaining({ code: 'USAGE', field: 'DEMO/x' }),
    );
  });

  it('reads an otopi answer file section by section, with file and line in errors', () => {
    const dir = workdir();
    const file = join(dir, 'answers.conf');
    writeFileSync(
      file,
      '[environment:override]\nDEMO/name=str:over\n[environment:default]\nDEMO/name=str:default\nDEMO/count=int:3\n',
    );
    expect(readAnswerFile(file).map((s) => [s.key, s.value, s.source.replace(/^.*\//, '')])).toEqual([
      ['DEMO/name', 'default', 'answers.conf:4'],
      ['DEMO/count', 3, 'answers.conf:5'],
      ['DEMO/name', 'over', 'answers.conf:2'],
    ]);
    writeFileSync(file, '[environment:default]\nDEMO/count=int:x\n');
    expect(() => readAnswerFile(file)).toThrow(
      expect.objectContaining({ code: 'ANSWERS_INVALID', line: 2, field: 'DEMO/count' }),
    );
  });
});
