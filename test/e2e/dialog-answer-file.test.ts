import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_PLUGINS, ROOT, runCli, tempDir } from './helpers.js';

const CANARY = 'Canary-Answer-Pw-8d2c';

function humanArgs(...extra: string[]): string[] {
  return [
    `BASE/pluginPath=str:${join(ROOT, 'plugins')}:${FIXTURE_PLUGINS}`,
    'APPEND:BASE/pluginGroups=str:dialogs',
    'DLGTEST/items=int:11',
    ...extra,
  ];
}

function logs(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.startsWith('otopi-') && f.endsWith('.log'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

/** Piped answers for the fixture: name (default), colour, password, two lines, a value, a confirmation, 11 items. */
const ANSWERS = [
  '',
  'green',
  CANARY,
  'line one',
  'line two',
  '.',
  'int:7',
  'yes',
  ...Array.from({ length: 11 }, (_, i) => (i % 2 === 0 ? '' : `odd${i + 1}`)),
];

describe('answer files', () => {
  it('repeat a piped human run unattended, numerically sorted, mode 0600, without the hidden answer', () => {
    const dir = tempDir();
    const answers = join(dir, 'answers.conf');
    const first = runCli(
      humanArgs(`DLGTEST/resultFile=str:${join(dir, 'first.json')}`, `DIALOG/answerFile=str:${answers}`),
      {
        dir,
        input: ANSWERS.map((a) => `${a}\n`).join(''),
      },
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`[ INFO  ] Answer file written: ${answers}`);

    const text = readFileSync(answers, 'utf8');
    expect(statSync(answers).mode & 0o777).toBe(0o600);
    expect(text).not.toContain(CANARY);
    expect(text).toContain('#   QUESTION_HIDDEN/1/DLG_PASSWORD=str:<answer>\n');
    const keys = text
      .split('\n')
      .filter((l) => l.startsWith('QUESTION/'))
      .map((l) => l.slice(0, l.indexOf('=')));
    expect(keys.filter((k) => k.endsWith('/DLG_ITEM'))).toEqual(
      Array.from({ length: 11 }, (_, i) => `QUESTION/${i + 1}/DLG_ITEM`),
    );
    // The settings the command line gave are there too (a replay needs them), the answer file's own name not.
    expect(text).toContain('[environment:default]\nDLGTEST/items=int:11\nDLGTEST/resultFile=str:');
    expect(text).not.toContain('DIALOG/answerFile=');
    expect(text).toContain('\nQUESTION/1/DIALOG_CONFIRM/DLG_PROCEED=str:yes\n');
    expect(text).toContain('QUESTION/1/DLG_LINES=multi-str:line one\n line two\n');
    expect(text).toContain('QUESTION/1/DLG_NAME=str:world\n');
    expect(text).toContain('QUESTION/1/DLG_NUMBER=int:7\n');
    expect(text).toContain('QUESTION/10/DLG_ITEM=str:odd10\n');
    expect(text).not.toContain('QUESTION/1/DLG_PASSWORD');

    // The rerun reads no input at all (a question would fail at once), and gets the same result.
    const second = runCli(
      humanArgs(
        `DLGTEST/resultFile=str:${join(dir, 'second.json')}`,
        `QUESTION_HIDDEN/1/DLG_PASSWORD=str:${CANARY}`,
        '--config-append',
        answers,
      ),
      { dir },
    );
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(readFileSync(join(dir, 'second.json'), 'utf8')).toBe(readFileSync(join(dir, 'first.json'), 'utf8'));
    expect(JSON.parse(readFileSync(join(dir, 'second.json'), 'utf8'))).toMatchObject({
      name: 'world',
      colour: 'Green',
      items: ['item1', 'odd2', 'item3', 'odd4', 'item5', 'odd6', 'item7', 'odd8', 'item9', 'odd10', 'item11'],
    });

    for (const output of [first.stdout, second.stdout, logs(dir)]) expect(output).not.toContain(CANARY);
  });

  it('keeps hidden answers only when asked to, as QUESTION_HIDDEN, and never logs them on the rerun', () => {
    const dir = tempDir();
    const answers = join(dir, 'answers.conf');
    const first = runCli(
      humanArgs(
        `DLGTEST/resultFile=str:${join(dir, 'first.json')}`,
        `DIALOG/answerFile=str:${answers}`,
        'DIALOG/answerFileKeepSecrets=bool:True',
      ),
      { dir, input: ANSWERS.map((a) => `${a}\n`).join('') },
    );
    expect(first.code).toBe(0);
    const text = readFileSync(answers, 'utf8');
    expect(text).toContain(`QUESTION_HIDDEN/1/DLG_PASSWORD=str:${CANARY}\n`);
    expect(statSync(answers).mode & 0o777).toBe(0o600);
    const second = runCli(humanArgs(`DLGTEST/resultFile=str:${join(dir, 'second.json')}`, '--config-append', answers), {
      dir,
    });
    expect(second.code).toBe(0);
    expect(readFileSync(join(dir, 'second.json'), 'utf8')).toBe(readFileSync(join(dir, 'first.json'), 'utf8'));
    for (const output of [first.stdout, second.stdout, logs(dir)]) expect(output).not.toContain(CANARY);
  });

  it('names the key to set when a question finds no answer and no terminal', () => {
    const dir = tempDir();
    const r = runCli(humanArgs('QUESTION/1/DLG_NAME=str:Ada', 'QUESTION/1/DLG_COLOUR=str:red'), { dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "question 'DLG_PASSWORD' needs an answer, but standard input has ended and no terminal is attached",
    );
    expect(r.stdout).toContain('Answer it unattended with QUESTION_HIDDEN/1/DLG_PASSWORD=str:<answer>');
  });
});
