/**
 * Secret redaction for every text that leaves the process: log file, dialog, events,
 * error messages.
 *
 * Every occurrence of a secret is replaced, also inside longer strings
 * (`--password=s3cret` → `--password=**REDACTED**`). otopi replaced tokens blindly, so a
 * short password `pw` also turned the key name `DEMO/pw` into `DEMO/**FILTERED**`. We keep
 * occurrences that lie wholly inside a known environment key name: such a key name is
 * never a secret, and a secret that merely spells part of one leaks nothing there.
 */

export const REDACTED = '**REDACTED**';

const PRIVATE_KEY_RE = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;

export interface RedactorSource {
  /** Current secrets; called often, so it should be cheap (cache on change). */
  secrets(): readonly string[];
  /** Names that are never secret (environment key names). */
  protectedNames(): readonly string[];
}

export class Redactor {
  constructor(private readonly source: RedactorSource) {}

  redact(text: string): string {
    let out = text.includes('PRIVATE KEY-----')
      ? text.replace(PRIVATE_KEY_RE, `-----${REDACTED} PRIVATE KEY-----`)
      : text;
    const secrets = this.source.secrets();
    if (secrets.length === 0) return out;
    const ranges: [number, number][] = [];
    for (const secret of secrets) {
      if (secret.length === 0) continue;
      for (const variant of variantsOf(secret)) {
        for (let at = out.indexOf(variant); at !== -1; at = out.indexOf(variant, at + 1)) {
          ranges.push([at, at + variant.length]);
        }
      }
    }
    if (ranges.length === 0) return out;
    const shield = protectedSpans(out, this.source.protectedNames());
    const kept = ranges.filter(([s, e]) => !shield.some(([ps, pe]) => ps <= s && e <= pe));
    if (kept.length === 0) return out;
    kept.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let result = '';
    let cursor = 0;
    for (const [start, end] of kept) {
      if (end <= cursor) continue;
      if (start >= cursor) {
        result += out.slice(cursor, start) + REDACTED;
      }
      cursor = Math.max(cursor, end);
    }
    out = result + out.slice(cursor);
    return out;
  }
}

/** A secret as it may appear: raw, JSON-escaped, and with newlines flattened to spaces. */
function variantsOf(secret: string): string[] {
  const out = new Set([secret]);
  const json = JSON.stringify(secret).slice(1, -1);
  out.add(json);
  if (secret.includes('\n')) {
    out.add(secret.replace(/\r?\n/g, ' '));
    for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 4) out.add(line);
  }
  return [...out];
}

function protectedSpans(text: string, names: readonly string[]): [number, number][] {
  const spans: [number, number][] = [];
  for (const name of names) {
    if (name.length === 0) continue;
    for (let at = text.indexOf(name); at !== -1; at = text.indexOf(name, at + 1)) spans.push([at, at + name.length]);
  }
  return spans;
}
