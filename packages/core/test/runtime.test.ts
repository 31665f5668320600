import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  CoreEnv,
  currentHandlerLog,
  defineEnv,
  definePlugin,
  key,
  Priority,
  NullDialog,
  OtopiError,
  Runtime,
  STAGES,
  isOtopiError,
  type ConsoleRecord,
  type RunEvent,
  type Stage,
} from '@otopi/core';

function newRuntime(): { runtime: Runtime; events: RunEvent[]; logDir: string } {
  const events: RunEvent[] = [];
  const runtime = new Runtime({ listeners: [(e) => events.push(e)] });
  const logDir = mkdtempSync(join(tmpdir(), 'otopi-rt-'));
  runtime.env.set(CoreEnv.logDir, logDir);
  runtime.env.set(CoreEnv.configFileName, join(logDir, 'absent.conf'));
  runtime.env.set(CoreEnv.journalDir, join(logDir, 'journal'));
  runtime.env.set(CoreEnv.lockFile, join(logDir, 'run.lock'));
  return { runtime, events, logDir };
}

/** A plugin with one handler per stage that records which stages ran. */
function tracer(ran: string[], failAt?: Stage, error: Error = new Error('boom')) {
  return definePlugin({
    name: 'test.trace',
    setup(p) {
      for (const stage of STAGES) {
        p.on({
          name: stage,
          stage,
          run: () => {
            ran.push(stage);
            if (stage === failAt) throw error;
          },
        });
        p.on({ name: `${stage}.second`, stage, priority: Priority.LOW, run: () => void ran.push(`${stage}+`) });
      }
    },
  });
}

describe('the current handler logger', () => {
  it("is the running handler's logger, in its condition and body, and none between handlers", async () => {
    const { runtime } = newRuntime();
    const seen: string[] = [];
    let providerLog: unknown;
    runtime.register(
      definePlugin({
        name: 'test.current',
        setup(p) {
          p.on({ name: 'make', stage: 'setup', run: ({ log }) => void (providerLog = log) });
          p.on({
            name: 'use',
            stage: 'misc',
            condition: ({ log }) => currentHandlerLog() === log,
            run: async ({ log }) => {
              await new Promise((r) => setTimeout(r, 1));
              seen.push(currentHandlerLog() === log ? 'mine' : 'other');
              seen.push(currentHandlerLog() === providerLog ? 'creator' : 'not creator');
            },
          });
        },
      }),
    );
    expect(await runtime.run()).toBe(0);
    expect(seen).toEqual(['mine', 'not creator']);
    expect(currentHandlerLog()).toBeUndefined();
  });
});

