// Deploying the host bundle to lab hosts the way the engine does: one SSH exec per run, the
// bundle and the Node.js runtime shipped only when the host's cache lacks them, then the
// installer's machine dialog on the same channel. Host state is checked with labExec.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildBundle,
  buildRuntime,
  deployBundle,
  EngineError,
  type BuiltBundle,
  type DeploySession,
  type RuntimeArtifact,
} from '../../packages/engine/src/index.js';
import { driveDialog, steps } from '../../packages/engine/src/dialog/driver.js';
import { HOSTS } from '../lab/allocation.js';
import { type LabHost, labExec, labHost } from '../lab/lab.js';
import { connectLabHost } from './support/deploy-lab.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = '/var/cache/otopi';
let out: string;
let bundle: BuiltBundle;
let runtime: RuntimeArtifact;

/** The engine's side of a plain run: 'install' at customization, 'quit' at termination. */
async function drive(session: DeploySession): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of session.lines) {
    lines.push(line);
    if (line === '***Q:STRING CUSTOMIZATION_COMMAND') session.send('install');
    else if (line === '***Q:STRING TERMINATION_COMMAND') session.send('quit');
    else if (line.startsWith('***Q:') || line.startsWith('***CONFIRM'))
      session.abort(new EngineError('BUNDLE_PROTOCOL', `unexpected question: ${line}`));
  }
  return lines;
}

interface Deployed {
  session: DeploySession;
  lines: string[];
  code: number | null;
  stderr: string;
  seconds: number;
  execCount: number;
}

async function deploy(
  host: LabHost,
  options: { runtime?: RuntimeArtifact | undefined; statements?: string[] } = {},
): Promise<Deployed> {
  const started = performance.now();
  const connection = await connectLabHost(host);
  try {
    const session = await deployBundle(connection, {
      bundle,
      runtime: 'runtime' in options ? options.runtime : runtime,
      statements: options.statements ?? ['CORE/logLevel=str:info'],
      inactivityTimeoutMs: 60_000,
      hardTimeoutMs: 300_000,
    });
    const lines = await drive(session);
    const { code, stderr } = await session.done;
    return {
      session,
      lines,
      code,
      stderr,
      seconds: (performance.now() - started) / 1000,
      execCount: connection.execCount,
    };
  } finally {
    connection.close();
  }
}

