import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ABORT_BOUNDARY, BOUNDARY, dialogArgs } from './dialog-harness.js';
import { FIXTURE_PLUGINS, ROOT, runCli, tempDir } from './helpers.js';
import { checkTranscript } from './machine-protocol.js';

const UP_TO_LINES = ['Ada', 'red', 'pw-1234'];
const UP_TO_VALUE = [...UP_TO_LINES, 'a line', BOUNDARY];
const UP_TO_CONFIRM = [...UP_TO_VALUE, 'VALUE DLG_NUMBER=int:7'];

function machineRun(replies: readonly string[], ...extra: string[]) {
  const r = runCli(dialogArgs(...extra), { dir: tempDir(), input: replies.map((l) => `${l}\n`).join('') });
  // Whatever went wrong, the output stays a well-formed transcript and stderr stays empty.
  checkTranscript(r.stdout);
  expect(r.stderr).toBe('');
  return r;
}

describe('machine dialect: bad replies end the run cleanly', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'a VALUE reply for another name',
      [...UP_TO_VALUE, 'VALUE DLG_NUMBR=int:7'],
      /^\*\*\*L:ERROR .*unexpected reply 'VALUE DLG_NUMBR=int:7': expected VALUE DLG_NUMBER=type:value or ABORT DLG_NUMBER/m,
    ],
    [
      'a VALUE reply with an unknown type',
      [...UP_TO_VALUE, 'VALUE DLG_NUMBER=float:7'],
      /^\*\*\*L:ERROR .*bad value in reply to 'DLG_NUMBER': unknown type 'float'/m,
    ],
    [
      'a VALUE reply that does not parse',
      [...UP_TO_VALUE, 'VALUE DLG_NUMBER=int:seven'],
      /^\*\*\*L:ERROR .*bad value in reply to 'DLG_NUMBER': 'seven' is not an integer/m,
    ],
    [
      'an unknown opcode',
      [...UP_TO_VALUE, 'SET DLG_NUMBER=int:7'],
      /^\*\*\*L:ERROR .*unexpected reply 'SET DLG_NUMBER=int:7'/m,
    ],
    [
      'ABORT naming another question',
      [...UP_TO_VALUE, 'ABORT SOMETHING_ELSE'],
      /^\*\*\*L:ERROR .*unexpected reply 'ABORT SOMETHING_ELSE'/m,
    ],
    [
      'a garbage line for a confirmation',
      [...UP_TO_CONFIRM, 'hello there'],
      /^\*\*\*L:ERROR .*unexpected reply 'hello there': expected CONFIRM DLG_PROCEED=yes/m,
    ],
    [
      'a confirmation that is neither yes nor no',
      [...UP_TO_CONFIRM, 'CONFIRM DLG_PROCEED=maybe'],
      /^\*\*\*L:ERROR .*unexpected reply 'CONFIRM DLG_PROCEED=maybe'/m,
    ],
    [
      'a string that is not a valid value',
      ['Ada', 'purple'],
      /^\*\*\*L:ERROR .*invalid answer to 'DLG_COLOUR': 'purple' is not one of: Red, Green, Blue/m,
    ],
    [
      'end of input in the middle of a multi-string',
      [...UP_TO_LINES, 'half'],
      /^\*\*\*L:ERROR .*end of input while waiting for the reply to 'DLG_LINES'/m,
    ],
    [
      'end of input before the first reply',
      [],
      /^\*\*\*L:ERROR .*end of input while waiting for the reply to 'DLG_NAME'/m,
    ],
  ];
  it.each(cases)('%s', (_what, replies, error) => {
    const r = machineRun(replies);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(error);
    expect(r.stdout).not.toContain('pw-1234');
    expect(r.stdout.endsWith('***TERMINATE\n')).toBe(true);
  });

  it('aborts on the abort boundary and on ABORT', () => {
    for (const replies of [
      [...UP_TO_LINES, 'x', ABORT_BOUNDARY],
      [...UP_TO_VALUE, 'ABORT DLG_NUMBER'],
      [...UP_TO_CONFIRM, 'ABORT DLG_PROCEED'],
    ]) {
      const r = machineRun(replies);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^\*\*\*L:WARNING Aborted: Aborted by the manager at 'DLG_(LINES|NUMBER|PROCEED)'$/m);
    }
  });

  it('keeps bad commands at the prompt from ending the run', () => {
    const r = machineRun(
      [
        'env-set -k',
        'env-set -k NO/SUCHKEY -v x',
        'env-set -k DLGTEST/sikp -v x',
        "env-get -k 'unclosed",
        'env-get -k DLGTEST/note extra',
        'install',
        'quit',
      ],
      'DIALOG/customization=bool:True',
      'DLGTEST/skip=bool:True',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('***L:ERROR Syntax error: option -k needs a value\n');
    // Any key is taken (otopi's open environment); a likely typo of a declared one is warned about.
    expect(r.stdout).not.toContain('NO/SUCHKEY');
    expect(r.stdout).toContain(
      "***L:WARNING Unknown environment key 'DLGTEST/sikp' (from dialog env-set): no loaded group declares this DLGTEST/ key; did you mean DLGTEST/skip?",
    );
    expect(r.stdout).toContain("***L:ERROR Syntax error: no closing '\n");
    expect(r.stdout).toContain("***L:ERROR Syntax error: 'env-get' takes no argument 'extra'\n");
  });
});

describe('machine dialect: errors outside the protocol', () => {
  it('reports an uncaught error as ***L:ERROR and ***TERMINATE, with nothing on stderr', () => {
    const r = machineRun([], 'DLGTEST/crash=bool:True');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('***L:ERROR Internal error: crash from a timer\n***TERMINATE\n');
  });

  it('reports a bad statement and a plugin that does not load as ***L:ERROR, with nothing on stderr', () => {
    const bad = machineRun([], 'DLGTEST/items=int:many');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe(
      "***L:ERROR argv[3]: 'many' is not an integer for DLGTEST/items\n### use decimal digits with an optional sign, at most 9007199254740991 in size\n***TERMINATE\n",
    );
    const args = [
      `BASE/pluginPath=str:${join(ROOT, 'plugins')}:${FIXTURE_PLUGINS}`,
      'APPEND:BASE/pluginGroups=str:broken',
      'DIALOG/dialect=str:machine',
    ];
    const broken = runCli(args);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toBe('');
    expect(broken.stdout).toMatch(
      /^\*\*\*L:ERROR .*cannot load plugin module .*broken\/bad\.mjs.*\n\*\*\*TERMINATE\n$/,
    );
    checkTranscript(broken.stdout);
    const unparsable = runCli(['DIALOG/dialect=str:machine', 'not-a-statement']);
    expect(unparsable.code).toBe(1);
    expect(unparsable.stderr).toBe('');
    expect(unparsable.stdout).toMatch(
      /^\*\*\*L:ERROR argv\[1\]: not a KEY=type:value statement \(after 'DIALOG\/dialect=…'\)\n/,
    );
    checkTranscript(unparsable.stdout);
  });
});
