/**
 * An ini reader that gives the same result as Python 3's `configparser.RawConfigParser()`
 * with `optionxform = str` and default settings, which is what otopi reads its config and
 * answer files with; and a writer whose output reads back the same.
 *
 * What that means, line by line (a line ends at `\r\n`, `\n` or `\r`):
 * - A line whose stripped text starts with `#` or `;` is a comment, wherever it is: even
 *   indented inside a multi-line value it is skipped, without adding an empty line.
 *   There are no inline comments: `a=x ; y` is `x ; y`.
 * - A blank line inside a value adds an empty line to it; trailing empty lines are
 *   dropped when the value ends.
 * - A line indented deeper than the line that started the current key continues its
 *   value, even after blank lines; `\n` joins the lines, each stripped.
 * - Otherwise `[name]` (up to the last `]` on the line) starts a section, and any other
 *   line is `key = value`, split at its first `=` or `:`; key and value are stripped,
 *   keys keep their case. `%` is not special.
 * - `[DEFAULT]` holds values every section sees; it may appear several times.
 * - Content before the first section header, a line that is neither, an empty key, a
 *   section repeated in one file, or a key repeated in one section is an error.
 *
 * "Strip" and "indent" use Python's idea of whitespace (which differs from JavaScript's
 * `trim()` in a few control and format characters). A leading UTF-8 byte order mark is
 * ignored.
 */
import { OtopiError } from '../errors.js';

/** The section whose values every other section sees. */
export const DEFAULT_SECTION = 'DEFAULT';

/** One `key = value` entry. */
export interface IniEntry {
  readonly key: string;
  /** Value with continuation lines joined by `\n`. */
  readonly value: string;
  /** 1-based line of the key. */
  readonly line: number;
}

export interface IniSection {
  readonly name: string;
  /** 1-based line of the (first) header. */
  readonly line: number;
  /** Entries in the order they first appeared. */
  readonly entries: readonly IniEntry[];
}

export interface IniDocument {
  /** File name used in errors. */
  readonly file: string;
  /** Entries of all `[DEFAULT]` sections. */
  readonly defaults: readonly IniEntry[];
  /** Sections other than `[DEFAULT]`, in file order. */
  readonly sections: readonly IniSection[];
}

/** A section to write; one named `DEFAULT` holds the defaults. */
export interface IniSectionInput {
  readonly name: string;
  readonly entries: readonly { readonly key: string; readonly value: string }[];
}

// Python's str.isspace(), which str.strip() and the `\s` of its regular expressions use.
const PY_SPACE = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const STRIP_RE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');
const NON_SPACE_RE = new RegExp(`[^${PY_SPACE}]`);
const SECTION_RE = /^\[(.+)\]/s;
const OPTION_RE = new RegExp(`^(.*?)[${PY_SPACE}]*[=:][${PY_SPACE}]*(.*)$`, 's');
const LINE_BREAK_RE = /\r\n|\r|\n/;
const COMMENT_PREFIXES = ['#', ';'];

/** Python's `str.strip()`. */
export function pyStrip(text: string): string {
  return text.replace(STRIP_RE, '');
}

interface OpenEntry {
  key: string;
  lines: string[];
  line: number;
}

function syntaxError(message: string, file: string, line: number, hint?: string, key?: string): OtopiError {
  return new OtopiError('CONFIG_SYNTAX', message, {
    file,
    line,
    ...(hint === undefined ? {} : { hint }),
    ...(key === undefined ? {} : { key }),
  });
}

/** A line as an error shows it: up to its first delimiter only, since a value may be a secret. */
function shownLine(stripped: string): string {
  const at = stripped.search(/[=:]/);
  return at < 0 ? `'${stripped}'` : `'${stripped.slice(0, at + 1)}…'`;
}

function closeEntry(entry: OpenEntry): IniEntry {
  const lines = [...entry.lines];
  while (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return { key: entry.key, value: lines.join('\n'), line: entry.line };
}

/**
 * Parses ini text as `RawConfigParser` would.
 *
 * @throws OtopiError `CONFIG_SYNTAX` with `file` and `line` (and `key` for a duplicate).
 */
export function parseIni(text: string, file: string): IniDocument {
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(LINE_BREAK_RE);
  const defaults: OpenEntry[] = [];
  const sections: { name: string; line: number; entries: OpenEntry[] }[] = [];
  let current: OpenEntry[] | undefined;
  let currentName = '';
  let entry: OpenEntry | undefined;
  let indent = 0;

  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const stripped = pyStrip(raw);
    if (COMMENT_PREFIXES.some((prefix) => stripped.startsWith(prefix))) return;
    if (stripped === '') {
      entry?.lines.push('');
      return;
    }
    const level = NON_SPACE_RE.exec(raw)?.index ?? 0;
    if (entry !== undefined && level > indent) {
      entry.lines.push(stripped);
      return;
    }
    indent = level;
    const header = SECTION_RE.exec(stripped);
    if (header !== null) {
      const name = header[1]!;
      entry = undefined;
      if (name === DEFAULT_SECTION) {
        current = defaults;
      } else if (sections.some((s) => s.name === name)) {
        throw syntaxError(`section [${name}] appears twice`, file, lineNo, 'merge the two sections into one');
      } else {
        const section = { name, line: lineNo, entries: [] };
        sections.push(section);
        current = section.entries;
      }
      currentName = name;
      return;
    }
    if (current === undefined) {
      throw syntaxError(
        `${shownLine(stripped)} comes before the first [section] header`,
        file,
        lineNo,
        'start the file with a header such as [environment:default]',
      );
    }
    const option = OPTION_RE.exec(stripped);
    const key = option?.[1];
    const value = option?.[2];
    if (key === undefined || value === undefined) {
      throw syntaxError(
        `'${stripped}' is neither a [section] header nor key=value`,
        file,
        lineNo,
        'indent it to continue the value above, or comment it out with #',
      );
    }
    if (key === '') {
      throw syntaxError(`${shownLine(stripped)} has no key before the delimiter`, file, lineNo);
    }
    if (current.some((e) => e.key === key)) {
      throw syntaxError(`key ${key} appears twice in section [${currentName}]`, file, lineNo, 'keep one of them', key);
    }
    entry = { key, lines: [pyStrip(value)], line: lineNo };
    current.push(entry);
  });

  return {
    file,
    defaults: defaults.map(closeEntry),
    sections: sections.map((s) => ({ name: s.name, line: s.line, entries: s.entries.map(closeEntry) })),
  };
}

