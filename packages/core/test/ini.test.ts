import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { formatIni, iniSectionItems, parseIni, pyStrip, type IniDocument } from '../src/config/ini.js';
import { failure } from './helpers.js';
import { OtopiError } from '../src/errors.js';

/** section → [key, value][] as RawConfigParser's items() gives it, DEFAULT first. */
type Flat = { ok: true; sections: [string, [string, string][]][] } | { ok: false; error: string };

function flatten(doc: IniDocument): Flat {
  const sections: [string, [string, string][]][] = [['DEFAULT', doc.defaults.map((e) => [e.key, e.value])]];
  for (const { name } of doc.sections) {
    sections.push([name, (iniSectionItems(doc, name) ?? []).map((e) => [e.key, e.value])]);
  }
  return { ok: true, sections };
}

function ours(text: string): Flat {
  try {
    return flatten(parseIni(text, 'input.conf'));
  } catch (error) {
    if (error instanceof OtopiError && error.code === 'CONFIG_SYNTAX') return { ok: false, error: error.message };
    throw error;
  }
}

// Reads each file the way otopi does (RawConfigParser, case-preserving keys, text mode with
// universal newlines), tolerating a byte order mark as our reader does.
const PYTHON = `
import configparser, json, sys
out = []
for path in json.load(sys.stdin):
    cp = configparser.RawConfigParser()
    cp.optionxform = str
    try:
        cp.read(path, encoding='utf-8-sig')
        sections = [['DEFAULT', list(cp.defaults().items())]]
        sections += [[name, list(cp.items(name))] for name in cp.sections()]
        out.append({'ok': True, 'sections': sections})
    except configparser.Error as e:
        out.append({'ok': False, 'error': type(e).__name__})
json.dump(out, sys.stdout)
`;

