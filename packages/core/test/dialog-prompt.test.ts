import { describe, expect, it } from 'vitest';
import {
  DialogEnv,
  Environment,
  HiddenQuestionAnswers,
  QuestionAnswers,
  compareAnswerKeys,
  formatAnswerFile,
  isOtopiError,
  keysOf,
  parseCommand,
  parseIni,
  splitWords,
} from '@otopi/core';

describe('command lines at the prompt', () => {
  it('splits words as a shell does', () => {
    expect(splitWords(`env-set -k A/b -v "two words" 'and \\ more' x\\ y`)).toEqual([
      'env-set',
      '-k',
      'A/b',
      '-v',
      'two words',
      'and \\ more',
      'x y',
    ]);
    expect(splitWords('  ')).toEqual([]);
    expect(() => splitWords('say "unclosed')).toThrow('no closing "');
  });

  it('reads otopi option syntax in every spelling', () => {
    for (const line of [
      'env-set -k K/x -t int -v 3',
      'env-set -kK/x -tint -v3',
      'env-set --key K/x --type=int --value 3',
    ]) {
      expect(parseCommand(line)).toEqual({
        name: 'env-set',
        options: { key: 'K/x', type: 'int', value: '3' },
        help: false,
        positional: [],
      });
    }
    expect(parseCommand('env-get -h')?.help).toBe(true);
    expect(parseCommand('')).toBeUndefined();
  });

  it('refuses unknown, repeated and value-less options as USAGE errors', () => {
    for (const line of ['env-get -x', 'env-get -k A/b -k A/c', 'env-get -k', 'env-get --nope=1']) {
      let error: unknown;
      try {
        parseCommand(line);
      } catch (e) {
        error = e;
      }
      expect(isOtopiError(error, 'USAGE'), line).toBe(true);
    }
  });
});

describe('answer files', () => {
  it('sorts keys with <n> compared as a number', () => {
    const keys = ['QUESTION/10/A', 'QUESTION/2/A', 'QUESTION/1/B', 'QUESTION/1/A', 'QUESTION/1/DIALOG_CONFIRM/Z'];
    expect([...keys].sort(compareAnswerKeys)).toEqual([
      'QUESTION/1/A',
      'QUESTION/1/B',
      'QUESTION/1/DIALOG_CONFIRM/Z',
      'QUESTION/2/A',
      'QUESTION/10/A',
    ]);
  });

  it('writes the answers as [environment:default], leaving hidden answers out unless asked, and reads back the same', () => {
    const env = new Environment();
    env.declare(keysOf(DialogEnv));
    env.declareFamily(QuestionAnswers);
    env.declareFamily(HiddenQuestionAnswers);
    const src = { kind: 'code' } as const;
    env.setExternal('QUESTION/10/ITEM', 'ten', src);
    env.setExternal('QUESTION/2/ITEM', 'two', src);
    env.setExternal('QUESTION/1/LINES', ['a', '', 'c'], src);
    env.setExternal('QUESTION/1/NUM', 5, src);
    env.setExternal('QUESTION/1/PW', 'pw-secret', src);
    env.set(DialogEnv.hiddenAnswerKeys, ['QUESTION/1/PW']);
    const now = new Date('2026-01-02T03:04:05Z');
    const text = formatAnswerFile(env, { now, command: 'otopi' });
    expect(text).toBe(
      [
        '# otopi answer file, written 2026-01-02T03:04:05.000Z.',
        '# Repeat the run unattended with: otopi --config-append=<this file>',
        '# Hidden answers and secret settings were left out (DIALOG/answerFileKeepSecrets=bool:True keeps them); give them as',
        '#   QUESTION_HIDDEN/1/PW=str:<answer>',
        '',
        '[environment:default]',
        'QUESTION/1/LINES=multi-str:a',
        '',
        ' c',
        'QUESTION/1/NUM=int:5',
        'QUESTION/2/ITEM=str:two',
        'QUESTION/10/ITEM=str:ten',
        '',
      ].join('\n'),
    );
    const read = parseIni(text, 'answers.conf').sections[0]!.entries.map((e) => [e.key, e.value]);
    expect(read).toEqual([
      ['QUESTION/1/LINES', 'multi-str:a\n\nc'],
      ['QUESTION/1/NUM', 'int:5'],
      ['QUESTION/2/ITEM', 'str:two'],
      ['QUESTION/10/ITEM', 'str:ten'],
    ]);
    const kept = formatAnswerFile(env, { now, keepSecrets: true, command: 'otopi' });
    expect(kept).toContain('QUESTION_HIDDEN/1/PW=str:pw-secret\n');
    expect(kept).not.toContain('QUESTION/1/PW');
  });
});