describe('Runtime stage flow', () => {
  it('runs all 18 stages in order on success and exits 0', async () => {
    const { runtime } = newRuntime();
    const ran: string[] = [];
    runtime.register(tracer(ran));
    expect(await runtime.run()).toBe(0);
    expect(ran.filter((s) => !s.endsWith('+'))).toEqual([...STAGES]);
  });

  it('after an error runs only init, cleanup, pre_terminate and terminate, never reboot', async () => {
    const { runtime } = newRuntime();
    const ran: string[] = [];
    runtime.register(tracer(ran, 'boot'));
    expect(await runtime.run()).toBe(1);
    expect(ran).toEqual([
      'boot',
      'init',
      'init+',
      'cleanup',
      'cleanup+',
      'pre_terminate',
      'pre_terminate+',
      'terminate',
      'terminate+',
    ]);
  });

  it('skips the rest of a success-only stage after an error in it', async () => {
    const { runtime } = newRuntime();
    const ran: string[] = [];
    runtime.register(tracer(ran, 'misc'));
    expect(await runtime.run()).toBe(1);
    expect(ran).toContain('misc');
    expect(ran).not.toContain('misc+');
    expect(ran).not.toContain('closeup');
    expect(ran).not.toContain('reboot');
    expect(ran.slice(-6)).toEqual([
      'cleanup',
      'cleanup+',
      'pre_terminate',
      'pre_terminate+',
      'terminate',
      'terminate+',
    ]);
    expect(runtime.env.getRaw('BASE/error')).toBe(true);
  });

  it('marks an abort as aborted and still exits 1', async () => {
    const { runtime } = newRuntime();
    const ran: string[] = [];
    runtime.register(tracer(ran, 'customization', new AbortError('user said no')));
    expect(await runtime.run()).toBe(1);
    expect(runtime.env.getRaw('BASE/aborted')).toBe(true);
    expect(runtime.env.getRaw('BASE/errorMessages')).toEqual(['user said no']);
  });

  it('evaluates async conditions just before the handler, seeing earlier changes', async () => {
    const { runtime } = newRuntime();
    const Flag = defineEnv('FLAG', { on: key.bool({ default: false, description: 'flag' }) });
    const ran: string[] = [];
    runtime.register(
      definePlugin({
        name: 'test.cond',
        env: [Flag],
        setup(p) {
          p.on({ name: 'set', stage: 'setup', run: ({ env }) => env.set(Flag.on, true) });
          p.on({
            name: 'guarded',
            stage: 'misc',
            condition: async ({ env }) => {
              await new Promise((r) => setTimeout(r, 1));
              return env.get(Flag.on);
            },
            run: () => void ran.push('guarded'),
          });
          p.on({ name: 'never', stage: 'misc', condition: () => false, run: () => void ran.push('never') });
        },
      }),
    );
    expect(await runtime.run()).toBe(0);
    expect(ran).toEqual(['guarded']);
  });

  it('lets the lowest-priority exit code win and forces at least 1 on error', async () => {
    const { runtime } = newRuntime();
    runtime.register(
      definePlugin({
        name: 'test.codes',
        setup(p) {
          p.on({ name: 'a', stage: 'misc', run: (ctx) => ctx.setExitCode(101, Priority.LOW) });
          p.on({ name: 'b', stage: 'misc', run: (ctx) => ctx.setExitCode(102, Priority.HIGH) });
        },
      }),
    );
    expect(await runtime.run()).toBe(102);
  });

  it('stops after the running handler when interrupted, and runs cleanup', async () => {
    const { runtime } = newRuntime();
    const ran: string[] = [];
    runtime.register(tracer(ran));
    runtime.register(
      definePlugin({
        name: 'test.signal',
        setup(p) {
          p.on({ name: 'kill', stage: 'validation', priority: Priority.POST, run: () => runtime.interrupt('SIGTERM') });
        },
      }),
    );
    expect(await runtime.run()).toBe(1);
    expect(ran).toContain('validation');
    expect(ran).not.toContain('validation+');
    expect(ran).not.toContain('misc');
    expect(ran).toContain('cleanup');
    expect(runtime.env.getRaw('BASE/errorMessages')).toEqual(['Interrupted by SIGTERM']);
  });

  it('reports events for stages and handlers', async () => {
    const { runtime, events } = newRuntime();
    const ran: string[] = [];
    runtime.register(tracer(ran, 'misc'));
    await runtime.run();
    const failed = events.find((e) => e.type === 'handler-end' && e.result === 'failed');
    expect(failed).toMatchObject({
      handler: 'test.trace.misc',
      stage: 'misc',
      error: { code: 'HANDLER_FAILED', message: 'boom' },
    });
    const skipped = events.flatMap((e) => (e.type === 'stage-skip' ? [e.stage] : []));
    expect(skipped).toEqual(['transaction_end', 'closeup', 'reboot']);
    expect(events.at(-1)).toMatchObject({ type: 'run-end', exitCode: 1, error: true, aborted: false });
  });

  it('stamps the plugin, handler and stage on a failure once, and names the handler to the user', async () => {
    const { runtime } = newRuntime();
    const thrown = new Error('boom');
    const coded = new OtopiError('ENV_BAD_VALUE', 'no such user', { key: 'TEST/user' });
    const lines: string[] = [];
    runtime.dialog = Object.assign(new NullDialog(), { log: (r: ConsoleRecord) => void lines.push(r.message) });
    runtime.register(tracer([], 'misc', thrown));
    runtime.register(
      definePlugin({
        name: 'test.coded',
        setup(p) {
          p.on({ name: 'check', stage: 'cleanup', run: () => Promise.reject(coded) });
        },
      }),
    );
    expect(await runtime.run()).toBe(1);
    // Anything but a coded error becomes HANDLER_FAILED with the same message, the error kept as its cause.
    const first = runtime.error as OtopiError;
    expect(isOtopiError(first, 'HANDLER_FAILED')).toBe(true);
    expect(first.message).toBe('boom');
    expect(first.cause).toBe(thrown);
    expect(first.place).toEqual({ plugin: 'test.trace', handler: 'test.trace.misc', stage: 'misc' });
    // A coded error keeps its code and its own place, and gains where it was thrown.
    expect(coded.code).toBe('ENV_BAD_VALUE');
    expect(coded.place).toEqual({ key: 'TEST/user', plugin: 'test.coded', handler: 'test.coded.check', stage: 'cleanup' });
    expect(lines).toContain("Failed to execute stage 'Misc configuration' in test.trace.misc: boom");
    expect(lines).toContain("Failed to execute stage 'Clean up' in test.coded.check: no such user");
    expect(runtime.env.getRaw('BASE/errorMessages')).toEqual(['boom', 'no such user']);
  });

  it("binds a handler's logger to its plugin, handler and stage, and shows them on its log lines", async () => {
    const { runtime } = newRuntime();
    let bindings: Record<string, unknown> = {};
    runtime.register(
      definePlugin({
        name: 'test.bound',
        setup(p) {
          p.on({
            name: 'say',
            stage: 'closeup',
            run: ({ log }) => {
              bindings = log.bindings();
              log.info('hello');
            },
          });
        },
      }),
    );
    expect(await runtime.run()).toBe(0);
    expect(bindings).toEqual({ plugin: 'test.bound', handler: 'say', stage: 'closeup' });
    expect(readFileSync(runtime.runLog.path!, 'utf8')).toMatch(/ INFO test\.bound say \(closeup\): hello\n/);
  });

  it('writes a log file with stage lines, environment changes and redacted secrets', async () => {
    const { runtime } = newRuntime();
    const Secret = defineEnv('SECRET', { pw: key.str({ default: '', sensitive: true, description: 'pw' }) });
    runtime.register(
      definePlugin({
        name: 'test.secret',
        env: [Secret],
        setup(p) {
          p.on({
            name: 'use',
            stage: 'misc',
            run: ({ env, log }) => {
              env.set(Secret.pw, 'canary-7f3a9');
              log.info('connecting with password canary-7f3a9');
            },
          });
        },
      }),
    );
    expect(await runtime.run()).toBe(0);
    const text = readFileSync(runtime.runLog.path!, 'utf8');
    expect(text).toContain('STAGE misc');
    expect(text).toContain('SECRET/pw=str:**REDACTED**');
    expect(text).toContain('connecting with password **REDACTED**');
    expect(text).not.toContain('canary-7f3a9');
  });
});
