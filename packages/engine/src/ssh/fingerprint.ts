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

/**
 * Checks a pinned fingerprint and returns it normalised. Only SHA-256 is accepted: an MD5
 * fingerprint (`aa:bb:...`) is refused rather than compared, because MD5 is too weak to pin.
 */
export function parseFingerprint(text: string): string {
  const value = text.trim();
  const match = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(value);
  if (match === null) {
    throw new EngineError('HOSTKEY_BAD_FINGERPRINT', `not a SHA256 host key fingerprint: '${text}'`, {
      hint: "Give the fingerprint as 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' prints it on the host: SHA256:...",
    });
  }
  return `SHA256:${match[1] ?? ''}`;
}

/** The host key algorithms ssh2 may negotiate for keys of a given type, best first. */
export function algorithmsForKeyType(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [type];
}
