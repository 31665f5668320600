/**
 * A reader for the nft ruleset syntax, enough to find the tables and chains a ruleset
 * declares (block syntax, `define`s, inline sets) for `nft-check.ts` and the loader.
 */

export interface NftChain {
  readonly name: string;
  /** `input`, `prerouting`…; undefined for a regular chain. */
  hook?: string | undefined;
  type?: string | undefined;
  priority: number;
  policy: string;
  readonly rules: string[][];
}

export interface NftTable {
  readonly family: string;
  readonly name: string;
  readonly chains: Map<string, NftChain>;
}

interface Node {
  readonly words: string[];
  readonly block?: Node[];
}

/** Words, with quoted strings kept whole and inline sets `{ 22, 80 }` joined as `{22,80}`. */
function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"|#[^\n]*|\\\n|[{};\n]|[^\s{};"#]+/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const t = m[0];
    if (t.startsWith('#') || t === '\\\n') continue;
    out.push(t);
  }
  return out;
}

const BLOCK_OWNERS = new Set([
  'table',
  'chain',
  'set',
  'map',
  'flowtable',
  'counter',
  'quota',
  'ct',
  'limit',
  'secmark',
  'synproxy',
]);

/** Statements and blocks; `{` opens a block only after a declaration at table level or above. */
function parseNodes(tokens: string[], at: { i: number }, depth: number): Node[] {
  const nodes: Node[] = [];
  let words: string[] = [];
  const flush = (): void => {
    if (words.length > 0) nodes.push({ words });
    words = [];
  };
  while (at.i < tokens.length) {
    const t = tokens[at.i++]!;
    if (t === '\n' || t === ';') flush();
    else if (t === '}') {
      flush();
      return nodes;
    } else if (t === '{') {
      if (depth < 2 && words.length > 0 && BLOCK_OWNERS.has(words[0]!)) {
        const block = parseNodes(tokens, at, depth + 1);
        nodes.push({ words, block });
        words = [];
      } else {
        // An inline set: collect to the matching brace.
        const items: string[] = [];
        let level = 1;
        while (at.i < tokens.length && level > 0) {
          const u = tokens[at.i++]!;
          if (u === '{') level++;
          else if (u === '}') level--;
          if (level > 0 && u !== '\n') items.push(u);
        }
        words.push(
          `{${items
            .join(' ')
            .replace(/\s*,\s*/g, ',')
            .replace(/\s+/g, ',')}}`,
        );
      }
    } else words.push(t);
  }
  flush();
  return nodes;
}

const PRIORITY_NAMES: Readonly<Record<string, number>> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
};

function priorityOf(words: readonly string[]): number {
  // "priority filter + 10", "priority -150"
  const base = words[0] ?? '0';
  let value = PRIORITY_NAMES[base] ?? Number(base.replace(/;$/, ''));
  if ((words[1] === '+' || words[1] === '-') && words[2] !== undefined)
    value += (words[1] === '+' ? 1 : -1) * Number(words[2]);
  return Number.isFinite(value) ? value : 0;
}

export function parseNftRuleset(text: string): NftTable[] {
  const defines = new Map<string, string>();
  const nodes = parseNodes(tokenize(text), { i: 0 }, 0);
  const tables: NftTable[] = [];
  for (const node of nodes) {
    const [kw, ...rest] = node.words;
    if (kw === 'define' && rest[1] === '=') defines.set(rest[0]!, rest.slice(2).join(' '));
    if (kw === 'add' || kw === 'create') {
      if (rest[0] === 'table' && node.block !== undefined) tables.push(readTable(rest.slice(1), node.block, defines));
      continue;
    }
    if (kw !== 'table' || node.block === undefined) continue;
    tables.push(readTable(rest, node.block, defines));
  }
  return tables;
}

function readTable(header: readonly string[], body: readonly Node[], defines: ReadonlyMap<string, string>): NftTable {
  const [family, name] = header.length >= 2 ? [header[0]!, header[1]!] : ['ip', header[0] ?? ''];
  const table: NftTable = { family, name, chains: new Map() };
  for (const node of body) {
    if (node.words[0] !== 'chain' || node.block === undefined) continue;
    const chain: NftChain = { name: node.words[1] ?? '', priority: 0, policy: 'accept', rules: [] };
    for (const stmt of node.block) {
      const w = stmt.words.map((x) =>
        x.replace(/\$([A-Za-z_]\w*)/g, (whole, name: string) => defines.get(name) ?? whole),
      );
      if (w[0] === 'type') {
        chain.type = w[1];
        const hook = w.indexOf('hook');
        if (hook >= 0) chain.hook = w[hook + 1];
        const prio = w.indexOf('priority');
        if (prio >= 0) chain.priority = priorityOf(w.slice(prio + 1));
        const pol = w.indexOf('policy');
        if (pol >= 0) chain.policy = (w[pol + 1] ?? 'accept').replace(/;$/, '');
      } else if (w[0] === 'policy') chain.policy = w[1] ?? 'accept';
      else if (w[0] !== 'comment' && w[0] !== 'devices') chain.rules.push(w);
    }
    table.chains.set(chain.name, chain);
  }
  return table;
}
