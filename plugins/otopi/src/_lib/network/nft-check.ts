/**
 * Whether an nft ruleset still lets SSH in: the base chains a new SSH connection meets
 * (filter prerouting and input hooks of the ip/ip6/inet tables, by priority) are walked as
 * in the iptables check. Anything not modelled makes a rule a "maybe".
 */
import { and, describePacket, inCidr, not, portIn, type Match, type SshPacket } from './packet.js';
import type { SafetyVerdict } from './iptables-rules.js';
import type { NftChain, NftTable } from './nft-rules.js';

export function checkNftSsh(tables: readonly NftTable[], packet: SshPacket): SafetyVerdict {
  const ipv6 = (packet.source ?? '').includes(':');
  const families = ipv6 ? ['ip6', 'inet'] : ['ip', 'inet'];
  const base: { table: NftTable; chain: NftChain }[] = [];
  for (const table of tables) {
    if (!families.includes(table.family)) continue;
    for (const chain of table.chains.values()) {
      if (chain.type === 'filter' && (chain.hook === 'input' || chain.hook === 'prerouting'))
        base.push({ table, chain });
    }
  }
  base.sort((a, b) =>
    a.chain.hook === b.chain.hook ? a.chain.priority - b.chain.priority : a.chain.hook === 'prerouting' ? -1 : 1,
  );
  const doubts: string[] = [];
  const what = describePacket(packet);
  for (const { table, chain } of base) {
    const where = `table ${table.family} ${table.name} chain ${chain.name}`;
    const outcome = walk(table, chain, packet, doubts, 0);
    if (outcome.kind === 'drop')
      return { safe: false, reason: `${where}: '${outcome.rule ?? ''}' drops ${what}`, doubts };
    if (outcome.kind === 'accept') continue;
    if (chain.policy !== 'accept')
      return {
        safe: false,
        reason: `${where}: no rule surely accepts ${what}, and the policy is ${chain.policy}`,
        doubts,
      };
  }
  return { safe: true, reason: `${what} are accepted`, doubts };
}

type Outcome = { kind: 'accept' | 'drop' | 'return' | 'end'; rule?: string };

function walk(table: NftTable, chain: NftChain, packet: SshPacket, doubts: string[], depth: number): Outcome {
  if (depth > 20) return { kind: 'end' };
  for (const words of chain.rules) {
    const { match, verdict, target } = evaluate(words, packet);
    if (match === 'no' || verdict === null) continue;
    const text = words.join(' ');
    let outcome: Outcome;
    if (verdict === 'accept') outcome = { kind: 'accept' };
    else if (verdict === 'drop' || verdict === 'reject') outcome = { kind: 'drop', rule: text };
    else if (verdict === 'return') outcome = { kind: 'return' };
    else if ((verdict === 'jump' || verdict === 'goto') && target !== undefined && table.chains.has(target)) {
      const inner = walk(table, table.chains.get(target)!, packet, doubts, depth + 1);
      outcome =
        inner.kind === 'return' || inner.kind === 'end' ? { kind: verdict === 'goto' ? 'return' : 'end' } : inner;
    } else continue;
    if (outcome.kind === 'end') continue;
    if (match === 'yes') return outcome;
    if (outcome.kind === 'drop') doubts.push(outcome.rule ?? text);
  }
  return { kind: 'end' };
}

const OTHER_PROTOCOLS = new Set(['udp', 'udplite', 'sctp', 'dccp', 'icmp', 'icmpv6', 'ah', 'esp', 'comp', 'igmp']);

