/**
 * iptables-restore input: parsing, and the check that a ruleset still lets SSH in. The
 * check walks the chains a new SSH connection traverses (raw and mangle PREROUTING, mangle
 * and filter INPUT, following jumps), evaluating each rule as matching, not matching, or
 * "maybe" when it depends on something unknown (an interface, a set). A maybe-accept does
 * not count as accepting, and a surely matching DROP or REJECT, or a DROP policy reached
 * without a sure ACCEPT, makes the ruleset unsafe.
 */
import { and, describePacket, inCidr, not, portIn, type Match, type SshPacket } from './packet.js';

export interface IptablesTable {
  readonly name: string;
  /** Chain → policy (`ACCEPT`, `DROP`) for built-in chains, `-` for user chains. */
  readonly policies: Map<string, string>;
  readonly rules: Map<string, string[][]>;
}

export class RulesSyntaxError extends Error {}

/** Splits a line into words, honouring double quotes (`--comment "allow ssh"`). */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line))
    words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return words;
}

export function parseIptablesRestore(text: string): Map<string, IptablesTable> {
  const tables = new Map<string, IptablesTable>();
  let table: IptablesTable | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    const where = `line ${index + 1}`;
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('*')) {
      table = { name: line.slice(1), policies: new Map(), rules: new Map() };
      tables.set(table.name, table);
      return;
    }
    if (table === undefined) throw new RulesSyntaxError(`${where}: '${line}' comes before any *table line`);
    if (line === 'COMMIT') {
      table = undefined;
      return;
    }
    if (line.startsWith(':')) {
      const [chain, policy] = line.slice(1).split(/\s+/);
      table.policies.set(chain!, policy ?? '-');
      if (!table.rules.has(chain!)) table.rules.set(chain!, []);
      return;
    }
    const words = splitWords(line);
    const op = words[0];
    if (op === '-A' || op === '--append' || op === '-I' || op === '--insert') {
      const chain = words[1];
      if (chain === undefined) throw new RulesSyntaxError(`${where}: ${op} without a chain`);
      const list = table.rules.get(chain) ?? [];
      table.rules.set(chain, list);
      let rest = words.slice(2);
      if (op === '-A' || op === '--append') list.push(rest);
      else {
        const at = /^\d+$/.test(rest[0] ?? '') ? Number(rest[0]) - 1 : 0;
        if (/^\d+$/.test(rest[0] ?? '')) rest = rest.slice(1);
        list.splice(at, 0, rest);
      }
      return;
    }
    if (op === '-N' || op === '--new-chain') {
      if (words[1] !== undefined && !table.rules.has(words[1])) table.rules.set(words[1], []);
      return;
    }
    if (op === '-P' || op === '--policy') {
      if (words[1] !== undefined && words[2] !== undefined) table.policies.set(words[1], words[2]);
      return;
    }
    throw new RulesSyntaxError(`${where}: cannot read '${line}'`);
  });
  if (table !== undefined) throw new RulesSyntaxError(`table *${table.name} has no COMMIT`);
  return tables;
}

export interface SafetyVerdict {
  readonly safe: boolean;
  /** Why: the rule or policy that decides. */
  readonly reason: string;
  /** Rules that may drop the connection depending on what is not known. */
  readonly doubts: readonly string[];
}

type Outcome = { kind: 'accept' | 'drop' | 'return' | 'end'; rule?: string };

/** Where a new connection goes, in order; only tables the ruleset contains are checked. */
const PATH: readonly [string, string][] = [
  ['raw', 'PREROUTING'],
  ['mangle', 'PREROUTING'],
  ['mangle', 'INPUT'],
  ['filter', 'INPUT'],
  ['security', 'INPUT'],
];

export function checkIptablesSsh(tables: Map<string, IptablesTable>, packet: SshPacket): SafetyVerdict {
  const doubts: string[] = [];
  const what = describePacket(packet);
  for (const [tableName, chain] of PATH) {
    const table = tables.get(tableName);
    if (table === undefined || !table.policies.has(chain)) continue;
    const outcome = walk(table, chain, packet, doubts, 0);
    if (outcome.kind === 'drop')
      return { safe: false, reason: `${tableName} ${chain}: '${outcome.rule ?? ''}' drops ${what}`, doubts };
    if (outcome.kind === 'accept') continue;
    const policy = table.policies.get(chain) ?? 'ACCEPT';
    if (policy !== 'ACCEPT') {
      return {
        safe: false,
        reason: `${tableName} ${chain}: no rule surely accepts ${what}, and the policy is ${policy}`,
        doubts,
      };
    }
  }
  return { safe: true, reason: `${what} are accepted`, doubts };
}

