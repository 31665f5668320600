// deployMany with each "host" a local run of the built installer in the machine dialect (the
// sample fixture group), so the orchestration (concurrency, failure isolation, timeouts,
// logs, events, redaction, cancel) is tested without SSH. test/integration/deploy-*.test.ts
// do the same through SSH on lab hosts.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientChannel } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { openLineSession } from '../src/deploy/session.js';
import type { InventoryHost } from '../src/inventory/inventory.js';
import { Secret } from '../src/inventory/secret.js';
import { parseSettings } from '../src/inventory/settings.js';
import { deployMany } from '../src/orchestrate/deploy-many.js';
import type { DeployEvent } from '../src/orchestrate/events.js';
import type { SessionOpener } from '../src/orchestrate/open.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(ROOT, 'packages/cli/dist/otopi.js');
const PLUGIN_PATH = `${join(ROOT, 'plugins')}:${join(ROOT, 'test/integration/fixtures/plugins')}`;
const BUNDLE = { file: '/nonexistent', sha256: '0'.repeat(64), size: 0 };

function host(name: string, settings: string[] = [], extra: Partial<InventoryHost> = {}): InventoryHost {
  return {
    name,
    address: `${name}.invalid`,
    port: 22,
    user: 'root',
    auth: { identities: [{ file: '/nonexistent' }] },
    hostKey: { kind: 'fingerprint', fingerprint: `SHA256:${'A'.repeat(43)}` },
    jumps: [],
    environment: parseSettings(settings),
    answers: {},
    timeouts: {},
    source: { file: 'test', line: 1 },
    ...extra,
  };
}

