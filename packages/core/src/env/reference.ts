/**
 * The environment reference (docs/environment.md, `otopi env-doc`), generated from the
 * declarations so it cannot drift from the code: one part for the runtime's own keys and one
 * per plugin group, each with a table per namespace; and one key on its own (`otopi env-doc KEY`).
 */
import type { EnvFamily, EnvKey, KeySpec } from './declare.js';
import { namespaceOf } from './open-keys.js';

/** The keys one part of the runtime declares: the runtime itself, or a plugin group. */
export interface ReferenceSection {
  /** `runtime`, or the plugin group's name. */
  readonly owner: string;
  /** A sentence under the heading. */
  readonly about: string;
  readonly keys: readonly EnvKey<unknown>[];
  readonly families: readonly EnvFamily<unknown>[];
}

const INTRO = [
  '# Environment reference',
  '',
  'Generated from the key declarations by `otopi env-doc` (`npm run docs:env`), with every plugin group of the',
  'plugin path loaded; do not edit by hand. `otopi env-doc KEY` shows one key.',
  '',
  'Set a key on the command line as `KEY=type:value`, or in a config or answer file under',
  '`[environment:default]` (and the other sections, see docs/dialogs.md). Types: `none`, `bool`, `int`, `str`,',
  '`multi-str`. Keys marked *secret* are redacted from every log, dialog, answer file and error message.',
  '',
  'Keys not listed here are taken as given, typed by their `type:` prefix, as otopi does (answer files of other',
  'tools, keys of newer versions). Only a key in a namespace listed below that matches none of its keys is',
  'warned about as a likely typo, or refused with `--strict-keys` (`BASE/strictKeys=bool:True`).',
  '',
];

export function environmentReference(sections: readonly ReferenceSection[]): string {
  const out = [...INTRO, '| namespace | declared by |', '| --- | --- |'];
  const owners = new Map<string, string[]>();
  for (const s of sections) {
    for (const name of [...s.keys.map((k) => k.key), ...s.families.map((f) => f.prefix)]) {
      const list = owners.get(namespaceOf(name)) ?? [];
      if (!list.includes(s.owner)) list.push(s.owner);
      owners.set(namespaceOf(name), list);
    }
  }
  for (const ns of [...owners.keys()].sort()) out.push(`| \`${ns}/\` | ${owners.get(ns)!.join(', ')} |`);
  out.push('');
  for (const s of sections) {
    if (s.keys.length === 0 && s.families.length === 0) continue;
    out.push(`## ${s.owner === 'runtime' ? 'The runtime' : `Plugin group \`${s.owner}\``}`, '', s.about, '');
    const byNamespace = new Map<string, EnvKey<unknown>[]>();
    for (const k of s.keys) byNamespace.set(namespaceOf(k.key), [...(byNamespace.get(namespaceOf(k.key)) ?? []), k]);
    for (const ns of [...byNamespace.keys()].sort()) {
      out.push(`### ${ns}`, '', '| key | type | default | meaning |', '| --- | --- | --- | --- |');
      for (const k of [...byNamespace.get(ns)!].sort((a, b) => (a.key < b.key ? -1 : 1))) out.push(row(k.key, k));
      out.push('');
    }
    if (s.families.length > 0) {
      out.push('### Key families', '', '| keys | type | default | meaning |', '| --- | --- | --- | --- |');
      for (const f of [...s.families].sort((a, b) => (a.prefix < b.prefix ? -1 : 1))) out.push(row(`${f.prefix}/*`, f));
      out.push('');
    }
  }
  return out.join('\n');
}

/** One key (or family, `PREFIX/*`) as `otopi env-doc KEY` prints it. */
export function keyReference(name: string, spec: KeySpec<unknown>, owner: string): string {
  const choices = optionsOf(spec);
  return [
    name,
    `  declared by: ${owner === 'runtime' ? 'the runtime' : `plugin group ${owner}`}`,
    `  type:        ${typeText(spec)}`,
    `  default:     ${defaultText(spec)}`,
    ...(choices === undefined ? [] : [`  one of:      ${choices.join(', ')}`]),
    ...(spec.sensitive ? ['  secret:      yes (redacted from logs, dialogs, answer files and errors)'] : []),
    '',
    `  ${spec.description}`,
    '',
  ].join('\n');
}

function typeText(spec: KeySpec<unknown>): string {
  if (spec.type === 'none') return 'object (code only)';
  return spec.nullable ? `${spec.type} or none` : spec.type;
}

function optionsOf(spec: KeySpec<unknown>): string[] | undefined {
  const options = (spec.schema as { options?: unknown }).options;
  return Array.isArray(options) ? options.map((o) => String(o)) : undefined;
}

function row(name: string, spec: KeySpec<unknown>): string {
  const options = optionsOf(spec);
  const choices = options === undefined ? '' : ` One of: ${options.map((o) => `\`${o}\``).join(', ')}.`;
  const meaning = `${spec.description}${choices}${spec.sensitive ? ' *Secret.*' : ''}`;
  return `| \`${name}\` | ${typeText(spec)} | ${cell(defaultText(spec))} | ${cell(meaning)} |`;
}

function defaultText(spec: KeySpec<unknown>): string {
  if (spec.defaultDoc !== undefined) return spec.defaultDoc;
  if (typeof spec.default === 'function') return '(computed)';
  const value = spec.default;
  if (value === null) return 'none';
  if (Array.isArray(value)) return value.length === 0 ? '(empty)' : value.join(', ');
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === '') return '(empty)';
  return `\`${String(value)}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
