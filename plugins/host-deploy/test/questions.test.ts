// The questions of a run by hand: asked in the human dialect only for keys nothing set, answered
// from QUESTION/<n>/<name> when an answer file gives them, and re-asked after an invalid answer.
import { PassThrough } from 'node:stream';
import { DialogEnv, HumanDialect, Runtime, type HandlerContext, type PlannedHandler } from '@otopi/core';
import { describe, expect, it } from 'vitest';
import { NetworkCompatEnv, VdsmEnv } from '../src/_lib/keys.js';
import questions from '../src/core/questions.js';
import firewall from '../src/network/firewall.js';
import pki from '../src/vdsm/pki.js';

function setup(replies: readonly string[] | undefined, prepare: (r: Runtime) => void = () => {}) {
  const runtime = new Runtime();
  runtime.register(pki, 'host-deploy.vdsm.pki');
  runtime.register(firewall, 'host-deploy.network.firewall');
  runtime.register(questions, 'host-deploy.core.questions');
  prepare(runtime);
  const input = new PassThrough();
  input.end((replies ?? []).map((r) => `${r}\n`).join(''));
  let out = '';
  runtime.dialog = new HumanDialect({
    env: runtime.env,
    redactor: runtime.redactor,
    input,
    output: { write: (t) => (out += t), isTTY: false },
  });
  const handler = runtime.plan.handlers.find((h) => h.name === 'host-deploy.core.questions.ask') as PlannedHandler;
  const ctx = { env: runtime.env, log: handler.log, dialog: runtime.dialog } as unknown as HandlerContext;
  return {
    env: runtime.env,
    output: () => out,
    log: () => runtime.runLog.text(),
    applies: () => handler.spec.condition?.(ctx) ?? true,
    ask: () => handler.spec.run(ctx),
  };
}

describe('questions of a run by hand', () => {
  it('asks the engine, its port, the bridge, the enrollment and the firewall, and records the answers', async () => {
    const run = setup(['10.88.0.1', '8080', '', 'request', 'no']);
    expect(run.applies()).toBe(true);
    await run.ask();
    expect(run.env.get(VdsmEnv.engineHost)).toBe('10.88.0.1');
    expect(run.env.get(VdsmEnv.engineAddress)).toBe('10.88.0.1');
    expect(run.env.get(VdsmEnv.enginePort)).toBe(8080);
    expect(run.env.get(VdsmEnv.managementBridgeName)).toBe('ovirtmgmt');
    expect(run.env.get(VdsmEnv.certificateEnrollment)).toBe('request');
    expect(run.env.get(NetworkCompatEnv.iptablesEnable)).toBe(false);
    expect(run.env.getRaw('QUESTION/1/ODEPLOY_ENGINE_PORT')).toBe('8080');
    expect(run.env.getRaw('QUESTION/1/ODEPLOY_MANAGEMENT_BRIDGE')).toBe('ovirtmgmt');
    expect(run.output()).toContain('Management bridge name');
    expect(run.output()).toContain('Certificate enrollment (none, inline, request, accept) [inline]: ');
    expect(run.log()).toContain('Engine 10.88.0.1:8080; bridge ovirtmgmt; certificate request; firewall left alone');
  });

  it('asks nothing for keys the command line or a config file set', async () => {
    const run = setup([], (r) => {
      const source = { kind: 'cmdline', where: 'argv[1]' } as const;
      r.env.set(VdsmEnv.engineHost, 'engine.example.com', source);
      r.env.set(VdsmEnv.enginePort, 443, source);
      r.env.set(VdsmEnv.managementBridgeName, null, source);
      r.env.set(VdsmEnv.certificateEnrollment, 'none', source);
      r.env.set(NetworkCompatEnv.iptablesEnable, true, source);
    });
    await run.ask();
    expect(run.output()).not.toMatch(/\?|: $/m);
    expect(run.env.get(VdsmEnv.engineAddress)).toBe(null);
    expect(run.log()).toContain('Engine engine.example.com:443; bridge none; certificate none; firewall oVirt rules');
  });

  it('takes the answers of an answer file without reading any input, and needs no engine', async () => {
    const run = setup(undefined, (r) => {
      for (const [name, value] of [
        ['ODEPLOY_ENGINE_HOST', 'none'],
        ['ODEPLOY_CERTIFICATE_ENROLLMENT', 'none'],
        ['ODEPLOY_FIREWALL', 'yes'],
      ])
        r.env.setExternal(`QUESTION/1/${name}`, value!, {
          kind: 'config',
          file: 'answers.conf',
          line: 2,
          section: 'environment:default',
        });
    });
    await run.ask();
    expect(run.env.get(VdsmEnv.engineHost)).toBe(null);
    expect(run.env.get(NetworkCompatEnv.iptablesEnable)).toBe(true);
    expect(run.output()).not.toContain('Management bridge');
  });

  it('asks again after an answer that is not a port, and fails naming the key once input has ended', async () => {
    const run = setup(['engine.lab', '70000', '443', 'br0', 'none', 'yes']);
    await run.ask();
    expect(run.env.get(VdsmEnv.enginePort)).toBe(443);
    expect(run.env.get(VdsmEnv.managementBridgeName)).toBe('br0');
    expect(run.output()).toContain('Invalid answer: expected a port number from 1 to 65535');

    const closed = setup([]);
    await expect(closed.ask()).rejects.toMatchObject({
      code: 'DIALOG_NO_TERMINAL',
      hint: expect.stringContaining('QUESTION/1/ODEPLOY_ENGINE_HOST=str:<answer>') as unknown,
    });
  });

  it('is skipped in the machine dialect: an engine sets these keys itself', () => {
    const run = setup([], (r) => r.env.set(DialogEnv.dialect, 'machine'));
    expect(run.applies()).toBe(false);
  });
});