const workDir = mkdtempSync(join(tmpdir(), 'ini-diff-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function python(texts: readonly string[]): Flat[] {
  const paths = texts.map((text, i) => {
    const path = join(workDir, `case-${i}.conf`);
    writeFileSync(path, text, 'utf8');
    return path;
  });
  const run = spawnSync('python3', ['-c', PYTHON], {
    input: JSON.stringify(paths),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (run.error !== undefined) {
    throw new Error(`the differential ini test needs python3 on PATH: ${run.error.message}`);
  }
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Flat[];
}

/** Compares both parsers on every text; returns how many Python accepted. */
function compare(texts: readonly string[]): number {
  const expected = python(texts);
  texts.forEach((text, i) => {
    const want = expected[i]!;
    const got = ours(text);
    const label = JSON.stringify(text);
    expect(got.ok, `${label}: python ${want.ok ? 'accepts' : `rejects (${want.ok ? '' : want.error})`}`).toBe(want.ok);
    if (got.ok && want.ok) expect(got.sections, label).toEqual(want.sections);
  });
  return expected.filter((result) => result.ok).length;
}

const TRICKY = [
  '',
  '[s]\na=1\n',
  '[s]\na = 1\nb: 2\nc :3\nd=\ne:\n',
  '[s]\nk:v=w\nk2=v:w\nk3 = = x\nk4 : : y\n',
  '[s]\npass=str:p%w;d # not a comment\n%(x)s=%(y)s\nurl=http://x/?a=1;b=2\n',
  '# head\n; head\n[s]\n# c\n  # indented comment\n\t; tab comment\na=1\n',
  '[s]\na=first\n  second\n\tthird\n      fourth\n',
  '[s]\na=\n  one\n  two\n',
  '[s]\na=1\n\n  2\n\n\n  3\n\n\n',
  '[s]\na=1\n  # comment inside value\n  2\n',
  '[s]\na=1\n  ; comment inside value\n\n  2\n',
  '[s]\n  a=1\n    b=2\n  c=3\nd=4\n',
  '[s]\na=1\n b=2\n',
  '[s]\na=1\n[t]\n  b=2\n',
  '[DEFAULT]\nd=0\nx=def\n[s]\nx=own\n[t]\ny=1\n',
  '[s]\na=1\n[DEFAULT]\nd=late\n[DEFAULT]\ne=again\n',
  '[DEFAULT]\nd=1\n[DEFAULT]\nd=2\n',
  '[s]\na=1\n[s]\nb=2\n',
  '[s]\na=1\na=2\n',
  '[s]\nA=1\na=2\n',
  'a=1\n[s]\n',
  '  # c\n\n[s]\n',
  '[s]\njust a line\n',
  '[s]\n=value\n',
  '[s]\n: value\n',
  '[]\n',
  '[s] trailing\na=1\n',
  '[a]b]\nk=v\n',
  '[ spaced ]\nk=v\n',
  '[environment:default]\nQUESTION/1/DIALOG_CONFIRM/GPG_KEY=str:yes\nVDSM_CONFIG/vars/ssl=str:true\n',
  '[environment:default]\nNETWORK/iptablesRules=multi-str:\n  *filter\n  :INPUT ACCEPT [0:0]\n  # comment rule\n  -A INPUT -p tcp --dport 22 -j ACCEPT\n  COMMIT\n',
  '[s]\nümlaut=ßtraße\n日本=語\nemoji=😀 x\n',
  '\uFEFF[s]\na=1\n',
  '[s]\r\na=1\r\n  2\r\nb=3\r\n',
  '[s]\ra=1\r  2\rb=3\r',
  '[s]\na=1\x0bx\x0c\nb=\x1c2\x1f\n',
  '[s]\na=\u00a0nbsp\u00a0\n\u3000c=ideographic\n',
  '[s]\na=\ufeffbom\ufeff\n',
  '[s]\n\ta\t=\tv\t\n',
  '[s]\na=x\\\n  y\n',
  '[s]\na="quoted value"\nb=\'single\'\n',
  '[s]\nkey with spaces = v\n',
  '[s]\n[notheader\n',
  '[s]\na=1\n  [t]\n',
  '[s]\na=1\n\n[t]\n\nb=2\n\n',
  '\n\n[s]\n\n\na=1',
  '[s]\na=1\n\t\n  \n  2\n',
  '[DEFAULT]\n[s]\n',
];

describe('parseIni against Python RawConfigParser', () => {
  it('agrees on hand-picked tricky inputs', () => {
    expect(compare(TRICKY)).toBeGreaterThan(30);
  });

  it('agrees on generated inputs', () => {
    const line = fc.constantFrom(
      '[s]',
      '[t]',
      '[DEFAULT]',
      ' [s]',
      'a=1',
      'a = 2',
      'b: x=y',
      'B:',
      'c=str:p%;#',
      '  cont',
      '\tcont',
      '    deep',
      ' ',
      '',
      '# c',
      '  ; c',
      'junk',
      '=v',
      'ü=ä',
      'k\u00a0= v',
      '[x]y',
    );
    const doc = fc
      .tuple(fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r'), fc.boolean(), fc.nat(3))
      .map(([lines, eol, final, head]) => [...(head > 0 ? ['[s]'] : []), ...lines].join(eol) + (final ? eol : ''));
    // Enough of them must be valid for the values, not just the errors, to be compared.
    expect(compare(fc.sample(doc, { numRuns: 600, seed: 20240611 }))).toBeGreaterThan(150);
  });
});

describe('parseIni', () => {
  it('keeps sections in order with entry lines', () => {
    const doc = parseIni('# c\n[b]\nx=1\n  more\ny=2\n[a]\nz=3\n', 'f.conf');
    expect(doc.sections).toEqual([
      {
        name: 'b',
        line: 2,
        entries: [
          { key: 'x', value: '1\nmore', line: 3 },
          { key: 'y', value: '2', line: 5 },
        ],
      },
      { name: 'a', line: 6, entries: [{ key: 'z', value: '3', line: 7 }] },
    ]);
  });

  it('strips like Python, which is not like trim()', () => {
    expect(pyStrip('\ufeff x \x1c')).toBe('\ufeff x');
  });

  it('reports content before the first header', () => {
    const error = failure(() => parseIni('\nQUESTION/1/X=str:yes\n', 'answers.conf'));
    expect(error.code).toBe('CONFIG_SYNTAX');
    // Only up to the delimiter: the value could be a secret.
    expect(error.message).toBe("'QUESTION/1/X=…' comes before the first [section] header");
    expect(error.location).toBe('answers.conf:2: ');
  });

  it('reports a malformed line', () => {
    const error = failure(() => parseIni('[s]\na=1\nnot a pair\n', 'f.conf'));
    expect(error.code).toBe('CONFIG_SYNTAX');
    expect(error.message).toContain("'not a pair' is neither");
    expect(error.place).toEqual({ file: 'f.conf', line: 3 });
    expect(error.hint).toContain('indent');
  });

  it('reports an empty key', () => {
    const error = failure(() => parseIni('[s]\n = x\n', 'f.conf'));
    expect(error.code).toBe('CONFIG_SYNTAX');
    expect(error.message).toBe("'=…' has no key before the delimiter");
    expect(error.place.line).toBe(2);
  });

  it('reports a duplicate section', () => {
    const error = failure(() => parseIni('[s]\n[t]\n[s]\n', 'f.conf'));
    expect(error.code).toBe('CONFIG_SYNTAX');
    expect(error.message).toBe('section [s] appears twice');
    expect(error.location).toBe('f.conf:3: ');
  });

  it('reports a duplicate key with the key', () => {
    const error = failure(() => parseIni('[environment:default]\nCORE/x=str:1\nCORE/x : str:2\n', 'f.conf'));
    expect(error.code).toBe('CONFIG_SYNTAX');
    expect(error.message).toBe('key CORE/x appears twice in section [environment:default]');
    expect(error.place).toEqual({ file: 'f.conf', line: 3, key: 'CORE/x' });
  });
});

describe('formatIni', () => {
  it('writes key=value with continuation lines and a header', () => {
    const text = formatIni(
      [
        { name: 'DEFAULT', entries: [{ key: 'd', value: '0' }] },
        { name: 'environment:default', entries: [{ key: 'NETWORK/rules', value: 'multi-str:\n*filter\n\nCOMMIT' }] },
      ],
      { header: ['OTOPI answer file', ''] },
    );
    expect(text).toBe(
      '# OTOPI answer file\n#\n\n[DEFAULT]\nd=0\n\n[environment:default]\nNETWORK/rules=multi-str:\n *filter\n\n COMMIT\n',
    );
    const doc = parseIni(text, 'out.conf');
    expect(doc.defaults).toEqual([{ key: 'd', value: '0', line: 5 }]);
    expect(iniSectionItems(doc, 'environment:default')?.map((e) => e.value)).toEqual([
      '0',
      'multi-str:\n*filter\n\nCOMMIT',
    ]);
  });

  it.each([
    ['a key with =', [{ key: 'a=b', value: 'x' }], "key 'a=b'"],
    ['a key with :', [{ key: 'a:b', value: 'x' }], "key 'a:b'"],
    ['a comment-like key', [{ key: '#a', value: 'x' }], "key '#a'"],
    ['a padded key', [{ key: ' a', value: 'x' }], "key ' a'"],
    ['a padded value', [{ key: 'a', value: 'x ' }], 'the value of a'],
    ['a comment-like continuation', [{ key: 'a', value: 'x\n# y' }], 'the value of a'],
    ['a trailing empty line', [{ key: 'a', value: 'x\n' }], 'the value of a'],
    ['a carriage return', [{ key: 'a', value: 'x\ry' }], 'the value of a'],
    [
      'a duplicate key',
      [
        { key: 'a', value: '1' },
        { key: 'a', value: '2' },
      ],
      'key a twice',
    ],
  ])('refuses %s', (_what, entries, message) => {
    const error = failure(() => formatIni([{ name: 's', entries }]));
    expect(error.code).toBe('CONFIG_SYNTAX');
    expect(error.message).toContain(`cannot write ${message}`);
    expect(error.place.key).toBeDefined();
  });

  it('refuses bad section names and duplicate sections', () => {
    expect(failure(() => formatIni([{ name: '', entries: [] }])).message).toContain("section name ''");
    expect(failure(() => formatIni([{ name: 'a\nb', entries: [] }])).code).toBe('CONFIG_SYNTAX');
    expect(
      failure(() =>
        formatIni([
          { name: 's', entries: [] },
          { name: 's', entries: [] },
        ]),
      ).message,
    ).toContain('[s] twice');
  });

  it('round-trips every value parseIni can produce', () => {
    const text = fc.array(
      fc.constantFrom('[s]', '[t]', 'a=1', 'b : x=y ', 'c=', '  more', '   ', '', '# c', '\t%;#', 'ü=ä', '  d'),
      { maxLength: 14 },
    );
    fc.assert(
      fc.property(text, (lines) => {
        let doc: IniDocument;
        try {
          doc = parseIni(lines.join('\n'), 'gen.conf');
        } catch {
          return;
        }
        const sections = doc.sections.map((s) => ({ name: s.name, entries: s.entries }));
        const again = parseIni(formatIni(sections), 'out.conf');
        expect(again.sections.map((s) => [s.name, s.entries.map((e) => [e.key, e.value])])).toEqual(
          sections.map((s) => [s.name, s.entries.map((e) => [e.key, e.value])]),
        );
      }),
      { numRuns: 1000, seed: 7 },
    );
  });
});