const mb = (n: number): string => `${(n / 1e6).toFixed(2)} MB`;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'otopi-bundle-lab-'));
  bundle = await buildBundle({ root: repo, outDir: out });
  runtime = await buildRuntime({ cacheDir: join(repo, 'bundle/.cache'), outDir: out });
  console.log(
    `bundle ${bundle.files.length} files: ${mb(bundle.rawSize)} raw, ${mb(bundle.size)} tar.gz; ` +
      `runtime ${runtime.nodeVersion}: ${mb(runtime.originalSize)} raw, ${mb(runtime.rawSize)} stripped, ${mb(runtime.size)} tar.gz`,
  );
}, 300_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('deploying the bundle', () => {
  it('ships bundle and runtime to a host without Node.js, runs the installer, and caches both privately', async () => {
    const h1 = labHost(HOSTS.bundle[0]);
    expect((await labExec(h1, 'command -v node')).code).not.toBe(0);
    await labExec(h1, ['rm', '-rf', CACHE], { check: true });

    const first = await deploy(h1);
    expect(first.session.shipped).toEqual(['bundle', 'runtime']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.execCount).toBe(1);
    expect(first.lines.filter((l) => l.startsWith('***L:INFO Stage: ')).length).toBeGreaterThan(5);
    expect(first.lines).toContain('***Q:STRING CUSTOMIZATION_COMMAND');
    expect(first.lines.at(-1)).toBe('***TERMINATE');
    // Only dialog lines: the bootstrap's status line was consumed, nothing else was printed.
    expect(first.lines.every((l) => /^(#|\*\*%|\*\*\*)/.test(l))).toBe(true);
    expect(first.session.bytes.payload).toBe(bundle.size + runtime.size);

    const modes = await labExec(
      h1,
      [
        'stat',
        '-c',
        '%n %U %a',
        CACHE,
        `${CACHE}/bundles`,
        `${CACHE}/runtimes`,
        `${CACHE}/bundles/${bundle.sha256}`,
        `${CACHE}/runtimes/${runtime.sha256}`,
      ],
      { check: true },
    );
    expect(modes.stdout.trim().split('\n')).toEqual([
      `${CACHE} root 700`,
      `${CACHE}/bundles root 700`,
      `${CACHE}/runtimes root 700`,
      `${CACHE}/bundles/${bundle.sha256} root 700`,
      `${CACHE}/runtimes/${runtime.sha256} root 700`,
    ]);
    const entries = await labExec(h1, ['ls', '-A', CACHE, `${CACHE}/bundles/${bundle.sha256}`], { check: true });
    expect(entries.stdout).not.toContain('.incoming');
    expect(entries.stdout).toContain('.otopi-complete');
    const node = await labExec(h1, [`${CACHE}/runtimes/${runtime.sha256}/bin/node`, '--version'], { check: true });
    expect(node.stdout.trim()).toBe(runtime.nodeVersion);

    const repeat = await deploy(h1);
    expect(repeat.session.shipped).toEqual([]);
    expect(repeat).toMatchObject({ code: 0, stderr: '', execCount: 1 });
    expect(repeat.lines.at(-1)).toBe('***TERMINATE');
    // Nothing but the command and the two dialog replies went to the host.
    expect(repeat.session.bytes.payload).toBe(0);
    expect(repeat.session.bytes.dialog).toBe('install\nquit\n'.length);
    const sent = (d: Deployed): number => d.session.bytes.command + d.session.bytes.payload + d.session.bytes.dialog;
    console.log(
      `h1 first deploy: ${first.seconds.toFixed(2)} s, ${sent(first)} bytes sent; ` +
        `repeat: ${repeat.seconds.toFixed(2)} s, ${sent(repeat)} bytes sent (command ${repeat.session.bytes.command})`,
    );
  });

  it('ships the runtime again, and only the runtime, when the cached one is broken', async () => {
    const h1 = labHost(HOSTS.bundle[0]);
    await labExec(h1, ['truncate', '-s', '1000', `${CACHE}/runtimes/${runtime.sha256}/bin/node`], { check: true });
    const again = await deploy(h1);
    expect(again.session.shipped).toEqual(['runtime']);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.lines.at(-1)).toBe('***TERMINATE');
    expect(again.session.bytes.payload).toBe(runtime.size);
    const node = await labExec(h1, [`${CACHE}/runtimes/${runtime.sha256}/bin/node`, '--version'], { check: true });
    expect(node.stdout.trim()).toBe(runtime.nodeVersion);
  });

  it('refuses, in one ***L:ERROR line, a host whose only Node.js is too old, unless the runtime comes along', async () => {
    const h3 = labHost(HOSTS.bundle[2]);
    await labExec(
      h3,
      `rm -rf ${CACHE}; printf '#!/bin/sh\\necho v18.19.1\\n' >/usr/local/bin/node; chmod 755 /usr/local/bin/node`,
      { check: true },
    );
    try {
      const refused = await deploy(h3, { runtime: undefined });
      expect(refused.session.shipped).toBeUndefined();
      expect(refused).toMatchObject({ code: 1, stderr: '' });
      expect(refused.lines).toEqual([
        '***L:ERROR otopi needs Node.js 20.19 or newer on this host, and found v18.19.1 at /usr/local/bin/node. ' +
          'Install Node.js 20.19+ or deploy the self-contained bundle, which brings its own runtime.',
      ]);
      expect(refused.session.bytes.payload).toBe(0);

      // The self-contained flavour runs there with its own runtime.
      const shipped = await deploy(h3);
      expect(shipped.session.shipped).toEqual(['bundle', 'runtime']);
      expect(shipped).toMatchObject({ code: 0, stderr: '' });
      expect(shipped.lines.at(-1)).toBe('***TERMINATE');

      // The launcher itself gives the same answer when pointed at the old one.
      const launcher = await labExec(h3, [`${CACHE}/bundles/${bundle.sha256}/bin/otopi`, '--version'], {
        env: { OTOPI_NODE: '/usr/local/bin/node' },
      });
      expect(launcher).toMatchObject({ code: 1, stderr: '' });
      expect(launcher.stdout).toMatch(
        /^\*\*\*L:ERROR otopi needs Node\.js 20\.19 or newer on this host, and found v18\.19\.1 at \/usr\/local\/bin\/node\. .*\n$/,
      );
    } finally {
      await labExec(h3, ['rm', '-f', '/usr/local/bin/node']);
    }
  });

  it('uses a suitable Node.js of the host and sends only the bundle', async () => {
    const h2 = labHost(HOSTS.bundle[1]);
    // The runtime's node, installed as the host's own.
    await labExec(h2, `rm -rf ${CACHE}`, { check: true });
    const first = await deploy(h2, { statements: ['CORE/logLevel=str:info'] });
    expect(first.session.shipped).toEqual(['bundle', 'runtime']);
    await labExec(h2, `cp ${CACHE}/runtimes/${runtime.sha256}/bin/node /usr/local/bin/node && rm -rf ${CACHE}`, {
      check: true,
    });
    try {
      const own = await deploy(h2);
      expect(own.session.shipped).toEqual(['bundle']);
      console.log(
        `h2 deploy with the host's own Node.js: ${own.seconds.toFixed(2)} s, ${own.session.bytes.payload} bytes of bundle`,
      );
      expect(own).toMatchObject({ code: 0, stderr: '' });
      expect(own.lines.at(-1)).toBe('***TERMINATE');
    } finally {
      await labExec(h2, ['rm', '-f', '/usr/local/bin/node']);
    }
  });

  it('hands the machine-dialog driver a session it drives to the end', async () => {
    const h1 = labHost(HOSTS.bundle[0]);
    const connection = await connectLabHost(h1);
    try {
      // The session owns the time limit; the driver keeps no clock.
      const session = await deployBundle(connection, { bundle, runtime, inactivityTimeoutMs: 60_000 });
      expect(session.shipped).toEqual([]);
      const outcome = await driveDialog(session, {
        customization: [steps.get('CORE/logFileName')],
      });
      expect(outcome).toMatchObject({ terminated: true, hostError: false, hostAborted: false, failures: [] });
      expect(outcome.displayed.get('CORE/logFileName')?.value).toMatch(/^\/.*\.log$/);
      expect(outcome.hostLogLines).toBeGreaterThan(10);
      expect(await session.done).toEqual({ code: 0, signal: null, stderr: '' });
    } finally {
      connection.close();
    }
  });
});
