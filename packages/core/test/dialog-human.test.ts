import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Environment, HumanDialect, Redactor, isOtopiError } from '@otopi/core';
import { editLine } from '../src/dialog/line-source.js';

function human(replies: readonly string[]) {
  const env = new Environment();
  const input = new PassThrough();
  input.end(replies.map((r) => `${r}\n`).join(''));
  let out = '';
  const redactor = new Redactor({ secrets: () => env.secrets(), protectedNames: () => env.keys() });
  const dialog = new HumanDialect({ env, redactor, input, output: { write: (t) => (out += t), isTTY: false } });
  return { env, dialog, output: () => out };
}

describe('HumanDialect', () => {
  it('shows the default, takes it on Enter, and asks again after an invalid answer listing the valid values', async () => {
    const { dialog, output, env } = human(['', 'purple', ' blue ']);
    expect(await dialog.queryString({ name: 'N', note: 'Name [@DEFAULT@]: ', default: 'world' })).toBe('world');
    expect(await dialog.queryString({ name: 'C', validValues: ['Red', 'Blue'], caseSensitive: false })).toBe('Blue');
    expect(output()).toBe(
      [
        '          Name [world]: ',
        "          Please specify 'C' (Red, Blue): ",
        "[ ERROR ] Invalid answer: 'purple' is not one of: Red, Blue",
        "          Please specify 'C' (Red, Blue): ",
        '',
      ].join('\n'),
    );
    expect(env.getRaw('QUESTION/1/N')).toBe('world');
  });

  it('never shows a hidden answer, even when it is refused', async () => {
    const { dialog, output, env } = human(['wrong-secret', 'alpha']);
    expect(await dialog.queryString({ name: 'PW', hidden: true, validValues: ['alpha', 'beta'] })).toBe('alpha');
    expect(output()).not.toContain('secret');
    expect(output()).toContain('[ ERROR ] Invalid answer: the answer is not one of: alpha, beta');
    expect(env.secrets()).toEqual(expect.arrayContaining(['wrong-secret', 'alpha']));
  });

  it('reads lines up to a lone dot, typed values until they parse, and yes/no confirmations', async () => {
    const { dialog } = human(['a', 'b', '.', 'seven', 'int:7', 'perhaps', 'YES']);
    expect(await dialog.queryMultiString({ name: 'L' })).toEqual(['a', 'b']);
    expect(await dialog.queryValue({ name: 'V' })).toBe(7);
    expect(await dialog.confirm({ name: 'C', description: 'it' })).toBe(true);
  });

  it('fails at once at end of input without a terminal, naming the key that answers the question', async () => {
    const { dialog } = human([]);
    const error = await dialog.queryString({ name: 'HOST' }).catch((e: unknown) => e);
    expect(isOtopiError(error, 'DIALOG_NO_TERMINAL')).toBe(true);
    expect((error as Error).message).toBe(
      "question 'HOST' needs an answer, but standard input has ended and no terminal is attached",
    );
    expect(isOtopiError(error) && error.hint).toContain('QUESTION/1/HOST=str:<answer>');
    const confirm = await human([])
      .dialog.confirm({ name: 'GPG_KEY', description: 'the key' })
      .catch((e: unknown) => e);
    expect(isOtopiError(confirm) && confirm.hint).toContain('QUESTION/1/DIALOG_CONFIRM/GPG_KEY=str:<answer>');
  });

  it('applies backspace and Ctrl-U to raw-mode input', () => {
    expect(editLine('pass\u007f\u007fss')).toBe('pass');
    expect(editLine('junk\u0015pw\bW')).toBe('pW');
  });

  it('asks a refused answer again under the same key, so only the answer taken is recorded', async () => {
    const { dialog, env, output } = human(['bad host', 'engine.lab']);
    const validate = (a: string): string | undefined => (/\s/.test(a) ? `'${a}' is not a host name` : undefined);
    expect(await dialog.queryString({ name: 'ENGINE', validate })).toBe('engine.lab');
    expect(env.getRaw('QUESTION/1/ENGINE')).toBe('engine.lab');
    expect(env.getRaw('QUESTION/2/ENGINE')).toBeUndefined();
    expect(output()).toContain("'bad host' is not a host name");
  });

  it('a refused answer from a file is an error naming its key', async () => {
    const { dialog, env } = human([]);
    env.setExternal('QUESTION/1/ENGINE', 'bad host', { kind: 'cmdline', where: 'argv[1]' });
    const error = await dialog
      .queryString({ name: 'ENGINE', validate: (a) => (/\s/.test(a) ? 'not a host name' : undefined) })
      .catch((e: unknown) => e);
    expect(isOtopiError(error) && error.message).toContain('QUESTION/1/ENGINE');
  });

  it('takes a pasted block with trailing empty lines, and asks again after a bad paste', async () => {
    const { dialog, env, output } = human(['junk', '.', 'BEGIN', 'END', '', '  ', '.']);
    const validate = (lines: readonly string[]): string | undefined =>
      lines[0] === 'BEGIN' ? undefined : 'it does not start with BEGIN';
    expect(await dialog.queryMultiString({ name: 'CHAIN', validate })).toEqual(['BEGIN', 'END']);
    expect(env.getRaw('QUESTION/1/CHAIN')).toEqual(['BEGIN', 'END']);
    expect(output()).toContain('Invalid answer: it does not start with BEGIN; type the lines again');
  });
});
