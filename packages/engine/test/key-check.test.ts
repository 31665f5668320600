import { describe, expect, it } from 'vitest';
import { Environment, defineEnv, defineEnvFamily, key, keysOf } from '@otopi/core';
import { checkSettingKeys } from '../src/inventory/key-check.js';
import { isEngineError } from '../src/errors.js';
import type { EnvSetting } from '../src/inventory/settings.js';

const VdsmEnv = defineEnv('VDSM', {
  engineHost: key.optionalStr({ default: null, description: 'engine' }),
  enginePort: key.int({ default: 443, description: 'port' }),
  rootPassword: key.optionalStr({ default: null, sensitive: true, description: 'a secret' }),
  nodeName: key.str({ default: '', description: 'a name far from the others' }),
});

function registry() {
  const env = new Environment();
  env.declare(keysOf(VdsmEnv));
  env.declareFamily(defineEnvFamily('VDSM_CONFIG', key.str({ default: '', description: 'vdsm.conf' })));
  return env.registry;
}

const set = (key: string, value: EnvSetting['value'], source = 'hosts.ini:3'): EnvSetting => ({
  op: 'set',
  key,
  value,
  source,
});

function failure(settings: EnvSetting[]): { code: string; message: string } {
  try {
    checkSettingKeys(settings, registry(), { from: 'in the inventory' });
  } catch (error) {
    if (isEngineError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('checkSettingKeys', () => {
  it("passes declared keys, families and other namespaces' keys; warns once about a far miss in a deployed namespace", () => {
    const warnings = checkSettingKeys(
      [
        set('VDSM/engineHost', 'e.example'),
        set('VDSM_CONFIG/vars/ssl', 'true'),
        set('OVESETUP_CORE/engineStop', null),
        set('X/any', 42),
        set('VDSM/zzzUnrelatedNewerKey', 'x'),
        set('VDSM/zzzUnrelatedNewerKey', 'x'), // [defaults] repeated for every host
      ],
      registry(),
      { from: 'in the inventory' },
    );
    expect(warnings).toEqual([
      expect.stringMatching(
        /^hosts\.ini:3: VDSM\/zzzUnrelatedNewerKey is not a key of .*VDSM\/ namespace .*sent as given$/,
      ),
    ]);
  });

  it('refuses every likely typo with the key meant, and wrong types of declared keys, naming the source', () => {
    const { code, message } = failure([
      set('VDSM/engineHots', 'e.example', 'hosts.ini:9'),
      set('VDSM/enginePort', 'https', 'hosts.ini:10'),
      set('VDSM/enginePrt', 1, 'argument[2]'),
    ]);
    expect(code).toBe('SETTING_UNKNOWN_KEY');
    expect(message.split('\n').slice(1)).toEqual([
      '  hosts.ini:9: VDSM/engineHots: did you mean VDSM/engineHost?',
      '  argument[2]: VDSM/enginePrt: did you mean VDSM/enginePort?',
      expect.stringContaining('  hosts.ini:10: VDSM/enginePort: a str value does not fit int'),
    ]);
  });

  it('refuses a far miss too in strict runs, and still passes other namespaces', () => {
    let message = '';
    try {
      checkSettingKeys([set('X/any', 1), set('VDSM/zzzUnrelatedNewerKey', 'x')], registry(), {
        from: 'in the inventory',
        strict: true,
      });
    } catch (error) {
      if (isEngineError(error, 'SETTING_UNKNOWN_KEY')) message = error.message;
    }
    expect(message).toContain('hosts.ini:3: VDSM/zzzUnrelatedNewerKey: no deployed group declares it; the closest is');
    expect(message).not.toContain('X/any');
  });

  it('never shows the value refused for a sensitive key', () => {
    const { code, message } = failure([set('VDSM/rootPassword', 4711)]);
    expect(code).toBe('SETTING_INVALID');
    expect(message).toContain('VDSM/rootPassword: the value (not shown) does not fit str or none');
    expect(message).not.toContain('4711');
  });
});
