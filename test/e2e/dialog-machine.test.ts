import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOUNDARY, MachineSession, dialogArgs } from './dialog-harness.js';
import { checkTranscript, splitValidValues } from './machine-protocol.js';
import { tempDir } from './helpers.js';

const CANARY = 'Canary-Hidden-4f1e9';

function logOf(dir: string): string {
  const file = readdirSync(dir).find((f) => f.startsWith('otopi-') && f.endsWith('.log'));
  if (file === undefined) throw new Error(`no log file in ${dir}`);
  return readFileSync(join(dir, file), 'utf8');
}

/** Answers the fixture's questions (after `install`). */
async function answerFixture(s: MachineSession, items: string[] = []): Promise<void> {
  await s.answer('DLG_NAME', 'Ada');
  await s.answer('DLG_COLOUR', 'BLUE');
  await s.answer('DLG_PASSWORD', CANARY);
  await s.answer('DLG_LINES', 'first line', '***L:ERROR not a log line', BOUNDARY);
  await s.answer('DLG_NUMBER', 'VALUE DLG_NUMBER=int:7');
  await s.answer('DLG_PROCEED', 'CONFIRM DLG_PROCEED=yes');
  for (const item of items) await s.answer('DLG_ITEM', item);
}

describe('machine dialect: a whole run driven over pipes', () => {
  it('asks every query type, serves the command prompt and ends with ***TERMINATE', async () => {
    const dir = tempDir();
    const result = join(dir, 'result.json');
    const s = MachineSession.start(
      dialogArgs('DIALOG/customization=bool:True', `DLGTEST/resultFile=str:${result}`, 'DLGTEST/stray=bool:True'),
      dir,
    );
    await s.command('CUSTOMIZATION_COMMAND', 'env-get -k DLGTEST/note');
    expect(await s.waitFor((l) => l.startsWith('***D:VALUE'))).toBe('***D:VALUE DLGTEST/note=str:set by default');
    await s.command('CUSTOMIZATION_COMMAND', 'env-set -k DLGTEST/note -v "changed by the manager"');
    await s.command('CUSTOMIZATION_COMMAND', 'env-set -k DLGTEST/items -t int -v many');
    expect(await s.waitFor((l) => l.startsWith('***L:ERROR'))).toBe(
      "***L:ERROR 'many' is not an integer for DLGTEST/items",
    );
    await s.command('CUSTOMIZATION_COMMAND', 'env-query -k DLGTEST/items');
    await s.answer('DLGTEST/items', 'VALUE DLGTEST/items=int:2');
    await s.command('CUSTOMIZATION_COMMAND', 'env-get -k DLGTEST/items');
    expect(await s.waitFor((l) => l.startsWith('***D:VALUE'))).toBe('***D:VALUE DLGTEST/items=int:2');
    await s.command('CUSTOMIZATION_COMMAND', 'noop');
    await s.command('CUSTOMIZATION_COMMAND', 'frobnicate');
    expect(await s.waitFor((l) => l.startsWith('***L:ERROR'))).toBe("***L:ERROR Invalid command 'frobnicate'");
    await s.command('CUSTOMIZATION_COMMAND', 'log');
    const early = await s.block('LOG');
    expect(early.join('\n')).toContain('Stage: Environment customization');
    await s.command('CUSTOMIZATION_COMMAND', 'install');
    await answerFixture(s, ['', 'second']);
    expect(await s.waitFor((l) => l.startsWith('***D:VALUE DLG_SUMMARY'))).toBe('***D:VALUE DLG_SUMMARY=str:Ada/Blue');
    expect(await s.block('DLG_ECHO')).toEqual(['first line', '***L:ERROR not a log line']);
    await s.command('TERMINATION_COMMAND', 'env-get -k BASE/error');
    expect(await s.waitFor((l) => l.startsWith('***D:VALUE'))).toBe('***D:VALUE BASE/error=bool:False');
    await s.command('TERMINATION_COMMAND', 'env-get -k QUESTION/1/DLG_PASSWORD');
    expect(await s.waitFor((l) => l.startsWith('***D:VALUE'))).toBe(
      '***D:VALUE QUESTION/1/DLG_PASSWORD=str:**REDACTED**',
    );
    await s.command('TERMINATION_COMMAND', 'log');
    const log = await s.block('LOG');
    await s.command('TERMINATION_COMMAND', 'quit');
    const done = await s.finish();

    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    const out = done.stdout;
    // Exact bytes of the frames.
    expect(out).toContain(
      [
        '**%QStart: DLG_COLOUR',
        '### Favourite colour (Red, Green, Blue) [Green]:',
        '**%QDefault: Green',
        '**%QValidValues: Red|Green|Blue',
        '**%QHidden: FALSE',
        '***Q:STRING DLG_COLOUR',
        '**%QEnd: DLG_COLOUR',
        '',
      ].join('\n'),
    );
    expect(out).toContain(
      [
        '**%QStart: DLG_PASSWORD',
        '### Password:',
        '**%QHidden: TRUE',
        '***Q:STRING DLG_PASSWORD',
        '**%QEnd: DLG_PASSWORD',
        '',
      ].join('\n'),
    );
    expect(out).toContain(
      `***Q:MULTI-STRING DLG_LINES ${BOUNDARY} --=451b80dc-996f-ABORT-9e4f-2b29ef6d1141=--\n**%QEnd: DLG_LINES\n`,
    );
    expect(out).toContain('***Q:VALUE DLG_NUMBER\n**%QEnd: DLG_NUMBER\n');
    expect(out).toContain('***CONFIRM DLG_PROCEED the demo\n');
    expect(out).toContain('***Q:STRING CUSTOMIZATION_COMMAND\n**%QEnd: CUSTOMIZATION_COMMAND\n');
    expect(out).toContain('**%EventStart STAGE customization METHOD dialogs.ask.ask (dialogs.ask.ask)\n');
    expect(out).toContain(
      '**%EventsListEntry STAGE cleanup METHOD otopi.core.transaction.mainCommit (otopi.core.transaction.mainCommit)\n',
    );
    expect(out.endsWith('***L:INFO Stage: Termination\n***TERMINATE\n')).toBe(true);
    // Stray writes went to the log, not to the protocol (the log shown by `log` has them).
    expect(checkTranscript(out).filter((l) => l.kind !== 'block-body' && l.text.includes('stray '))).toEqual([]);
    expect(logOf(dir)).toContain('stdout: stray console.log line');
    expect(logOf(dir)).toContain('stderr: stray console.error line');
    // The secret went nowhere.
    for (const text of [out, logOf(dir), log.join('\n'), readFileSync(result, 'utf8')])
      expect(text).not.toContain(CANARY);
    expect(log.join('\n')).toContain('DIALOG:RECEIVE (hidden)');
    expect(JSON.parse(readFileSync(result, 'utf8'))).toMatchObject({
      name: 'Ada',
      colour: 'Blue',
      lines: ['first line', '***L:ERROR not a log line'],
      number: 7,
      proceed: true,
      items: ['item1', 'second'],
      note: 'changed by the manager',
    });

    // The independent parser classifies every line and checks the ordering rules.
    const lines = checkTranscript(out);
    const kinds = new Set(lines.map((l) => l.kind));
    for (const kind of [
      'q-string',
      'q-multi',
      'q-value',
      'confirm',
      'd-value',
      'd-multi',
      'events-entry',
      'event-start',
      'q-valid',
    ] as const) {
      expect(kinds.has(kind), kind).toBe(true);
    }
    const valid = lines.find((l) => l.kind === 'q-valid');
    expect(splitValidValues(valid!.text.slice('**%QValidValues: '.length))).toEqual(['Red', 'Green', 'Blue']);
  });

  it('answers from QUESTION keys without asking, and aborts on the abort command', async () => {
    const dir = tempDir();
    const s = MachineSession.start(
      dialogArgs(
        'DIALOG/customization=bool:True',
        'QUESTION/1/DLG_NAME=str:Grace',
        'QUESTION/1/DLG_COLOUR=str:red',
        `QUESTION_HIDDEN/1/DLG_PASSWORD=str:${CANARY}`,
        'QUESTION/1/DLG_LINES=multi-str:x',
        'QUESTION/1/DLG_NUMBER=int:3',
        'QUESTION/1/DIALOG_CONFIRM/DLG_PROCEED=str:no',
        'QUESTION/1/CUSTOMIZATION_COMMAND=str:abort',
      ),
      dir,
    );
    await s.command('TERMINATION_COMMAND', 'env-get -k BASE/aborted');
    expect(await s.waitFor((l) => l.startsWith('***D:VALUE'))).toBe('***D:VALUE BASE/aborted=bool:True');
    await s.command('TERMINATION_COMMAND', 'quit');
    const done = await s.finish();
    expect(done.code).toBe(1);
    expect(done.stderr).toBe('');
    expect(done.stdout).toContain('***L:WARNING Aborted: Aborted by user\n');
    expect(done.stdout).not.toContain('***Q:STRING CUSTOMIZATION_COMMAND');
    expect(done.stdout).not.toContain(CANARY);
    expect(logOf(dir)).not.toContain(CANARY);
    checkTranscript(done.stdout);
  });

  it('takes every answer from the environment when given, asking nothing', async () => {
    const dir = tempDir();
    const result = join(dir, 'result.json');
    const s = MachineSession.start(
      dialogArgs(
        `DLGTEST/resultFile=str:${result}`,
        'QUESTION/1/DLG_NAME=str:Grace',
        'QUESTION/1/DLG_COLOUR=str:red',
        `QUESTION/1/DLG_PASSWORD=str:${CANARY}`,
        'QUESTION/1/DLG_LINES=multi-str:x',
        'QUESTION/1/DLG_NUMBER=int:3',
        'QUESTION/1/DIALOG_CONFIRM/DLG_PROCEED=str:no',
      ),
      dir,
    );
    const done = await s.finish();
    expect(done.code).toBe(0);
    expect(done.stdout).not.toMatch(/^\*\*\*(Q:|CONFIRM)/m);
    expect(done.stdout).toContain('### Answer found in the environment: (hidden)\n');
    expect(done.stdout).not.toContain(CANARY);
    expect(JSON.parse(readFileSync(result, 'utf8'))).toMatchObject({
      name: 'Grace',
      colour: 'Red',
      lines: ['x'],
      number: 3,
      proceed: false,
    });
    checkTranscript(done.stdout);
  });
});
