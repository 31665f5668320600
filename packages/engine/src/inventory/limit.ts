/**
 * `--limit`: which hosts of the inventory a run touches, as Ansible's patterns do. Patterns are
 * separated by commas or colons; each is a host name, a group name (`[group NAME]`, `all`), a
 * shell-style glob over host names (`web*`, `h?`), `!PATTERN` to leave hosts out, or `@FILE` to
 * read names, one a line, from a file (a retry file that a failed run wrote). The hosts come
 * back in inventory order. A name or glob that matches nothing is an error, naming it.
 */
import { readFileSync } from 'node:fs';
import { EngineError } from '../errors.js';
import type { Inventory, InventoryHost } from './inventory.js';

function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** The words of a limit: `@FILE` is replaced by the names the file lists. */
function expand(words: readonly string[], inventory: Inventory): string[] {
  const out: string[] = [];
  for (const word of words) {
    for (const part of word.split(/[,:]/).map((p) => p.trim())) {
      if (part === '') continue;
      if (!part.startsWith('@')) {
        out.push(part);
        continue;
      }
      let text: string;
      try {
        text = readFileSync(part.slice(1), 'utf8');
      } catch (error) {
        throw new EngineError('USAGE', `--limit ${part}: cannot read ${part.slice(1)}: ${(error as Error).message}`, {
          file: inventory.file,
          cause: error,
        });
      }
      out.push(
        ...text
          .split('\n')
          .map((l) => l.replace(/#.*/, '').trim())
          .filter((l) => l !== ''),
      );
    }
  }
  return out;
}

/** The host names one pattern selects; empty when it matches nothing. */
function match(pattern: string, inventory: Inventory): string[] {
  const group = inventory.groups[pattern];
  if (group !== undefined) return [...group];
  if (/[*?]/.test(pattern)) {
    const re = globToRegExp(pattern);
    return inventory.hosts.filter((h) => re.test(h.name)).map((h) => h.name);
  }
  return inventory.hosts.some((h) => h.name === pattern) ? [pattern] : [];
}

/**
 * The hosts `--limit` selects, in inventory order. Only exclusions (`!db*`) start from every
 * host. An unmatched pattern is a usage error with the hosts and groups there are.
 */
export function limitHosts(inventory: Inventory, patterns: readonly string[]): InventoryHost[] {
  const words = expand(patterns, inventory);
  const include = words.filter((w) => !w.startsWith('!'));
  const exclude = words.filter((w) => w.startsWith('!')).map((w) => w.slice(1));
  const unmatched: string[] = [];
  const chosen = new Set<string>(include.length === 0 ? inventory.hosts.map((h) => h.name) : []);
  for (const pattern of include) {
    const names = match(pattern, inventory);
    if (names.length === 0) unmatched.push(pattern);
    for (const n of names) chosen.add(n);
  }
  for (const pattern of exclude) {
    const names = match(pattern, inventory);
    if (names.length === 0) unmatched.push(`!${pattern}`);
    for (const n of names) chosen.delete(n);
  }
  if (unmatched.length > 0) {
    const groups = Object.keys(inventory.groups).filter((g) => g !== 'all');
    throw new EngineError('USAGE', `--limit matches no host of the inventory: ${unmatched.join(', ')}`, {
      file: inventory.file,
      hint: `hosts are ${inventory.hosts.map((h) => h.name).join(', ')}; groups are all${groups.map((g) => `, ${g}`).join('')}`,
    });
  }
  if (words.length === 0) throw new EngineError('USAGE', '--limit names no host', { file: inventory.file });
  return inventory.hosts.filter((h) => chosen.has(h.name));
}
