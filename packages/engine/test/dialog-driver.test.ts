import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClientChannel } from 'ssh2';
import { openLineSession } from '../src/deploy/session.js';
import { driveDialog, steps, type DialogChannel } from '../src/dialog/driver.js';
import { localRun } from './local-run.js';
import { DialogParser, DialogProtocolError, splitValidValues, DEFAULT_BOUNDARY } from '../src/dialog/parser.js';

describe('driveDialog against our own machine dialect', () => {
  it('answers every kind of question, runs customization steps, and fetches the log at termination', async () => {
    const run = localRun([]);
    const result = join(run.dir, 'result.json');
    const got: string[] = [];
    const hostLog: string[] = [];
    const transcript: string[] = [];
    const outcome = await driveDialog(run.channel, {
      customization: [
        steps.get('CORE/logFileName', (v) => got.push(`log=${String(v.value)}`)),
        steps.set('DLGTEST/resultFile', result),
        steps.set('DLGTEST/items', 2),
        steps.noop(),
        steps.get('DLGTEST/items', (v) => got.push(`items=${String(v.value)}`)),
      ],
      answers: {
        DLG_NAME: 'Ada',
        DLG_COLOUR: 'blue',
        DLG_PASSWORD: 'driver-canary-secret',
        DLG_LINES: ['one', 'two'],
        DLG_NUMBER: 42,
        DLG_PROCEED: true,
        DLG_ITEM: '',
      },
      onHostLog: (lines) => void hostLog.push(...lines),
      transcript: (dir, line) => transcript.push(`${dir} ${line}`),
    });
    expect(await run.exit).toBe(0);
    expect(run.stderr()).toBe('');
    expect(outcome.failures).toEqual([]);
    expect(outcome).toMatchObject({ hostError: false, hostAborted: false, terminated: true });
    expect(got[0]).toMatch(/^log=.*\.log$/);
    expect(got[1]).toBe('items=2');
    expect(outcome.displayed.get('DLG_SUMMARY')).toEqual({ type: 'str', value: 'Ada/Blue' });
    expect(outcome.displayed.get('DLG_ECHO')).toEqual({ type: 'multi-str', value: ['one', 'two'] });
    expect(JSON.parse(readFileSync(result, 'utf8'))).toMatchObject({
      name: 'Ada',
      colour: 'Blue',
      lines: ['one', 'two'],
      number: 42,
      proceed: true,
      items: ['item1', 'item2'],
    });
    expect(hostLog.length).toBeGreaterThan(20);
    expect(outcome.hostLogLines).toBe(hostLog.length);
    expect(hostLog.join('\n')).not.toContain('driver-canary-secret');
    expect(transcript.join('\n')).not.toContain('driver-canary-secret');
    expect(transcript).toContain('out (hidden)');
    // Settings' values are not in the transcript: only the host knows which keys are secret.
    expect(transcript).toContain('out VALUE DLGTEST/items=int:(not shown)');
    expect(transcript.filter((t) => t.startsWith('out ')).join('\n')).not.toContain(result);
  });

  it('refuses a question nobody expects, and the host rolls back and still terminates', async () => {
    const run = localRun([]);
    const outcome = await driveDialog(run.channel, {
      answers: { DLG_NAME: 'x', DLG_COLOUR: 'Red', DLG_PASSWORD: 'p', DLG_LINES: [] },
    });
    expect(await run.exit).toBe(1);
    expect(outcome.failures).toEqual([
      { code: 'QUESTION_UNANSWERED', message: "the host asked 'DLG_NUMBER', which this deploy does not answer" },
    ]);
    expect(outcome.hostError).toBe(true);
    expect(outcome.hostAborted).toBe(true);
    expect(outcome.terminated).toBe(true);
  });

  it('aborts at the next prompt when a step fails', async () => {
    const run = localRun(['DLGTEST/skip=bool:True']);
    const outcome = await driveDialog(run.channel, {
      customization: [steps.get('CORE/logFileName', (_v, ctx) => ctx.fail('duplicate id')), steps.noop()],
    });
    expect(await run.exit).toBe(1);
    expect(outcome.failures).toEqual([{ code: 'STEP_FAILED', message: 'duplicate id' }]);
    expect(outcome.hostAborted).toBe(true);
  });

  it('gives up after the inactivity limit: the session ends a silent host, and the dialog is found unfinished', async () => {
    // A command that never writes a line. The session owns the limit; the driver keeps no clock.
    const silent = Object.assign(new EventEmitter(), {
      stderr: new EventEmitter(),
      write: () => true,
      end: () => undefined,
      signal: () => undefined,
      close: () => void silent.emit('close', null, null),
    });
    const control = openLineSession(silent as unknown as ClientChannel, {
      where: 'silent',
      commandBytes: 0,
      inactivityTimeoutMs: 50,
    });
    const outcome = await driveDialog(control.session, {});
    await expect(control.session.done).rejects.toMatchObject({
      code: 'SSH_INACTIVITY_TIMEOUT',
      message: 'SSH session with silent inactive for 50 ms',
    });
    expect(outcome.failures).toEqual([
      { code: 'SESSION_ENDED', message: 'the host closed the session before the dialog ended' },
    ]);
    expect(outcome.terminated).toBe(false);
  });
});

