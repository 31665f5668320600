import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG_FILE,
  MATCH_DIFFERENT,
  MATCH_EQUAL,
  MATCH_MISSING,
  matchConfig,
  mergeConfigSection,
  queryConfig,
  readConfigFiles,
  resolveConfigFiles,
  type ConfigEntry,
} from '../src/config/files.js';
import { failure } from './helpers.js';

const fixtures = fileURLToPath(new URL('./fixtures/config/', import.meta.url));
const fixture = (name: string): string => join(fixtures, name);
const hostDeploy = fixture('host-deploy.conf');
const hostDeployFiles = [
  hostDeploy,
  fixture('host-deploy.conf.d/10-engine.conf'),
  fixture('host-deploy.conf.d/20-enforce.conf'),
];

const work = mkdtempSync(join(tmpdir(), 'config-files-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function find(entries: readonly ConfigEntry[], section: string, key: string): ConfigEntry | undefined {
  return entries.find((e) => e.section === section && e.key === key);
}

describe('resolveConfigFiles', () => {
  it('lists a file, then its .d/*.conf by name, skipping hidden and other files', () => {
    expect(resolveConfigFiles({ main: hostDeploy })).toEqual({ files: hostDeployFiles, missing: [] });
  });

  it('takes the main config from OTOPI_CONFIG, else the default', () => {
    expect(resolveConfigFiles({ env: { OTOPI_CONFIG: hostDeploy } }).files).toEqual(hostDeployFiles);
    expect(DEFAULT_CONFIG_FILE).toBe('/etc/otopi.conf');
    const viaDefault = resolveConfigFiles({ env: {} });
    expect(viaDefault.missing).toEqual([]);
    expect(viaDefault.files.every((f) => f.startsWith(DEFAULT_CONFIG_FILE))).toBe(true);
  });

  it('is fine with a missing main config, and reports missing append entries as given', () => {
    const result = resolveConfigFiles({
      main: join(work, 'nope.conf'),
      append: [`otopi.conf:missing-a.conf`, '', 'missing-b.conf'],
      baseDir: fixtures,
    });
    expect(result).toEqual({
      files: [fixture('otopi.conf'), fixture('otopi.conf.d/50-site.conf')],
      missing: ['missing-a.conf', 'missing-b.conf'],
    });
  });

  it('counts an entry with only a .d folder as present', () => {
    mkdirSync(join(work, 'only.conf.d'));
    writeFileSync(join(work, 'only.conf.d', 'a.conf'), '[environment:default]\n');
    mkdirSync(join(work, 'only.conf.d', 'folder.conf'));
    expect(resolveConfigFiles({ main: '', append: [join(work, 'only.conf')] })).toEqual({
      files: [join(work, 'only.conf.d', 'a.conf')],
      missing: [],
    });
  });

  it('reports a path that cannot be examined', () => {
    symlinkSync('loop.conf', join(work, 'loop.conf'));
    symlinkSync('loop.conf.d', join(work, 'loop.conf.d'));
    const error = failure(() => resolveConfigFiles({ main: join(work, 'loop.conf') }));
    expect(error.code).toBe('CONFIG_UNREADABLE');
    expect(error.message).toContain(`cannot read config ${join(work, 'loop.conf')}`);
    expect(error.place.file).toBe(join(work, 'loop.conf'));
  });
});

describe('readConfigFiles', () => {
  const set = readConfigFiles(hostDeployFiles);

  it('reads answer-file values with their types', () => {
    const value = (key: string): unknown => find(set.entries, 'environment:default', key)?.value;
    expect(value('QUESTION/1/DIALOG_CONFIRM/GPG_KEY')).toBe('yes');
    expect(value('QUESTION/1/OVIRT_HOST_DEPLOY_CONFIRM')).toBe('yes');
    expect(value('VDSM_CONFIG/addresses/management_port')).toBe('54321');
    expect(value('VDSM/configOverride')).toBe(false);
    expect(value('VDSM/enginePort')).toBe(443);
    expect(value('VDSM/nodeName')).toBeNull();
    expect(value('HOSTED_ENGINE/action')).toBeNull();
    expect(value('OVESETUP_CONFIG/adminPassword')).toBe('s3cr%t;p#ss %(user)s ; not a comment');
    expect(value('CORE/logFilterKeys')).toEqual(['OVESETUP_CONFIG/adminPassword', 'OVESETUP_DB/password']);
  });

  it('reads multi-line iptables rules as Python does: leading empty item, comment lines dropped', () => {
    const rules = find(set.entries, 'environment:default', 'NETWORK/iptablesRules');
    expect(rules).toMatchObject({ type: 'multi-str', file: hostDeploy, line: 16 });
    expect(rules?.value).toEqual([
      '',
      '*filter',
      ':INPUT ACCEPT [0:0]',
      ':FORWARD ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      '-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT',
      '-A INPUT -p icmp -j ACCEPT',
      '-A INPUT -i lo -j ACCEPT',
      '-A INPUT -p tcp --dport 54321 -j ACCEPT',
      '',
      '-A INPUT -p tcp --dport 22 -j ACCEPT',
      '-A INPUT -j REJECT --reject-with icmp-host-prohibited',
      'COMMIT',
    ]);
  });

  it('lets later files override a key within a section, keeping its place', () => {
    const defaults = set.entries.filter((e) => e.section === 'environment:default');
    const host = defaults.findIndex((e) => e.key === 'VDSM/engineHost');
    expect(defaults[host]).toEqual({
      section: 'environment:default',
      key: 'VDSM/engineHost',
      type: 'str',
      value: 'engine2.example.com',
      file: hostDeployFiles[1],
      line: 2,
    });
    expect(defaults[host - 1]?.key).toBe('VDSM_CONFIG/addresses/management_port');
    expect(defaults.at(-1)?.key).toBe('VDSM_CONFIG/vars/net_nmstate_enabled');
    expect(set.entries.filter((e) => e.section === 'environment:enforce').map((e) => [e.key, e.value])).toEqual([
      ['DIALOG/dialect', 'human'],
      ['SYSTEM/reboot', false],
    ]);
  });

  it('ignores other sections but keeps them for config-query', () => {
    expect(set.entries.some((e) => e.key === 'owner')).toBe(false);
    expect(mergeConfigSection(set.documents, 'host-deploy:notes')?.map((e) => [e.key, e.value])).toEqual([
      ['owner', 'infra team'],
    ]);
  });

  it('orders sections default, init, override, enforce and shows [DEFAULT] in each', () => {
    const otopi = readConfigFiles([fixture('otopi.conf'), fixture('otopi.conf.d/50-site.conf')]);
    expect(otopi.entries.map((e) => [e.section, e.key, e.value])).toEqual([
      ['environment:default', 'CORE/logFileNamePrefix', 'from-default'],
      ['environment:default', 'CORE/logDir', '/srv/log'],
      ['environment:default', 'BASE/pluginGroups', 'otopi:host-deploy'],
      ['environment:init', 'CORE/logFileNamePrefix', 'init-prefix'],
      ['environment:init', 'DEMO/count', 12],
      ['environment:override', 'CORE/logFileNamePrefix', 'from-default'],
      ['environment:override', 'DIALOG/autoAcceptDefault', true],
      ['environment:enforce', 'CORE/logFileNamePrefix', 'from-default'],
      ['environment:enforce', 'DEMO/list', ['a', 'b', 'c']],
    ]);
  });

  it('merges files exactly like one RawConfigParser reading them all', () => {
    const cases = [hostDeployFiles, [fixture('otopi.conf'), fixture('otopi.conf.d/50-site.conf'), hostDeploy]];
    const script = `
import configparser, json, sys
out = []
for files in json.load(sys.stdin):
    cp = configparser.RawConfigParser()
    cp.optionxform = str
    cp.read(files, encoding='utf-8')
    out.append({s: list(cp.items(s)) for s in cp.sections()})
print(json.dumps(out))
`;
    const run = spawnSync('python3', ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' });
    if (run.error !== undefined) throw new Error(`this test needs python3 on PATH: ${run.error.message}`);
    const expected = JSON.parse(run.stdout) as Record<string, [string, string][]>[];
    cases.forEach((files, i) => {
      const { documents } = readConfigFiles(files);
      for (const [section, items] of Object.entries(expected[i]!)) {
        expect(
          mergeConfigSection(documents, section)?.map((e) => [e.key, e.value]),
          section,
        ).toEqual(items);
      }
    });
  });

  it('reports a bad value with file, line and key', () => {
    const error = failure(() => readConfigFiles([fixture('bad-value.conf')]));
    expect(error.code).toBe('ENV_BAD_VALUE');
    expect(error.message).toBe("'maybe' is not a boolean for DEMO/flag");
    expect(error.place).toEqual({ key: 'DEMO/flag', file: fixture('bad-value.conf'), line: 5 });
    expect(error.location).toBe(`${fixture('bad-value.conf')}:5: `);
  });

  it('reports a value without a type with file, line and key', () => {
    const error = failure(() => readConfigFiles([fixture('missing-type.conf')]));
    expect(error.code).toBe('ENV_MISSING_TYPE');
    expect(error.message).toBe("value 'yes' for QUESTION/1/OVIRT_HOST_DEPLOY_CONFIRM has no type");
    expect(error.place).toEqual({
      key: 'QUESTION/1/OVIRT_HOST_DEPLOY_CONFIRM',
      file: fixture('missing-type.conf'),
      line: 2,
    });
  });

  it('reports a syntax error with file and line', () => {
    const error = failure(() => readConfigFiles([fixture('bad-syntax.conf')]));
    expect(error.code).toBe('CONFIG_SYNTAX');
    expect(error.message).toBe("'-A INPUT -j ACCEPT' is neither a [section] header nor key=value");
    expect(error.location).toBe(`${fixture('bad-syntax.conf')}:3: `);
  });

  it('reports unreadable files', () => {
    const folder = join(work, 'folder.conf');
    mkdirSync(folder);
    const dir = failure(() => readConfigFiles([folder]));
    expect(dir.code).toBe('CONFIG_UNREADABLE');
    expect(dir.message).toContain(`cannot read config ${folder}: `);
    expect(dir.place.file).toBe(folder);
    const latin1 = join(work, 'latin1.conf');
    writeFileSync(latin1, Buffer.from('[environment:default]\nDEMO/x=str:caf\xe9\n', 'latin1'));
    const encoding = failure(() => readConfigFiles([latin1]));
    expect(encoding.code).toBe('CONFIG_UNREADABLE');
    expect(encoding.message).toContain(latin1);
    const gone = failure(() => readConfigFiles([join(work, 'gone.conf')]));
    expect(gone.code).toBe('CONFIG_UNREADABLE');
  });

  it('accepts a byte order mark', () => {
    const bom = join(work, 'bom.conf');
    writeFileSync(bom, '\uFEFF[environment:default]\nDEMO/x=str:1\n');
    expect(readConfigFiles([bom]).entries).toEqual([
      { section: 'environment:default', key: 'DEMO/x', type: 'str', value: '1', file: bom, line: 2 },
    ]);
  });
});

describe('queryConfig and matchConfig', () => {
  it('returns the typed value, reading FILE.d too', () => {
    expect(queryConfig({ file: hostDeploy, key: 'VDSM/engineHost' })).toEqual({
      type: 'str',
      value: 'engine2.example.com',
      text: 'str:engine2.example.com',
      file: hostDeployFiles[1],
      line: 2,
    });
    expect(queryConfig({ file: hostDeploy, section: 'environment:enforce', key: 'SYSTEM/reboot' }).value).toBe(false);
  });

  it('raises CONFIG_MISSING for a missing file, section or key', () => {
    const file = failure(() => queryConfig({ file: join(work, 'none.conf'), key: 'A/b' }));
    expect(file.code).toBe('CONFIG_MISSING');
    expect(file.message).toBe(`config file ${join(work, 'none.conf')} does not exist`);
    const section = failure(() => queryConfig({ file: hostDeploy, section: 'environment:init', key: 'A/b' }));
    expect(section.code).toBe('CONFIG_MISSING');
    expect(section.message).toBe(`config ${hostDeploy} has no section [environment:init]`);
    const key = failure(() => queryConfig({ file: hostDeploy, key: 'A/b' }));
    expect(key.code).toBe('CONFIG_MISSING');
    expect(key.message).toBe(`config ${hostDeploy} has no key A/b in section [environment:default]`);
    expect(key.place.key).toBe('A/b');
  });

  it('raises a value error with file, line and key for an untyped value', () => {
    const error = failure(() => queryConfig({ file: hostDeploy, section: 'host-deploy:notes', key: 'owner' }));
    expect(error.code).toBe('ENV_MISSING_TYPE');
    expect(error.place).toEqual({ key: 'owner', file: hostDeploy, line: 41 });
  });

  it('matches with exit codes 0, 1 and 2', () => {
    expect(matchConfig({ file: hostDeploy, key: 'VDSM/enginePort', expected: 'int:443' })).toBe(MATCH_EQUAL);
    expect(matchConfig({ file: hostDeploy, key: 'VDSM/enginePort', expected: 'int:80' })).toBe(MATCH_DIFFERENT);
    expect(matchConfig({ file: hostDeploy, key: 'VDSM/enginePort', expected: 'str:443' })).toBe(MATCH_DIFFERENT);
    expect(matchConfig({ file: hostDeploy, key: 'VDSM/configOverride', expected: 'bool:no' })).toBe(MATCH_EQUAL);
    expect(
      matchConfig({
        file: hostDeploy,
        key: 'CORE/logFilterKeys',
        expected: 'multi-str:OVESETUP_CONFIG/adminPassword\nOVESETUP_DB/password',
      }),
    ).toBe(MATCH_EQUAL);
    expect(
      matchConfig({ file: hostDeploy, key: 'CORE/logFilterKeys', expected: 'multi-str:OVESETUP_CONFIG/adminPassword' }),
    ).toBe(MATCH_DIFFERENT);
    expect(matchConfig({ file: hostDeploy, key: 'A/b', expected: 'str:x' })).toBe(MATCH_MISSING);
    expect(matchConfig({ file: hostDeploy, section: 'nope', key: 'A/b', expected: 'str:x' })).toBe(MATCH_MISSING);
    expect(matchConfig({ file: join(work, 'none.conf'), key: 'A/b', expected: 'str:x' })).toBe(MATCH_MISSING);
  });

  it('raises for a malformed expected value', () => {
    const error = failure(() => matchConfig({ file: hostDeploy, key: 'VDSM/enginePort', expected: 'integer:443' }));
    expect(error.code).toBe('ENV_UNKNOWN_TYPE');
    expect(error.message).toBe("unknown type 'integer' for VDSM/enginePort");
  });
});
