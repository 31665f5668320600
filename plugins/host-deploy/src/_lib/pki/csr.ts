/**
 * The host key and its certificate request. The key is made here, in memory, with Node's
 * crypto: it never goes through a temporary file or a command line (the openssl command
 * ovirt-host-deploy ran wrote it to a temporary file). The request has an empty subject, as
 * before: the engine sets the subject and the alternative names when it signs.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { bitString, contextConstructed, integer, nullValue, oid, pem, sequence } from './der.js';

const generate = promisify(generateKeyPair);

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

export interface HostKey {
  /** PKCS#8 PEM. A secret: register it with the environment before anything may log. */
  readonly privateKeyPem: string;
  readonly privateKey: KeyObject;
}

export async function generateHostKey(bits: number): Promise<HostKey> {
  const { privateKey } = await generate('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  return { privateKey, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** Reads a PEM key (PKCS#8 or PKCS#1), e.g. the pending key of a two-step enrollment. */
export function loadHostKey(privateKeyPem: string): HostKey {
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'rsa')
    throw new Error(`the key is ${privateKey.asymmetricKeyType ?? 'unknown'}, not RSA`);
  return { privateKey, privateKeyPem };
}

/** A PKCS#10 request with an empty subject and no attributes, signed with SHA-256. */
export function certificateRequest(key: HostKey): string {
  const spki = createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' });
  const info = sequence(integer(0), sequence(), spki, contextConstructed(0, Buffer.alloc(0)));
  const signature = sign('sha256', info, key.privateKey);
  return pem('CERTIFICATE REQUEST', sequence(info, sequence(oid(SHA256_WITH_RSA), nullValue()), bitString(signature)));
}

/** The strings a log must never show: the PEM, its body, and each of its lines. */
export function keySecrets(privateKeyPem: string): string[] {
  const lines = privateKeyPem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
  return [privateKeyPem.trim(), lines.join(''), ...lines.filter((l) => l.length >= 16)];
}
