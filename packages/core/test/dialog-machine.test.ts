import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  ABORT_BOUNDARY,
  BOUNDARY,
  DialogEnv,
  Environment,
  MachineDialect,
  Redactor,
  isOtopiError,
  parseConfirmReply,
  parseValueReply,
} from '@otopi/core';

function machine(replies: readonly string[] = [], setup?: (env: Environment) => void) {
  const env = new Environment();
  const input = new PassThrough();
  input.end(replies.map((r) => `${r}\n`).join(''));
  let out = '';
  const redactor = new Redactor({ secrets: () => env.secrets(), protectedNames: () => env.keys() });
  const dialog = new MachineDialect({ env, redactor, input, write: (t) => (out += t) });
  setup?.(env);
  return { env, dialog, output: () => out };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isOtopiError(error) ? error.code : `not coded: ${String(error)}`;
  }
  return 'no error';
}

describe('MachineDialect: frames, byte for byte', () => {
  it('writes a string frame in otopi order and stores the answer in QUESTION/1/<name>', async () => {
    const { env, dialog, output } = machine(['']);
    const answer = await dialog.queryString({
      name: 'Q1',
      note: 'Pick (@VALUES@) [@DEFAULT@]:',
      validValues: ['a|b', 'c\\d'],
      default: 'c\\d',
    });
    expect(answer).toBe('c\\d');
    expect(output()).toBe(
      [
        '**%QStart: Q1',
        '### Pick (a|b, c\\d) [c\\d]:',
        '**%QDefault: c\\d',
        '**%QValidValues: a\\|b|c\\\\d',
        '**%QHidden: FALSE',
        '***Q:STRING Q1',
        '**%QEnd: Q1',
        '',
      ].join('\n'),
    );
    expect(env.getRaw('QUESTION/1/Q1')).toBe('c\\d');
  });

  it('counts askings per name: the second asking is QUESTION/2/<name>', async () => {
    const { env, dialog } = machine(['one', 'two']);
    await dialog.queryString({ name: 'AGAIN' });
    await dialog.queryString({ name: 'AGAIN' });
    expect(env.getRaw('QUESTION/1/AGAIN')).toBe('one');
    expect(env.getRaw('QUESTION/2/AGAIN')).toBe('two');
  });

  it('matches case-insensitively and returns the valid value as spelled', async () => {
    const { dialog } = machine(['GREEN', 'Whatever']);
    expect(await dialog.queryString({ name: 'C', validValues: ['Red', 'Green'], caseSensitive: false })).toBe('Green');
    expect(await dialog.queryString({ name: 'D', caseSensitive: false })).toBe('whatever');
  });

  it('refuses an invalid or empty answer with DIALOG_INVALID_VALUE (no re-ask)', async () => {
    expect(await codeOf(machine(['x']).dialog.queryString({ name: 'V', validValues: ['a'] }))).toBe(
      'DIALOG_INVALID_VALUE',
    );
    expect(await codeOf(machine(['']).dialog.queryString({ name: 'V' }))).toBe('DIALOG_INVALID_VALUE');
  });

  it('registers a hidden answer as a secret before anything shows it', async () => {
    const { env, dialog, output } = machine(['s3cret-pw']);
    expect(await dialog.queryString({ name: 'PW', hidden: true })).toBe('s3cret-pw');
    expect(output()).toContain('**%QHidden: TRUE\n');
    expect(env.secrets()).toContain('s3cret-pw');
    expect(env.get(DialogEnv.hiddenAnswerKeys)).toEqual(['QUESTION/1/PW']);
    dialog.note('the password is s3cret-pw');
    dialog.displayValue('ECHO', 's3cret-pw');
    expect(output()).toContain('### the password is **REDACTED**\n***D:VALUE ECHO=str:**REDACTED**\n');
  });

  it('takes answers from QUESTION keys without a frame; hidden ones from QUESTION_HIDDEN first', async () => {
    const { env, dialog, output } = machine([], (e) => {
      e.setExternal('QUESTION/1/NAME', 'given', { kind: 'code' });
      e.setExternal('QUESTION_HIDDEN/1/PW', 'hidden-given', { kind: 'code' });
      e.setExternal('QUESTION/1/DIALOG_CONFIRM/GO', 'yes', { kind: 'code' });
      e.setExternal('QUESTION/1/LINES', ['a', 'b'], { kind: 'code' });
      e.setExternal('QUESTION/1/NUM', 4, { kind: 'code' });
    });
    expect(await dialog.queryString({ name: 'NAME' })).toBe('given');
    expect(await dialog.queryString({ name: 'PW', hidden: true })).toBe('hidden-given');
    expect(await dialog.confirm({ name: 'GO', description: 'going' })).toBe(true);
    expect(await dialog.queryMultiString({ name: 'LINES' })).toEqual(['a', 'b']);
    expect(await dialog.queryValue({ name: 'NUM' })).toBe(4);
    expect(output()).not.toMatch(/^\*\*\*/m);
    expect(output()).not.toContain('hidden-given');
    expect(env.getRaw('QUESTION/1/PW')).toBe('hidden-given');
  });

  it('refuses a given answer that is not valid, naming its key', async () => {
    const { dialog } = machine([], (e) => e.setExternal('QUESTION/1/C', 'purple', { kind: 'code' }));
    const error = await dialog.queryString({ name: 'C', validValues: ['red'] }).catch((e: unknown) => e);
    expect(isOtopiError(error, 'DIALOG_INVALID_VALUE') && error.place.key).toBe('QUESTION/1/C');
  });

  it('accepts defaults without asking when DIALOG/autoAcceptDefault is on', async () => {
    const { env, dialog, output } = machine([], (e) => e.set(DialogEnv.autoAcceptDefault, true));
    expect(await dialog.queryString({ name: 'D', default: 'dflt' })).toBe('dflt');
    expect(output()).not.toContain('***Q:');
    expect(env.getRaw('QUESTION/1/D')).toBe('dflt');
  });

  it('reads multi-string replies up to the boundary; the abort boundary aborts; EOF is DIALOG_EOF', async () => {
    const { dialog, output } = machine(['one', '', '***Q:STRING not a question', BOUNDARY]);
    expect(await dialog.queryMultiString({ name: 'M', note: 'lines' })).toEqual([
      'one',
      '',
      '***Q:STRING not a question',
    ]);
    expect(output()).toContain(`***Q:MULTI-STRING M ${BOUNDARY} ${ABORT_BOUNDARY}\n**%QEnd: M\n`);
    expect(await codeOf(machine(['x', ABORT_BOUNDARY]).dialog.queryMultiString({ name: 'M' }))).toBe('ABORTED');
    expect(await codeOf(machine(['x']).dialog.queryMultiString({ name: 'M' }))).toBe('DIALOG_EOF');
  });

  it('reads VALUE and CONFIRM replies', async () => {
    const { dialog, output } = machine(['VALUE V=multi-str:x', 'CONFIRM C=NO']);
    expect(await dialog.queryValue({ name: 'V' })).toEqual(['x']);
    expect(await dialog.confirm({ name: 'C', description: 'the\nthing', note: 'careful' })).toBe(false);
    expect(output()).toContain('***CONFIRM C the thing\n### careful\n');
  });
});

