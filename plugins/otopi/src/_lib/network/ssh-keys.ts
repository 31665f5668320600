/**
 * SSH public keys and authorized_keys files. A key is checked for real: its type must be
 * one OpenSSH accepts today and the base64 blob must decode to a key of that type (otopi
 * only matched `ssh-(rsa|dss)` and so refused ed25519 and ECDSA keys). Merging keeps every
 * other line as it was and is idempotent.
 */

const ACCEPTED = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);
/** Types an authorized_keys line may carry (for parsing the file; DSA and certificates included). */
const KNOWN =
  /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|[a-z0-9-]+-cert-v01@openssh\.com)$/;

export interface PublicKey {
  /** `from="10.0.0.1",no-pty`… before the type, as written; '' when none. */
  readonly options: string;
  readonly type: string;
  readonly blob: string;
  readonly comment: string;
}

/** Splits an authorized_keys line; null for blank lines, comments and lines that are not keys. */
export function parseKeyLine(line: string): PublicKey | null {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return null;
  let rest = text;
  let options = '';
  const first = rest.split(/\s+/, 1)[0] ?? '';
  if (!KNOWN.test(first)) {
    // Options run to the first whitespace outside double quotes.
    let i = 0;
    let quoted = false;
    for (; i < rest.length; i++) {
      const c = rest[i];
      if (c === '\\' && quoted) i++;
      else if (c === '"') quoted = !quoted;
      else if (!quoted && (c === ' ' || c === '\t')) break;
    }
    options = rest.slice(0, i);
    rest = rest.slice(i).trim();
  }
  const m = /^(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(rest);
  if (m === null || !KNOWN.test(m[1]!)) return null;
  return { options, type: m[1]!, blob: m[2]!, comment: (m[3] ?? '').trim() };
}

export function formatKeyLine(key: PublicKey): string {
  return [key.options, key.type, key.blob, key.comment].filter((part) => part !== '').join(' ');
}

/** Checks a key given by the user; returns it, or throws an Error saying what is wrong. */
export function validatePublicKey(text: string): PublicKey {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length !== 1) throw new Error(`expected one key line, got ${lines.length}`);
  const key = parseKeyLine(lines[0]!);
  if (key === null) throw new Error('not a public key line (<type> <base64> [comment])');
  if (key.options !== '') throw new Error('give the key without authorized_keys options');
  if (key.type === 'ssh-dss')
    throw new Error('DSA keys are not accepted by current OpenSSH; use ed25519, ECDSA or RSA');
  if (!ACCEPTED.has(key.type)) throw new Error(`key type ${key.type} is not supported`);
  const blob = Buffer.from(key.blob, 'base64');
  if (blob.toString('base64').replace(/=+$/, '') !== key.blob.replace(/=+$/, ''))
    throw new Error('the key is not valid base64');
  const fields = sshStrings(blob, 3);
  if (fields[0]?.toString('latin1') !== key.type) throw new Error(`the key data is not a ${key.type} key`);
  if (key.type === 'ssh-rsa') {
    const modulus = fields[2];
    const bits = modulus === undefined ? 0 : rsaBits(modulus);
    if (bits < 1024) throw new Error(`the RSA key has ${bits} bits; OpenSSH refuses fewer than 1024`);
  }
  return key;
}

/** The first `count` length-prefixed strings of an SSH wire blob. */
function sshStrings(blob: Buffer, count: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (out.length < count && at + 4 <= blob.length) {
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) break;
    out.push(blob.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

function rsaBits(modulus: Buffer): number {
  let i = 0;
  while (i < modulus.length && modulus[i] === 0) i++;
  if (i === modulus.length) return 0;
  return (modulus.length - i - 1) * 8 + (32 - Math.clz32(modulus[i]!));
}

export type MergeAction = 'added' | 'replaced' | 'unchanged';

/**
 * Puts `key` into an authorized_keys text: unchanged if the same line is there; the same
 * key with another comment gets ours (its options are kept); duplicates of the key go;
 * else the key is appended. Every other line stays as it was.
 */
export function mergeAuthorizedKey(text: string, key: PublicKey): { text: string; action: MergeAction } {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let action: MergeAction | undefined;
  for (const line of lines) {
    const parsed = parseKeyLine(line);
    if (parsed === null || parsed.type !== key.type || parsed.blob !== key.blob) {
      out.push(line);
      continue;
    }
    if (action !== undefined) {
      action = 'replaced'; // a duplicate of a line already kept
      continue;
    }
    const wanted = formatKeyLine({ ...key, options: parsed.options });
    action = wanted === line.trim() ? 'unchanged' : 'replaced';
    out.push(wanted);
  }
  if (action === undefined) {
    out.push(formatKeyLine(key));
    action = 'added';
  }
  return { text: `${out.join('\n')}\n`, action };
}
