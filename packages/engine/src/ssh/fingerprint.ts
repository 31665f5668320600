/**
 * Host keys as SSH sends them (the public key blob) and their fingerprints in the format
 * `ssh-keygen -lf` prints: `SHA256:` and the unpadded base64 of the blob's SHA-256.
 */
import { createHash } from 'node:crypto';
import { EngineError } from '../errors.js';

/** A public key: its type (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`...) and blob. */
export interface HostKey {
  readonly type: string;
  /** The key in SSH wire format, as in the second field of a `.pub` or known_hosts line. */
  readonly blob: Buffer;
}

/** `SHA256:<base64 without padding>` of a key blob. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type recorded at the start of a blob (an SSH string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) throw new EngineError('HOSTKEY_BAD_FINGERPRINT', 'a host key blob is too short');
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > blob.length) {
    throw new EngineError('HOSTKEY_BAD_FINGERPRINT', 'a host key blob does not start with its type');
  }
  return blob.subarray(4, 4 + length).toString('latin1');
}

export function hostKeyFromBlob(blob: Buffer): HostKey {
  return { type: keyTypeOf(blob), blob };
}

/** `MD5:xx:xx:...` of a key blob: the legacy form (`ssh-keygen -E md5 -lf`) the oVirt engine stores. */
export function md5FingerprintOf(blob: Buffer): string {
  const hex = createHash('md5').update(blob).digest('hex');
  return `MD5:${hex.replace(/(..)(?!$)/g, '$1:')}`;
}

const SHA256_PIN = /^SHA256:([A-Za-z0-9+/]{43})=?$/;
const MD5_PIN = /^(?:MD5:)?((?:[0-9A-Fa-f]{2}:){15}[0-9A-Fa-f]{2})$/;

/**
 * Checks a pinned fingerprint and returns it normalised: `SHA256:<base64>` as `ssh-keygen -lf`
 * prints it, or the legacy MD5 form the oVirt engine stores (`xx:xx:...`, 16 hex pairs, with or
 * without `MD5:`), returned as `MD5:` and lower-case hex.
 */
export function parseFingerprint(text: string): string {
  const value = text.trim();
  const sha = SHA256_PIN.exec(value);
  if (sha !== null) return `SHA256:${sha[1] ?? ''}`;
  const md5 = MD5_PIN.exec(value);
  if (md5 !== null) return `MD5:${(md5[1] ?? '').toLowerCase()}`;
  throw new EngineError('HOSTKEY_BAD_FINGERPRINT', `not a host key fingerprint: '${text}'`, {
    hint: "Give it as 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' prints it on the host (SHA256:...), or in the legacy MD5 form xx:xx:...",
  });
}

/** Whether a key blob has the pinned (normalised) fingerprint; its form decides the digest. */
export function matchesFingerprint(blob: Buffer, pinned: string): boolean {
  return (pinned.startsWith('MD5:') ? md5FingerprintOf(blob) : fingerprintOf(blob)) === pinned;
}

/** The host key algorithms ssh2 may negotiate for keys of a given type, best first. */
export function algorithmsForKeyType(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [type];
}