describe('MachineDialect: reply parsing is strict', () => {
  it.each([
    ['VALUE OTHER=int:1', 'DIALOG_BAD_REPLY'],
    ['VALUE V=float:1', 'DIALOG_BAD_REPLY'],
    ['VALUE V=int:one', 'DIALOG_BAD_REPLY'],
    ['VALUE V', 'DIALOG_BAD_REPLY'],
    ['VALUE Vx=int:1', 'DIALOG_BAD_REPLY'],
    ['value V=int:1', 'DIALOG_BAD_REPLY'],
    ['ABORT OTHER', 'DIALOG_BAD_REPLY'],
    ['ABORT V', 'ABORTED'],
    ['', 'DIALOG_BAD_REPLY'],
    ['garbage', 'DIALOG_BAD_REPLY'],
  ])('VALUE reply %j → %s', async (line, code) => {
    expect(await codeOf(Promise.resolve().then(() => parseValueReply(line, 'V')))).toBe(code);
  });

  it.each([
    ['CONFIRM C=maybe', 'DIALOG_BAD_REPLY'],
    ['CONFIRM D=yes', 'DIALOG_BAD_REPLY'],
    ['CONFIRM C= yes', 'DIALOG_BAD_REPLY'],
    ['yes', 'DIALOG_BAD_REPLY'],
    ['ABORT C', 'ABORTED'],
  ])('CONFIRM reply %j → %s', async (line, code) => {
    expect(await codeOf(Promise.resolve().then(() => parseConfirmReply(line, 'C')))).toBe(code);
  });

  it('parses good replies', () => {
    expect(parseValueReply('VALUE V=str:a=b:c', 'V')).toBe('a=b:c');
    expect(parseValueReply('VALUE V=bool:no', 'V')).toBe(false);
    expect(parseValueReply('VALUE V=none:', 'V')).toBe(null);
    expect(parseConfirmReply('CONFIRM C=Y', 'C')).toBe(true);
  });
});

