/**
 * Re-enrollment without churn. A redeploy asks for a certificate again; when the host already
 * holds a consistent key and certificate, the key is kept (so the request is for the same
 * key), and when the engine answers with a certificate that matches the installed one (same
 * CA, key, subject and names) while that one stays valid for a while, the installed files are
 * kept: a second deploy then changes nothing and restarts nothing. VDSM/certificateRenew
 * turns both off.
 */
import { X509Certificate, createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import { loadHostKey, type HostKey } from './csr.js';
import type { Chain } from './chain.js';

export const KEEP_DAYS = 30;

function spki(key: Parameters<typeof createPublicKey>[0]): Buffer {
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}

/** The installed key, when it is RSA of `bits` and matches the installed certificate. */
export function reusableKey(keyPem: string | null, certPem: string | null, bits: number): HostKey | null {
  if (keyPem === null || certPem === null) return null;
  try {
    const key = loadHostKey(keyPem);
    if (key.privateKey.asymmetricKeyDetails?.modulusLength !== bits) return null;
    const cert = new X509Certificate(certPem);
    return cert.publicKey.export({ type: 'spki', format: 'der' }).equals(spki(key.privateKey)) ? key : null;
  } catch {
    return null;
  }
}

export interface Installed {
  readonly ca: string | null;
  readonly host: string | null;
}

/** Whether the installed CA and host certificate already are what `received` would install. */
export function sameAsInstalled(installed: Installed, received: Chain, now = Date.now()): boolean {
  if (installed.ca === null || installed.host === null) return false;
  try {
    const [ca, nowCa] = [new X509Certificate(installed.ca), new X509Certificate(received.ca)];
    const [host, next] = [new X509Certificate(installed.host), new X509Certificate(received.host)];
    return (
      ca.raw.equals(nowCa.raw) &&
      host.subject === next.subject &&
      host.subjectAltName === next.subjectAltName &&
      host.publicKey
        .export({ type: 'spki', format: 'der' })
        .equals(next.publicKey.export({ type: 'spki', format: 'der' })) &&
      host.checkIssued(ca) &&
      host.verify(ca.publicKey) &&
      Date.parse(host.validTo) - now > KEEP_DAYS * 86_400_000
    );
  } catch {
    return false;
  }
}

/** What the engine says it would issue: its CA's fingerprint, and the names (common name first). */
export interface Wanted {
  readonly caFingerprint: string;
  readonly names: readonly string[];
}

/** The subjectAltName entries as Node prints them (`DNS:h1, IP Address:10.0.0.1`), as a set. */
function altNames(text: string | undefined): Set<string> {
  return new Set((text ?? '').split(', ').filter((e) => e !== ''));
}

/**
 * Whether the installed certificate already is what the engine would issue, judged before any
 * request is made, so a redeploy asks for no signature: the installed CA is the engine's (by
 * fingerprint), the host certificate is issued by it for the installed key (`key`: the
 * reusable key, or null), carries the wanted common name and exactly the wanted names, and
 * stays valid for more than KEEP_DAYS days.
 */
export function installedIsWanted(
  installed: Installed,
  key: HostKey | null,
  wanted: Wanted,
  now = Date.now(),
): boolean {
  if (installed.ca === null || installed.host === null || key === null || wanted.names.length === 0) return false;
  try {
    const ca = new X509Certificate(installed.ca);
    const host = new X509Certificate(installed.host);
    const names = [...new Set(wanted.names)];
    const expected = new Set(names.map((n) => (isIP(n) ? `IP Address:${n}` : `DNS:${n}`)));
    const got = altNames(host.subjectAltName);
    return (
      ca.fingerprint256.toUpperCase() === wanted.caFingerprint.trim().toUpperCase() &&
      host.checkIssued(ca) &&
      host.verify(ca.publicKey) &&
      host.publicKey.export({ type: 'spki', format: 'der' }).equals(spki(key.privateKey)) &&
      host.subject.split('\n').includes(`CN=${names[0]}`) &&
      got.size === expected.size &&
      [...expected].every((e) => got.has(e)) &&
      Date.parse(host.validTo) - now > KEEP_DAYS * 86_400_000
    );
  } catch {
    return false;
  }
}