/** A host that plays a transcript: `<` lines are sent, `>` lines are the replies expected. */
function scriptedHost(script: string[]): { channel: DialogChannel; received: string[] } {
  const received: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  const replies: string[] = [];
  const channel: DialogChannel = {
    lines: (async function* () {
      for (const entry of script) {
        if (entry.startsWith('< ')) yield entry.slice(2);
        else {
          const reply = replies.shift() ?? (await new Promise<string>((r) => (waiting = r)));
          received.push(reply);
          if (reply !== entry.slice(2)) throw new Error(`expected reply ${entry.slice(2)}, got ${reply}`);
        }
      }
    })(),
    send: (line) => {
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w(line);
      } else replies.push(line);
    },
    end: () => undefined,
  };
  return { channel, received };
}

describe('driveDialog against the original otopi grammar', () => {
  it('drives an otopi-style transcript (no events framing, notes after CONFIRM, VALUE and MULTI-STRING replies)', async () => {
    const B = DEFAULT_BOUNDARY;
    const A = '--=451b80dc-996f-ABORT-9e4f-2b29ef6d1141=--';
    const { channel, received } = scriptedHost([
      '< ***L:INFO Stage: Initializing',
      '< **%EventEnd STAGE init METHOD otopi.plugins.otopi.dialog.machine.Plugin._init_machine_events_stuff (None)',
      '< ***CONFIRM DEPLOY_PROCEED Proceed with ovirt-host-deploy',
      '< ### Please confirm',
      '> CONFIRM DEPLOY_PROCEED=yes',
      '< ***L:INFO Stage: Environment customization',
      '< **%QStart: CUSTOMIZATION_COMMAND',
      "< ### Customization phase, use 'install' to proceed",
      '< ### COMMAND>',
      '< **%QHidden: FALSE',
      '< ***Q:STRING CUSTOMIZATION_COMMAND',
      '< **%QEnd: CUSTOMIZATION_COMMAND',
      '> env-get -k VDSM/vdsmId',
      '< ***D:VALUE VDSM/vdsmId=str:4C4C4544-0042',
      '< ***Q:STRING CUSTOMIZATION_COMMAND',
      '> env-query-multi -k NETWORK/iptablesRules',
      `< ***Q:MULTI-STRING NETWORK/iptablesRules ${B} ${A}`,
      '> *filter',
      '> COMMIT',
      `> ${B}`,
      '< ***Q:STRING CUSTOMIZATION_COMMAND',
      '> env-query -k OVIRT_ENGINE/correlationId',
      '< ***Q:VALUE OVIRT_ENGINE/correlationId',
      '> VALUE OVIRT_ENGINE/correlationId=str:abc-123',
      '< ***Q:STRING CUSTOMIZATION_COMMAND',
      '> install',
      `< ***D:MULTI-STRING VDSM_CERTIFICATE_REQUEST ${B}`,
      '< -----BEGIN CERTIFICATE REQUEST-----',
      '< MIIB',
      '< -----END CERTIFICATE REQUEST-----',
      `< ${B}`,
      '< ***Q:MULTI-STRING VDSM_CERTIFICATE_CHAIN ' + `${B} ${A}`,
      '> ca-line',
      '> host-line',
      `> ${B}`,
      '< ***Q:VALUE TIME',
      '> VALUE TIME=str:20261121073000+0000',
      '< ***L:INFO Stage: Pre-termination',
      '< ***Q:STRING TERMINATION_COMMAND',
      '> env-get -k BASE/error',
      '< ***D:VALUE BASE/error=bool:False',
      '< ***Q:STRING TERMINATION_COMMAND',
      '> env-get -k BASE/aborted',
      '< ***D:VALUE BASE/aborted=bool:False',
      '< ***Q:STRING TERMINATION_COMMAND',
      '> log',
      `< ***D:MULTI-STRING LOG ${B}`,
      '< 2026-11-21 07:30:00,000+0000 DEBUG otopi.context context._executeMethod:128 Stage boot METHOD',
      '< ***L:INFO this looks like a request but is a log body line',
      `< ${B}`,
      '< ***Q:STRING TERMINATION_COMMAND',
      '> env-query -k CORE/logRemoveAtExit',
      '< ***Q:VALUE CORE/logRemoveAtExit',
      '> VALUE CORE/logRemoveAtExit=bool:True',
      '< ***Q:STRING TERMINATION_COMMAND',
      '> quit',
      '< ***L:INFO Stage: Termination',
      '< ***TERMINATE',
    ]);
    let csr: readonly string[] = [];
    const hostLog: string[] = [];
    const outcome = await driveDialog(channel, {
      customization: [
        steps.get('VDSM/vdsmId'),
        steps.set('NETWORK/iptablesRules', ['*filter', 'COMMIT']),
        steps.set('OVIRT_ENGINE/correlationId', 'abc-123'),
      ],
      answers: { DEPLOY_PROCEED: true, VDSM_CERTIFICATE_CHAIN: ['ca-line', 'host-line'] },
      answer: (event) => (event.name === 'TIME' ? '20261121073000+0000' : undefined),
      onDisplay: (name, value) => {
        if (name === 'VDSM_CERTIFICATE_REQUEST') csr = value.value as readonly string[];
      },
      onHostLog: (lines) => void hostLog.push(...lines),
    });
    expect(outcome.failures).toEqual([]);
    expect(outcome).toMatchObject({ hostError: false, hostAborted: false, terminated: true, lastStage: 'Termination' });
    expect(outcome.displayed.get('VDSM/vdsmId')).toEqual({ type: 'str', value: '4C4C4544-0042' });
    expect(csr).toEqual(['-----BEGIN CERTIFICATE REQUEST-----', 'MIIB', '-----END CERTIFICATE REQUEST-----']);
    expect(hostLog).toHaveLength(2);
    expect(received.at(-1)).toBe('quit');
  });

  it('reports a line outside the grammar as a protocol error and ends the session', async () => {
    const { channel } = scriptedHost(['< ***L:INFO Stage: Initializing', '< Traceback (most recent call last):']);
    const outcome = await driveDialog(channel, {});
    expect(outcome.failures[0]).toMatchObject({
      code: 'PROTOCOL_ERROR',
      message: expect.stringMatching(/^unexpected line from the host: "Traceback/),
    });
    expect(outcome.terminated).toBe(false);
  });
});

describe('DialogParser', () => {
  it('keeps frame metadata and unescapes valid values', () => {
    const p = new DialogParser();
    const events = [
      '**%QStart: X',
      '### pick one',
      '**%QDefault: a',
      '**%QValidValues: a|b\\|c|d\\\\e',
      '**%QHidden: TRUE',
      '***Q:STRING X',
      '**%QEnd: X',
    ].flatMap((l) => p.push(l));
    expect(events.at(-1)).toEqual({
      kind: 'query-string',
      name: 'X',
      info: { notes: ['pick one'], default: 'a', validValues: ['a', 'b|c', 'd\\e'], hidden: true },
    });
    expect(splitValidValues('only')).toEqual(['only']);
  });

  it('reads text holding U+2028 and U+2029, which a run may print (found by test/reliability)', () => {
    const p = new DialogParser();
    expect(p.push('***L:INFO a\u2028b')).toEqual([{ kind: 'log', level: 'INFO', text: 'a\u2028b' }]);
    expect(p.push('***D:VALUE X=str:c\u2029d')).toEqual([
      { kind: 'display-value', name: 'X', type: 'str', value: 'c\u2029d' },
    ]);
    expect(p.push('***CONFIRM X e\u2028f')).toEqual([{ kind: 'confirm', name: 'X', description: 'e\u2028f' }]);
  });

  it('rejects unknown requests and garbage', () => {
    const p = new DialogParser();
    expect(() => p.push('***Q:SOMETHING X')).toThrow(DialogProtocolError);
    expect(() => p.push('hello')).toThrow(/unexpected line/);
    expect(p.push('**%SomethingNew whatever')).toEqual([]);
  });
});