/**
 * The entries `RawConfigParser.items(name)` would give: `[DEFAULT]` entries first, then the
 * section's own ones; a section's entry replaces a default of the same key in place.
 * `undefined` when the document has no such section.
 */
export function iniSectionItems(doc: IniDocument, name: string): IniEntry[] | undefined {
  if (name === DEFAULT_SECTION) return [...doc.defaults];
  const section = doc.sections.find((s) => s.name === name);
  if (section === undefined) return undefined;
  const merged = new Map<string, IniEntry>(doc.defaults.map((e) => [e.key, e]));
  for (const entry of section.entries) merged.set(entry.key, entry);
  return [...merged.values()];
}

function unwritable(what: string, hint: string, key?: string): OtopiError {
  return new OtopiError('CONFIG_SYNTAX', `cannot write ${what}: it would not read back the same`, {
    hint,
    ...(key === undefined ? {} : { key }),
  });
}

function checkSection(name: string): void {
  if (name === '' || LINE_BREAK_RE.test(name) || pyStrip(`[${name}]`) !== `[${name}]`) {
    throw unwritable(`section name '${name}'`, 'use a non-empty name on one line');
  }
}

function checkKey(key: string): void {
  if (
    key === '' ||
    pyStrip(key) !== key ||
    /[=:\r\n]/.test(key) ||
    key.startsWith('[') ||
    COMMENT_PREFIXES.some((p) => key.startsWith(p))
  ) {
    throw unwritable(
      `key '${key}'`,
      "a key must not be empty, contain '=', ':' or a line break, or start with '[', '#' or ';'",
      key,
    );
  }
}

function checkValue(key: string, value: string): string[] {
  if (value.includes('\r')) throw unwritable(`the value of ${key}`, 'use \\n for line breaks', key);
  const lines = value.split('\n');
  lines.forEach((line, i) => {
    if (pyStrip(line) !== line) {
      throw unwritable(`the value of ${key}`, 'lines of a value cannot start or end with whitespace', key);
    }
    if (i > 0 && COMMENT_PREFIXES.some((p) => line.startsWith(p))) {
      throw unwritable(
        `the value of ${key}`,
        "continuation lines cannot start with '#' or ';' (they would be comments)",
        key,
      );
    }
  });
  if (lines.length > 1 && lines[lines.length - 1] === '') {
    throw unwritable(`the value of ${key}`, 'a value cannot end with an empty line', key);
  }
  return lines;
}

/**
 * Writes sections as `key=value` lines; a multi-line value continues on lines indented by
 * one space (empty lines stay empty). `header` lines are written first as `#` comments.
 * `parseIni(formatIni(s))` gives the same sections, keys and values.
 *
 * @throws OtopiError `CONFIG_SYNTAX` for a name, key or value that would read back
 * differently (a key with `=`, a continuation line starting with `#`, a duplicate, ...).
 */
export function formatIni(sections: readonly IniSectionInput[], options: { header?: readonly string[] } = {}): string {
  const out: string[] = (options.header ?? []).map((line) => (line === '' ? '#' : `# ${line}`));
  const seen = new Set<string>();
  for (const section of sections) {
    checkSection(section.name);
    if (seen.has(section.name)) {
      throw unwritable(`section [${section.name}] twice`, 'merge the two sections into one');
    }
    seen.add(section.name);
    if (out.length > 0) out.push('');
    out.push(`[${section.name}]`);
    const keys = new Set<string>();
    for (const { key, value } of section.entries) {
      checkKey(key);
      if (keys.has(key)) throw unwritable(`key ${key} twice in [${section.name}]`, 'keep one of them', key);
      keys.add(key);
      const [first, ...rest] = checkValue(key, value);
      out.push(`${key}=${first ?? ''}`, ...rest.map((line) => (line === '' ? '' : ` ${line}`)));
    }
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
