/**
 * Fuzzing the INI reader and writer (packages/core/src/config/ini.ts) that reads config and
 * answer files, and the inventory of `otopi deploy`.
 *
 * - Any text gives a document or CONFIG_SYNTAX naming the file and a line of the text; never
 *   another exception.
 * - The same texts, read by Python's RawConfigParser (what otopi reads them with), give the
 *   same sections, keys and values, or an error in both (python3 is needed, as for the lab).
 * - Generated documents read back the same after formatIni; a document read from any text
 *   is written back the same, or refused with CONFIG_SYNTAX.
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { formatIni, isOtopiError, parseIni, type IniDocument, type IniSectionInput } from '@otopi/core';
import { fuzzTimeout } from './support/figures.js';
import { fuzzSync, reportFuzz, text, type PropertyResult } from './support/fuzz.js';

const ws = fc.constantFrom('', '', ' ', '  ', '\t', '\u00a0', '\u3000', '\f', '\v', '\u001c');
const keyish = fc.oneof(fc.constantFrom('a', 'B', 'QUESTION/1/X', 'k k', 'ü', 'DEMO/x'), text(8));
const line = fc.oneof(
  fc.tuple(ws, text(10)).map(([w, name]) => `${w}[${name}]`),
  fc.constantFrom('[DEFAULT]', '[s]', '[t]', '[environment:default]'),
  fc
    .tuple(ws, keyish, fc.constantFrom('=', ':', ' = ', ' : ', '=='), text(20))
    .map(([w, k, d, v]) => `${w}${k}${d}${v}`),
  fc.tuple(ws, fc.constantFrom('#', ';'), text(10)).map(([w, c, t]) => `${w}${c}${t}`),
  fc.tuple(fc.constantFrom(' ', '  ', '\t', '    '), text(20)).map(([w, t]) => `${w}${t}`),
  ws,
  text(30),
);
const iniText = fc
  .tuple(fc.array(line, { maxLength: 14 }), fc.constantFrom('\n', '\r\n', '\r'), fc.boolean(), fc.boolean())
  .map(([lines, eol, final, header]) => (header ? ['[s]', ...lines] : lines).join(eol) + (final ? eol : ''));

interface Flat {
  readonly ok: boolean;
  readonly defaults?: [string, string][];
  readonly sections?: [string, [string, string][]][];
}

function flat(doc: IniDocument): Flat {
  return {
    ok: true,
    defaults: doc.defaults.map((e) => [e.key, e.value]),
    sections: doc.sections.map((s) => [s.name, s.entries.map((e) => [e.key, e.value])]),
  };
}

// The texts read as otopi reads a file: text mode with universal newlines, keys case-kept,
// a byte order mark tolerated (our reader ignores one).
const PYTHON = `
import configparser, io, json, sys
out = []
for text in json.load(sys.stdin):
    if text.startswith('\\ufeff'):
        text = text[1:]
    cp = configparser.RawConfigParser()
    cp.optionxform = str
    try:
        cp.read_file(io.StringIO(text, newline=None), 'input.conf')
        out.append({'ok': True, 'defaults': list(cp._defaults.items()),
                    'sections': [[name, list(cp._sections[name].items())] for name in cp.sections()]})
    except configparser.Error as e:
        out.append({'ok': False})
json.dump(out, sys.stdout)
`;

function python(texts: readonly string[]): Flat[] {
  const run = spawnSync('python3', ['-c', PYTHON], {
    input: JSON.stringify(texts),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (run.error !== undefined) throw new Error(`the differential INI fuzz needs python3 on PATH: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Flat[];
}

function asInput(doc: IniDocument): IniSectionInput[] {
  return [
    ...(doc.defaults.length > 0 ? [{ name: 'DEFAULT', entries: doc.defaults }] : []),
    ...doc.sections.map((s) => ({ name: s.name, entries: s.entries })),
  ];
}

const name = text(10).filter((s) => s.length > 0);
const value = fc.array(text(15), { maxLength: 4 }).map((lines) => lines.join('\n'));
const sections = fc.uniqueArray(
  fc.record({
    name,
    entries: fc.uniqueArray(fc.record({ key: name, value }), { selector: (e) => e.key, maxLength: 5 }),
  }),
  { selector: (s) => s.name, maxLength: 4 },
);

it('the INI reader: coded errors, Python parity, round trips', { timeout: fuzzTimeout(4, 1) }, () => {
  const seen: { text: string; got: Flat }[] = [];
  const results: PropertyResult[] = [
    fuzzSync('any text gives a document or CONFIG_SYNTAX with file and line', iniText, (input) => {
      let got: Flat;
      try {
        got = flat(parseIni(input, 'input.conf'));
      } catch (error) {
        if (!isOtopiError(error, 'CONFIG_SYNTAX'))
          throw new Error(`not CONFIG_SYNTAX: ${String(error)}`, { cause: error });
        const lines = input.split(/\r\n|\r|\n/).length;
        const at = error.place.line;
        if (error.place.file !== 'input.conf' || at === undefined || at < 1 || at > lines) {
          throw new Error(`error names ${error.place.file}:${at} (text has ${lines} lines)`, { cause: error });
        }
        got = { ok: false };
      }
      seen.push({ text: input, got });
    }),
  ];

  // Python reads the same texts in one process.
  const expected = python(seen.map((s) => s.text));
  const examples: string[] = [];
  let failures = 0;
  seen.forEach(({ text: input, got }, i) => {
    const want = expected[i]!;
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      failures++;
      if (examples.length < 5)
        examples.push(`${JSON.stringify(input)} → ours ${JSON.stringify(got)}, python ${JSON.stringify(want)}`);
    }
  });
  const accepted = expected.filter((e) => e.ok).length;
  results.push({
    name: `agrees with Python RawConfigParser (${accepted} texts valid)`,
    cases: seen.length,
    failures,
    examples,
  });
  // Enough valid texts that values, not just errors, are compared.
  expect(accepted).toBeGreaterThan(seen.length / 10);

  results.push(
    fuzzSync('generated documents read back the same', sections, (input) => {
      let written: string;
      try {
        written = formatIni(input);
      } catch (error) {
        if (!isOtopiError(error, 'CONFIG_SYNTAX'))
          throw new Error(`not CONFIG_SYNTAX: ${String(error)}`, { cause: error });
        return;
      }
      const doc = parseIni(written, 'written.conf');
      const back = asInput(doc);
      const want = input.filter((s) => s.name !== 'DEFAULT' || s.entries.length > 0);
      const norm = (list: readonly IniSectionInput[]): string =>
        JSON.stringify(list.map((s) => [s.name, s.entries.map((e) => [e.key, e.value])]));
      // DEFAULT comes first when read back, wherever it was written.
      const sorted = [...want].sort((a, b) => Number(b.name === 'DEFAULT') - Number(a.name === 'DEFAULT'));
      if (norm(back) !== norm(sorted)) throw new Error(`wrote ${JSON.stringify(written)}, read ${norm(back)}`);
    }),
    fuzzSync('a document read from any text is written back the same, or refused with a code', iniText, (input) => {
      let doc: IniDocument;
      try {
        doc = parseIni(input, 'input.conf');
      } catch {
        return;
      }
      let written: string;
      try {
        written = formatIni(asInput(doc));
      } catch (error) {
        if (!isOtopiError(error, 'CONFIG_SYNTAX'))
          throw new Error(`not CONFIG_SYNTAX: ${String(error)}`, { cause: error });
        return;
      }
      const back = flat(parseIni(written, 'written.conf'));
      if (JSON.stringify(back) !== JSON.stringify(flat(doc)))
        throw new Error(`wrote ${JSON.stringify(written)}, read ${JSON.stringify(back)}`);
    }),
  );
  expect(reportFuzz('ini', results)).toEqual([]);
});
