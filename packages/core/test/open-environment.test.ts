import { describe, expect, it } from 'vitest';
import {
  BaseEnv,
  Environment,
  Runtime,
  defineEnv,
  formatAnswerFile,
  isOtopiError,
  key,
  keysOf,
  parseIni,
  type ConsoleRecord,
  NullDialog,
  type Dialog,
} from '@otopi/core';

const VdsmEnv = defineEnv('VDSM', {
  engineHost: key.str({ default: '', description: 'engine' }),
  enginePort: key.int({ default: 443, description: 'port' }),
});

const cmdline = { kind: 'cmdline', where: 'argv[0]' } as const;

function runtime(): Runtime {
  const r = new Runtime();
  r.env.declare(keysOf(VdsmEnv));
  return r;
}

class RecordingDialog extends NullDialog implements Dialog {
  readonly records: ConsoleRecord[] = [];
  override log(record: ConsoleRecord): void {
    this.records.push(record);
  }
}

describe('the open environment', () => {
  it('keeps every type of an undeclared key as given, and refuses only keys that are not GROUP/name', () => {
    const env = new Environment();
    const values = [null, true, 7, 'a:b', ['x', '', 'y']] as const;
    values.forEach((v, i) => env.setExternal(`OVESETUP_CORE/k${i}`, v, cmdline));
    expect(values.map((_, i) => env.getRaw(`OVESETUP_CORE/k${i}`))).toEqual([...values]);
    expect(env.isUndeclared('OVESETUP_CORE/k0')).toBe(true);
    expect(() => env.setExternal('no-slash', 'x', cmdline)).toThrow(/'no-slash' is not an environment key/);
  });

  it('treats undeclared keys that look secret as secrets', () => {
    const env = new Environment();
    env.setExternal('OVESETUP_CONFIG/adminPassword', 'pw-4711-secret', cmdline);
    env.setExternal('OVESETUP_CONFIG/fqdn', 'engine.example.org', cmdline);
    expect(env.secrets()).toEqual(['pw-4711-secret']);
    expect(env.render('OVESETUP_CONFIG/adminPassword')).toBe('str:**REDACTED**');
    // A likely typo of a sensitive key holds what was meant to stay hidden.
    const r = new Runtime();
    r.env.declare(
      keysOf(defineEnv('CANARY', { password: key.str({ default: '', sensitive: true, description: 'pw' }) })),
    );
    r.env.setExternal('CANARY/pasword', 'typo-secret-9d1', cmdline);
    expect(r.env.secrets()).toContain('typo-secret-9d1');
    expect(r.env.isSensitive('CANARY/other')).toBe(false);
  });

  it('warns once, on the console and in the log, naming the closest declared key', () => {
    const r = runtime();
    const dialog = new RecordingDialog();
    // Before a dialog is attached (command-line keys): held, then shown once it is.
    r.env.setExternal('VDSM/engineHots', 'e.example', cmdline);
    r.dialog = dialog;
    r.env.setExternal('VDSM/engineHots', 'again', { kind: 'dialog', question: 'env-set' });
    r.env.setExternal('VDSM/somethingElse', 1, cmdline);
    r.env.setExternal('OVESETUP_CORE/engineStop', null, cmdline);
    expect(dialog.records.map((x) => x.message)).toEqual([
      expect.stringContaining(
        "'VDSM/engineHots' (from command line argv[0]): no loaded group declares this VDSM/ key; did you mean VDSM/engineHost?",
      ),
      expect.stringContaining('the closest declared one is VDSM/engineHost'),
    ]);
    expect(dialog.records.every((x) => x.level === 'WARNING')).toBe(true);
    expect(r.runLog.text()).toContain("WARNING Unknown environment key 'VDSM/engineHots'");
    expect(r.env.getRaw('VDSM/engineHots')).toBe('again');
  });

  it('refuses such a key in strict runs, and still refuses a wrong type for a declared key', () => {
    const r = runtime();
    r.env.set(BaseEnv.strictKeys, true);
    let error: unknown;
    try {
      r.env.setExternal('VDSM/engineHots', 'e.example', cmdline);
    } catch (e) {
      error = e;
    }
    expect(isOtopiError(error, 'ENV_UNKNOWN_KEY')).toBe(true);
    expect((error as Error).message).toContain('did you mean VDSM/engineHost?');
    expect(r.env.has('VDSM/engineHots')).toBe(false);
    r.env.setExternal('OVESETUP_CORE/engineStop', null, cmdline); // other namespaces stay open
    expect(() => r.env.setExternal('VDSM/enginePort', 'https', cmdline)).toThrow(/does not fit int/);
  });

  it('writes undeclared keys back into a generated answer file as they were read', () => {
    const env = new Environment();
    env.setExternal('OVESETUP_CORE/engineStop', null, cmdline);
    env.setExternal('OVESETUP_DB/port', 5432, cmdline);
    env.setExternal('OVESETUP_CONFIG/extra', ['a', '', 'b c'], cmdline);
    env.setExternal('OVESETUP_CONFIG/adminPassword', 'pw-secret', cmdline);
    const text = formatAnswerFile(env, { now: new Date(0) });
    expect(text).not.toContain('pw-secret');
    expect(text).toContain('#   OVESETUP_CONFIG/adminPassword=str:<answer>');
    const entries = parseIni(text, 'answers').sections[0]!.entries.map((e) => `${e.key}=${e.value}`);
    expect(entries).toEqual([
      'OVESETUP_CONFIG/extra=multi-str:a\n\nb c',
      'OVESETUP_CORE/engineStop=none:None',
      'OVESETUP_DB/port=int:5432',
    ]);
    expect(formatAnswerFile(env, { keepSecrets: true })).toContain('OVESETUP_CONFIG/adminPassword=str:pw-secret');
  });
});