function walk(table: IptablesTable, chain: string, packet: SshPacket, doubts: string[], depth: number): Outcome {
  if (depth > 20) return { kind: 'end' };
  for (const words of table.rules.get(chain) ?? []) {
    const text = `-A ${chain} ${words.join(' ')}`;
    const { match, target } = evaluateRule(words, packet);
    if (match === 'no' || target === null) continue;
    let outcome: Outcome;
    if (target === 'ACCEPT') outcome = { kind: 'accept' };
    else if (target === 'DROP' || target === 'REJECT') outcome = { kind: 'drop', rule: text };
    else if (target === 'RETURN') outcome = { kind: 'return' };
    else if (table.rules.has(target)) {
      const inner = walk(table, target, packet, doubts, depth + 1);
      outcome = inner.kind === 'return' ? { kind: 'end' } : inner;
    } else continue; // LOG, MARK and other targets that let the packet go on
    if (outcome.kind === 'end') continue;
    if (match === 'yes') return outcome;
    if (outcome.kind === 'drop') doubts.push(outcome.rule ?? text);
  }
  return { kind: 'end' };
}

/** Options whose value is a word to skip; anything unknown makes the rule a "maybe". */
const NEUTRAL = new Set(['-m', '--match', '--comment', '-c', '--set-counters']);

function evaluateRule(words: readonly string[], p: SshPacket): { match: Match; target: string | null } {
  let match: Match = 'yes';
  let target: string | null = null;
  for (let i = 0; i < words.length; i++) {
    let negate = false;
    let opt = words[i]!;
    if (opt === '!') {
      negate = true;
      opt = words[++i] ?? '';
    }
    const value = words[i + 1] ?? '';
    const takes = (m: Match): void => {
      match = and(match, negate ? not(m) : m);
      i++;
    };
    switch (opt) {
      case '-j':
      case '--jump':
      case '-g':
      case '--goto':
        target = value;
        // Whatever follows are the target's own options (--reject-with, --log-prefix).
        return { match, target };
      case '-p':
      case '--protocol':
        takes(['tcp', '6', 'all', '0'].includes(value.toLowerCase()) ? 'yes' : 'no');
        break;
      case '-s':
      case '--source':
      case '--src':
        takes(p.source === undefined ? 'maybe' : value.split(',').some((c) => inCidr(p.source!, c)) ? 'yes' : 'no');
        break;
      case '-d':
      case '--destination':
      case '--dst':
        takes(
          p.destination === undefined
            ? 'maybe'
            : value.split(',').some((c) => inCidr(p.destination!, c))
              ? 'yes'
              : 'no',
        );
        break;
      case '-i':
      case '--in-interface':
        takes(p.inInterface === undefined ? 'maybe' : interfaceMatches(value, p.inInterface) ? 'yes' : 'no');
        break;
      case '--dport':
      case '--destination-port':
      case '--dports':
      case '--destination-ports':
      case '--ports': {
        const hit = portIn(p.port, value);
        takes(hit === null ? 'maybe' : hit ? 'yes' : opt === '--ports' ? 'maybe' : 'no');
        break;
      }
      case '--state':
      case '--ctstate':
        takes(value.toUpperCase().split(',').includes('NEW') ? 'yes' : 'no');
        break;
      case '--syn':
        match = and(match, negate ? 'no' : 'yes');
        break;
      default:
        if (NEUTRAL.has(opt)) {
          i++;
          if (opt === '-c' || opt === '--set-counters') i++;
        } else if (opt.startsWith('-')) {
          // An option we do not model (--sport, -m recent, --tcp-flags…): skip its values.
          while (words[i + 1] !== undefined && !words[i + 1]!.startsWith('-') && words[i + 1] !== '!') i++;
          match = and(match, 'maybe');
        }
    }
  }
  return { match, target };
}

function interfaceMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}