describe('MachineDialect: framing survives any content', () => {
  it('flattens log messages, splits notes, sends multi-line strings as blocks and hides the boundary', () => {
    const { dialog, output } = machine();
    dialog.log({ level: 'ERROR', message: 'one\ntwo\r\nthree' });
    dialog.note('first\n\nsecond  ');
    dialog.displayValue('S', 'a\nb');
    dialog.displayValue('N', null);
    dialog.displayMultiString('B', [`x ${BOUNDARY} y`, BOUNDARY, 'multi\nline']);
    dialog.displayMultiString('E', []);
    expect(output()).toBe(
      [
        '***L:ERROR one two three',
        '### first',
        '###',
        '### second',
        `***D:MULTI-STRING S ${BOUNDARY}`,
        'a',
        'b',
        BOUNDARY,
        '***D:VALUE N=none:None',
        `***D:MULTI-STRING B ${BOUNDARY}`,
        'x **BOUNDARY** y',
        '**BOUNDARY**',
        'multi',
        'line',
        BOUNDARY,
        `***D:MULTI-STRING E ${BOUNDARY}`,
        BOUNDARY,
        '',
      ].join('\n'),
    );
  });

  it('lists the plan, frames events, and writes nothing after ***TERMINATE', () => {
    const { dialog, output } = machine();
    dialog.announcePlan([{ stage: 'transaction_end', name: 'a.b.c' }]);
    dialog.runEvent({ type: 'handler-start', stage: 'pre_terminate', handler: 'x.y' });
    dialog.runEvent({ type: 'handler-end', stage: 'pre_terminate', handler: 'x.y', result: 'ok', durationMs: 1 });
    dialog.terminate();
    dialog.terminate();
    dialog.note('late');
    expect(output()).toBe(
      [
        '**%EventsListStart',
        '**%EventsListEntry STAGE cleanup METHOD a.b.c (a.b.c)',
        '**%EventsListEnd',
        '**%EventStart STAGE pre-terminate METHOD x.y (x.y)',
        '**%EventEnd STAGE pre-terminate METHOD x.y (x.y)',
        '***TERMINATE',
        '',
      ].join('\n'),
    );
  });

  it('rejects a pending read when interrupted, and keeps the line that arrives after', async () => {
    const env = new Environment();
    const input = new PassThrough();
    const dialog = new MachineDialect({
      env,
      redactor: new Redactor({ secrets: () => [], protectedNames: () => [] }),
      input,
      write: () => {},
    });
    const pending = dialog.queryString({ name: 'WAIT' });
    setTimeout(() => dialog.interrupt(new Error('signal')), 10);
    await expect(pending).rejects.toThrow('signal');
    input.write('late answer\n');
    expect(await dialog.queryString({ name: 'NEXT' })).toBe('late answer');
    dialog.terminate();
  });
});

describe('MachineDialect: secrets inside replies', () => {
  it('registers what secretsIn finds before the reply is logged, and records the answer like a hidden one', async () => {
    const { env, dialog } = machine(['env-set -k X/pw -v s3cret-value']);
    const answer = await dialog.queryString({
      name: 'PROMPT',
      default: '',
      secretsIn: (reply) => (reply.startsWith('env-set') ? [reply.split(' -v ')[1]!] : []),
    });
    expect(answer).toBe('env-set -k X/pw -v s3cret-value');
    expect(env.secrets()).toContain('s3cret-value');
    expect(env.get(DialogEnv.hiddenAnswerKeys)).toEqual(['QUESTION/1/PROMPT']);
  });
});