function evaluate(words: readonly string[], p: SshPacket): { match: Match; verdict: string | null; target?: string } {
  let match: Match = 'yes';
  let i = 0;
  const next = (): string => words[i++] ?? '';
  /** Reads an optional relational operator and a value; true when negated. */
  const operand = (): { negate: boolean; value: string } => {
    let t = next();
    let negate = false;
    if (t === '!=' || t === 'ne') {
      negate = true;
      t = next();
    } else if (t === '==' || t === 'eq') t = next();
    return { negate, value: t.replace(/^"|"$/g, '') };
  };
  const apply = (m: Match, negate: boolean): void => {
    match = and(match, negate ? not(m) : m);
  };
  const values = (v: string): string[] =>
    v
      .replace(/^\{|\}$/g, '')
      .split(',')
      .map((s) => s.replace(/^"|"$/g, ''))
      .filter(Boolean);
  while (i < words.length) {
    const w = next();
    switch (w) {
      case 'accept':
      case 'drop':
      case 'return':
        return { match, verdict: w };
      case 'reject':
        return { match, verdict: 'reject' };
      case 'jump':
      case 'goto':
        return { match, verdict: w, target: next() };
      case 'continue':
      case 'counter':
        break;
      case 'iif':
      case 'iifname': {
        const { negate, value } = operand();
        apply(
          p.inInterface === undefined || value.startsWith('@')
            ? 'maybe'
            : values(value).some((v) => nameMatches(v, p.inInterface!))
              ? 'yes'
              : 'no',
          negate,
        );
        break;
      }
      case 'meta': {
        const k = next();
        const { negate, value } = operand();
        if (k === 'l4proto') apply(values(value).some((v) => v === 'tcp' || v === '6') ? 'yes' : 'no', negate);
        else if (k === 'iif' || k === 'iifname')
          apply(
            p.inInterface === undefined
              ? 'maybe'
              : values(value).some((v) => nameMatches(v, p.inInterface!))
                ? 'yes'
                : 'no',
            negate,
          );
        else if (k === 'nfproto')
          apply(values(value).includes((p.source ?? '').includes(':') ? 'ipv6' : 'ipv4') ? 'yes' : 'no', negate);
        else apply('maybe', false);
        break;
      }
      case 'ip':
      case 'ip6': {
        const k = next();
        const { negate, value } = operand();
        const family = (p.source ?? '').includes(':') ? 'ip6' : 'ip';
        if (w !== family && p.source !== undefined) apply('no', false);
        else if (k === 'saddr' || k === 'daddr') {
          const addr = k === 'saddr' ? p.source : p.destination;
          apply(
            addr === undefined || value.startsWith('@')
              ? 'maybe'
              : values(value).some((c) => inCidr(addr, c))
                ? 'yes'
                : 'no',
            negate,
          );
        } else if (k === 'protocol' || k === 'nexthdr')
          apply(values(value).some((v) => v === 'tcp' || v === '6') ? 'yes' : 'no', negate);
        else apply('maybe', false);
        break;
      }
      case 'tcp':
      case 'th': {
        const k = next();
        const { negate, value } = operand();
        if (k === 'dport') {
          const hit = value.startsWith('@')
            ? null
            : values(value)
                .map((v) => portIn(p.port, v))
                .reduce<boolean | null>(
                  (a, b) => (a === true || b === true ? true : a === null || b === null ? null : false),
                  false,
                );
          apply(hit === null ? 'maybe' : hit ? 'yes' : 'no', negate);
        } else apply('maybe', false);
        break;
      }
      case 'ct': {
        const k = next();
        const { negate, value } = operand();
        if (k === 'state') apply(values(value).includes('new') ? 'yes' : 'no', negate);
        else apply('maybe', false);
        break;
      }
      case 'log':
      case 'comment':
        // Their arguments (prefix "…", level …) run to the next keyword we know; skipping them is harmless.
        while (
          i < words.length &&
          !['accept', 'drop', 'reject', 'jump', 'goto', 'return', 'counter'].includes(words[i]!)
        )
          i++;
        break;
      default:
        if (OTHER_PROTOCOLS.has(w)) {
          apply('no', false);
          i = words.length;
        } else apply('maybe', false);
    }
  }
  return { match, verdict: null };
}

function nameMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}
