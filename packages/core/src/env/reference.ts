/**
 * The environment reference (docs/environment.md), generated from the declarations so it
 * cannot drift from the code.
 */
import type { EnvFamily, EnvKey } from './declare.js';

export function environmentReference(
  keys: readonly EnvKey<unknown>[],
  families: readonly EnvFamily<unknown>[],
): string {
  const groups = new Map<string, EnvKey<unknown>[]>();
  for (const k of keys) groups.set(k.group, [...(groups.get(k.group) ?? []), k]);
  const out: string[] = [
    '# Environment reference',
    '',
    'Generated from the key declarations by `otopi env-doc` (with every plugin group loaded); do not edit by hand.',
    'Set a key on the command line as `KEY=type:value`, or in a config or answer file under',
    '`[environment:default]` (and the other sections, see README). Types: `none`, `bool`, `int`, `str`, `multi-str`.',
    'Keys marked *secret* are redacted from every log, dialog, answer file and error message.',
    '',
  ];
  for (const group of [...groups.keys()].sort()) {
    out.push(`## ${group}`, '', '| key | type | default | meaning |', '| --- | --- | --- | --- |');
    for (const k of groups.get(group)!) out.push(row(k.key, k));
    out.push('');
  }
  if (families.length > 0) {
    out.push('## Key families', '', '| keys | type | default | meaning |', '| --- | --- | --- | --- |');
    for (const f of families) out.push(row(`${f.prefix}/*`, f));
    out.push('');
  }
  return out.join('\n');
}

function row(name: string, spec: Omit<EnvKey<unknown>, 'key' | 'group'>): string {
  const type =
    spec.nullable && spec.type !== 'none'
      ? `${spec.type} or none`
      : spec.type === 'none'
        ? 'object (code only)'
        : spec.type;
  const options = (spec.schema as { options?: unknown }).options;
  const choices = Array.isArray(options) ? ` One of: ${options.map((o) => `\`${String(o)}\``).join(', ')}.` : '';
  const meaning = `${spec.description}${choices}${spec.sensitive ? ' *Secret.*' : ''}`;
  return `| \`${name}\` | ${type} | ${cell(defaultText(spec))} | ${cell(meaning)} |`;
}

function defaultText(spec: Omit<EnvKey<unknown>, 'key' | 'group'>): string {
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