/** Opens each host as a local installer process; records how many run at once. */
function localOpener(work: string, stats = { open: 0, max: 0 }): SessionOpener {
  return async (h, request) => {
    request.onConnected({
      type: 'ssh-ed25519',
      fingerprint: `SHA256:${'A'.repeat(43)}`,
      learnt: false,
      publicKey: Buffer.alloc(0),
    });
    const dir = join(work, h.name);
    mkdirSync(dir, { recursive: true });
    const command = `'${[CLI, 'DIALOG/dialect=str:machine', 'DIALOG/customization=bool:True', `BASE/pluginPath=str:${PLUGIN_PATH}`, ...request.statements].join(' ')}`;
    const child = spawn(
      process.execPath,
      [
        CLI,
        'DIALOG/dialect=str:machine',
        'DIALOG/customization=bool:True',
        `BASE/pluginPath=str:${PLUGIN_PATH}`,
        ...request.statements,
      ],
      {
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          OTOPI_CONFIG: join(dir, 'none.conf'),
          OTOPI_LOGDIR: dir,
          OTOPI_STATEDIR: join(dir, 'state'),
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    stats.open++;
    stats.max = Math.max(stats.max, stats.open);
    child.on('close', () => stats.open--);
    // The real line session (its inactivity and hard limits, its abort), over the child's pipes.
    const control = openLineSession(childChannel(child), {
      where: h.name,
      commandBytes: command.length,
      inactivityTimeoutMs: request.inactivityTimeoutMs,
      hardTimeoutMs: request.hardTimeoutMs,
    });
    return {
      session: { ...control.session, shipped: [] },
      // Like a closed SSH connection: the host's input ends and nothing more of it arrives.
      close: () => disconnect(child),
    };
  };
}

/**
 * A local process's pipes in the shape of an ssh2 exec channel: the events and calls
 * `openLineSession` uses. A signal or a close kills the process, as sshd would.
 */
const channels = new WeakMap<ChildProcessWithoutNullStreams, EventEmitter>();

function disconnect(child: ChildProcessWithoutNullStreams): void {
  child.stdin.end();
  const channel = channels.get(child);
  channels.delete(child);
  channel?.emit('close', null, null);
}

function childChannel(child: ChildProcessWithoutNullStreams): ClientChannel {
  const channel = Object.assign(new EventEmitter(), {
    stderr: child.stderr,
    write: (data: string | Buffer) => child.stdin.write(data),
    end: () => child.stdin.end(),
    signal: (name: string) => child.kill(`SIG${name}` as NodeJS.Signals),
    close: () => child.kill('SIGKILL'),
  });
  child.stdin.on('error', () => {});
  channels.set(child, channel);
  const live = (): boolean => channels.get(child) === channel;
  child.stdin.on('drain', () => channel.emit('drain'));
  child.stdout.on('data', (data: Buffer) => live() && channel.emit('data', data));
  child.on('close', (code, signal) => live() && channels.delete(child) && channel.emit('close', code, signal));
  return channel as unknown as ClientChannel;
}

function run(hosts: InventoryHost[], options: Partial<Parameters<typeof deployMany>[0]> = {}) {
  const work = mkdtempSync(join(tmpdir(), 'otopi-deploy-many-'));
  const stats = { open: 0, max: 0 };
  const events: DeployEvent[] = [];
  const report = deployMany({
    hosts,
    bundle: BUNDLE,
    groups: ['sample'],
    logDir: join(work, 'logs'),
    open: localOpener(work, stats),
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { work, stats, events, report };
}

describe('deployMany', () => {
  it('deploys to every host with at most `parallel` at once, one log per host, 0600 in a 0700 folder', async () => {
    const work = mkdtempSync(join(tmpdir(), 'otopi-out-'));
    const hosts = ['a', 'b', 'c', 'd', 'e'].map((n) =>
      host(n, [`SAMPLE/outputFile=str:${join(work, `${n}.txt`)}`, `SAMPLE/content=str:for ${n}`]),
    );
    const r = run(hosts, { parallel: 2 });
    const report = await r.report;
    expect(report.hosts.map((h) => [h.host, h.result, h.stage])).toEqual(
      hosts.map((h) => [h.name, 'installed', 'Termination']),
    );
    expect(report).toMatchObject({ ok: true, counts: { installed: 5, failed: 0, aborted: 0 } });
    expect(r.stats.max).toBe(2);
    for (const h of hosts) expect(readFileSync(join(work, `${h.name}.txt`), 'utf8')).toBe(`for ${h.name}\n`);
    expect(statSync(report.logDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(report.logDir)).toHaveLength(5);
    const log = report.hosts[0]!.log!;
    expect(statSync(log).mode & 0o777).toBe(0o600);
    const text = readFileSync(log, 'utf8');
    expect(text).toContain('> env-query -k SAMPLE/outputFile');
    expect(text).toContain('---- host log (');
    expect(text).toMatch(/Sample done\./);
    expect(text).toContain('result: installed at Termination');
    // Events: a run-start, per host start..end with stages, a run-end with the engine's peak memory.
    expect(r.events[0]).toMatchObject({
      type: 'run-start',
      hosts: ['a', 'b', 'c', 'd', 'e'],
      parallel: 2,
      groups: ['sample'],
    });
    expect(
      r.events.filter((e) => e.type === 'stage' && e.host === 'c').map((e) => (e as { stage: string }).stage),
    ).toContain('Misc configuration');
    expect(r.events.at(-1)).toMatchObject({ type: 'run-end', ok: true, engine: { maxRssKb: expect.any(Number) } });
  });

  it('reports a failing host with its stage, cause and log, and the others still install', async () => {
    const r = run([host('ok1'), host('bad', ['SAMPLE/failAt=str:misc']), host('ok2')], { parallel: 3 });
    const report = await r.report;
    expect(report.ok).toBe(false);
    const bad = report.hosts[1]!;
    expect(bad).toMatchObject({ host: 'bad', result: 'failed', stage: 'Misc configuration', exitCode: 1 });
    expect(bad.cause).toMatch(/sample failure requested at misc/);
    expect(bad.lastHandler).toMatch(/^misc\//);
    expect(bad.details).toContain('the installer exited with code 1');
    expect(readFileSync(bad.log!, 'utf8')).toMatch(/result: failed at Misc configuration/);
    expect(report.hosts.filter((h) => h.result === 'installed').map((h) => h.host)).toEqual(['ok1', 'ok2']);
  });

  it("runs a group's program: its statements reach the command line, its conclusion refines the result", async () => {
    const work = mkdtempSync(join(tmpdir(), 'otopi-out-'));
    const seen: string[][] = [];
    const report = await run([host('late', [`SAMPLE/outputFile=str:${join(work, 'late.txt')}`]), host('broken')], {
      programs: {
        sample: (h, ctx) => {
          if (h.name === 'broken') throw new Error('no settings for broken');
          seen.push([...ctx.givenKeys]);
          return {
            statements: ['SAMPLE/content=str:from the group program'],
            conclude: (outcome, result) =>
              result === 'installed' && outcome?.terminated === true
                ? { result: 'incomplete', details: ['a manual step is left'], facts: { id: 'late-1' } }
                : undefined,
          };
        },
      },
    }).report;
    expect(seen).toEqual([['SAMPLE/outputFile']]);
    expect(readFileSync(join(work, 'late.txt'), 'utf8')).toBe('from the group program\n');
    expect(report.hosts[0]).toMatchObject({
      result: 'incomplete',
      cause: 'a manual step is left',
      details: ['a manual step is left'],
      facts: { id: 'late-1' },
    });
    expect(report.hosts[1]).toMatchObject({ result: 'failed', stage: 'not started', cause: 'no settings for broken' });
    expect(report).toMatchObject({
      ok: false,
      counts: { installed: 0, incomplete: 1, reboot: 0, failed: 1, aborted: 0 },
    });
  });

  it('aborts a host whose settings the host refuses, instead of installing without them', async () => {
    const report = await run([host('refused', ['SAMPLE/sleepMs=str:long'])]).report;
    expect(report.hosts[0]).toMatchObject({ result: 'aborted', stage: 'Environment customization' });
    expect(report.hosts[0]!.cause).toMatch(/SAMPLE\/sleepMs/);
  });

  it('gives up a host that stays silent past its inactivity limit, and says so', async () => {
    const r = run(
      [
        host('slow', ['SAMPLE/sleepAt=str:misc', 'SAMPLE/sleepMs=int:30000'], { timeouts: { inactivityMs: 5000 } }),
        host('quick'),
      ],
      { parallel: 2 },
    );
    const report = await r.report;
    expect(report.hosts[0]).toMatchObject({ result: 'failed', stage: 'Misc configuration' });
    expect(report.hosts[0]!.cause).toMatch(/SSH session with slow inactive for 5000 ms/);
    expect(report.hosts[1]!.result).toBe('installed');
  });

  it('redacts the hosts\u2019 passwords from every log line and event, even where a host prints one', async () => {
    const canary = 'canary-local-pw-4711';
    const r = run([
      host('pw', [`SAMPLE/content=str:${canary}`], { auth: { identities: [], password: new Secret(canary) } }),
    ]);
    const report = await r.report;
    expect(report.hosts[0]!.result).toBe('installed');
    const log = readFileSync(report.hosts[0]!.log!, 'utf8');
    expect(log).toContain('**REDACTED**');
    expect(log).not.toContain(canary);
    expect(JSON.stringify(r.events)).not.toContain(canary);
  });

  // KNOWN BUG in the core runtime: the installer learns that its manager went away (EPIPE) only
  // on a later turn of the event loop, and the stage loop reaches the commit before that, so the
  // file is committed. Fix: at each stage boundary, yield (setImmediate) and fail if interrupted.
  // Flip to it() once fixed.
  it('a host whose manager goes away while it sleeps at misc rolls back instead of committing', async () => {
    const work = mkdtempSync(join(tmpdir(), 'otopi-out-'));
    const controller = new AbortController();
    const target = join(work, 'never.txt');
    const pidFile = join(work, 'pid');
    const r = run(
      [
        host('cut', [
          `SAMPLE/outputFile=str:${target}`,
          'SAMPLE/sleepAt=str:misc',
          'SAMPLE/sleepMs=int:1500',
          `SAMPLE/pidFile=str:${pidFile}`,
        ]),
      ],
      {
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'stage' && e.stage === 'Misc configuration') {
            const poll = setInterval(() => {
              if (existsSync(pidFile)) {
                clearInterval(poll);
                controller.abort();
              }
            }, 20);
          }
        },
      },
    );
    const report = await r.report;
    expect(report.hosts[0]).toMatchObject({ result: 'aborted', stage: 'Misc configuration' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(existsSync(target)).toBe(false);
  });

  it('on cancel, disconnects running hosts (they roll back) and starts no more', async () => {
    const work = mkdtempSync(join(tmpdir(), 'otopi-out-'));
    const controller = new AbortController();
    const target = join(work, 'never.txt');
    const r = run(
      [
        host('run1', [`SAMPLE/outputFile=str:${target}`, 'SAMPLE/sleepAt=str:misc', 'SAMPLE/sleepMs=int:1500']),
        host('wait1'),
      ],
      {
        parallel: 1,
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'stage' && e.stage === 'Misc configuration') controller.abort();
        },
      },
    );
    const report = await r.report;
    expect(report.hosts.map((h) => [h.host, h.result, h.stage])).toEqual([
      ['run1', 'aborted', 'Misc configuration'],
      ['wait1', 'aborted', 'not started'],
    ]);
    expect(existsSync(target)).toBe(false);
  });
});
