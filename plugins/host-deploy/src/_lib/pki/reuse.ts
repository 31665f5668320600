/**
 * Re-enrollment without churn. A redeploy asks for a certificate again; when the host already
 * holds a consistent key and certificate, the key is kept (so the request is for the same
 * key), and when the engine answers with a certificate that matches the installed one (same
 * CA, key, subject and names) while that one stays valid for a while, the installed files are
 * kept: a second deploy then changes nothing and restarts nothing. VDSM/certificateRenew
 * turns both off.
 */
import { X509Certificate, createPublicKey } from 'node:crypto';
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
