import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineEnv, defineEnvFamily, Environment, isOtopiError, key, keysOf } from '@otopi/core';

const DemoEnv = defineEnv('DEMO', {
  name: key.str({ default: 'demo', description: 'a name' }),
  count: key.int({ default: 1, description: 'a count' }),
  enabled: key.bool({ default: false, description: 'a switch' }),
  lines: key.multiStr({ default: [], description: 'some lines' }),
  mode: key.str({ default: 'fast', schema: z.enum(['fast', 'slow']), description: 'an enum' }),
  password: key.optionalStr({ default: null, sensitive: true, description: 'a secret' }),
  logDir: key.str({ default: () => '/computed', description: 'computed default' }),
});

const Command = defineEnvFamily('COMMAND', key.optionalStr({ default: null, description: 'path of a program' }));

function fresh(): Environment {
  const env = new Environment();
  env.declare(keysOf(DemoEnv));
  env.declareFamily(Command);
  return env;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isOtopiError(error)) return `${error.code}: ${error.message}${error.hint ? ` | ${error.hint}` : ''}`;
    throw error;
  }
  throw new Error('expected an error');
}

describe('Environment', () => {
  it('gives typed access with defaults set at declaration', () => {
    const env = fresh();
    expectTypeOf(env.get(DemoEnv.count)).toEqualTypeOf<number>();
    expectTypeOf(env.get(DemoEnv.password)).toEqualTypeOf<string | null>();
    expectTypeOf(env.get(DemoEnv.lines)).toEqualTypeOf<readonly string[]>();
    expect(env.get(DemoEnv.name)).toBe('demo');
    expect(env.get(DemoEnv.logDir)).toBe('/computed');
    expect(env.sourceOf('DEMO/name')).toEqual({ kind: 'default' });
  });

  it('validates writes against the schema', () => {
    const env = fresh();
    env.set(DemoEnv.mode, 'slow');
    expect(env.get(DemoEnv.mode)).toBe('slow');
    expect(codeOf(() => env.set(DemoEnv.mode, 'medium' as 'fast'))).toMatch(
      /^ENV_SCHEMA: DEMO\/mode: str:medium does not fit str/,
    );
  });

  it('rejects a value of the wrong type from outside, naming key and source', () => {
    const env = fresh();
    const msg = codeOf(() =>
      env.setExternal('DEMO/count', 'seven', {
        kind: 'config',
        file: '/a.conf',
        line: 4,
        section: 'environment:default',
      }),
    );
    expect(msg).toMatch(/^ENV_SCHEMA: DEMO\/count: str:seven does not fit int/);
    expect(msg).toContain('/a.conf:4');
  });

  it('takes an undeclared key as given, telling the listener of a likely typo in a declared namespace', () => {
    const env = fresh();
    const heard: string[] = [];
    env.onUndeclaredKey = (notice) => heard.push(`${notice.key}~${notice.closest}~${notice.likelyTypo}`);
    env.setExternal('DEMO/cuont', 3, { kind: 'cmdline', where: 'argv[1]' });
    env.setExternal('OTHER/any', 'x', { kind: 'cmdline', where: 'argv[2]' });
    expect(env.getRaw('DEMO/cuont')).toBe(3);
    expect(env.getRaw('OTHER/any')).toBe('x');
    expect(heard).toEqual(['DEMO/cuont~DEMO/count~true']);
  });

  it('accepts family keys and checks them against the family schema', () => {
    const env = fresh();
    env.setExternal('COMMAND/ip', '/sbin/ip', { kind: 'cmdline', where: 'argv[0]' });
    expect(env.getRaw('COMMAND/ip')).toBe('/sbin/ip');
    expect(codeOf(() => env.setExternal('COMMAND/ip', 5, { kind: 'code' }))).toMatch(/^ENV_SCHEMA/);
  });

  it('never shows a sensitive value in errors or renderings', () => {
    const env = fresh();
    env.set(DemoEnv.password, 'hunter2-secret');
    expect(env.render('DEMO/password')).toBe('str:**REDACTED**');
    expect(env.secrets()).toContain('hunter2-secret');
    const Strict = defineEnv('STRICT', {
      token: key.str({ default: 'x', sensitive: true, schema: z.string().min(30), description: 'a token' }),
    });
    env.declare(keysOf(Strict));
    const msg = codeOf(() => env.setExternal('STRICT/token', 'short-token-value', { kind: 'code' }));
    expect(msg).not.toContain('short-token-value');
    expect(msg).toContain('(value redacted)');
  });

  it('tracks changes and keeps secrets current', () => {
    const env = fresh();
    env.takeChanges();
    env.set(DemoEnv.count, 2);
    env.set(DemoEnv.enabled, true);
    expect(env.takeChanges()).toEqual(['DEMO/count', 'DEMO/enabled']);
    expect(env.takeChanges()).toEqual([]);
    env.addSecret('extra-secret');
    expect(env.secrets()).toContain('extra-secret');
    env.set(DemoEnv.password, 'next-secret');
    expect(env.secrets()).toEqual(expect.arrayContaining(['extra-secret', 'next-secret']));
  });

  it('keeps every value a sensitive key held a secret, numbers too (found by test/reliability)', () => {
    const env = new Environment();
    const Secret = defineEnv('SECRETS', {
      password: key.optionalStr({ default: null, sensitive: true, description: 'a secret' }),
      pin: key.optionalInt({ default: null, sensitive: true, description: 'a secret number' }),
    });
    env.declare(keysOf(Secret));
    env.setExternal('SECRETS/password', 'first-secret', { kind: 'cmdline', where: 'argv[1]' });
    env.setExternal('SECRETS/password', 'second-secret', { kind: 'dialog', question: 'env-query' });
    env.set(Secret.pin, 4711);
    expect(env.secrets()).toEqual(expect.arrayContaining(['first-secret', 'second-secret', '4711']));
  });

  it('refuses a second, different declaration of a key', () => {
    const env = fresh();
    const Twin = defineEnv('DEMO', { name: key.str({ default: 'other', description: 'twin' }) });
    expect(codeOf(() => env.declare(keysOf(Twin)))).toMatch(/^ENV_DUPLICATE_DECLARATION/);
  });
});
