/**
 * The certificate chain the engine answers with: PEM certificates, the CA first and the
 * host certificate after it (ovirt-host-deploy's "top is issuer"). Checked before anything is
 * written, which the original did not do: the host certificate must carry our public key
 * and be signed by the CA, so a wrong or truncated answer fails the run instead of leaving
 * vdsm with a certificate it cannot use.
 */
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';

export interface Chain {
  /** The CA certificate, PEM. */
  readonly ca: string;
  /** The host certificate and any intermediates after it, PEM (what vdsmcert.pem holds). */
  readonly host: string;
  readonly subject: string;
  readonly validTo: string;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function splitCertificates(lines: readonly string[] | string): string[] {
  const text = Array.isArray(lines) ? lines.join('\n') : String(lines);
  return (text.match(PEM_BLOCK) ?? []).map((block) => `${block.replace(/\r/g, '').trim()}\n`);
}

export class ChainError extends Error {
  override readonly name = 'ChainError';
}

export function checkChain(lines: readonly string[] | string, key: KeyObject): Chain {
  const blocks = splitCertificates(lines);
  if (blocks.length < 2)
    throw new ChainError(
      `the chain holds ${blocks.length} certificate(s); expected the CA first, then the host certificate`,
    );
  let certs: X509Certificate[];
  try {
    certs = blocks.map((b) => new X509Certificate(b));
  } catch (error) {
    throw new ChainError(`the chain holds a certificate that does not parse: ${(error as Error).message}`);
  }
  const [ca, host, ...intermediates] = certs as [X509Certificate, X509Certificate, ...X509Certificate[]];
  const ours = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (!host.publicKey.export({ type: 'spki', format: 'der' }).equals(ours))
    throw new ChainError('the host certificate is not for this host key (its public key differs from the request)');
  // Intermediates may follow the host certificate; the path must end at the CA.
  let current = host;
  for (let hops = 0; current !== ca; hops++) {
    const issuer = [...intermediates, ca].find(
      (c) => c !== current && current.checkIssued(c) && current.verify(c.publicKey),
    );
    if (issuer === undefined || hops > intermediates.length)
      throw new ChainError(
        `the host certificate (issuer ${oneLine(host.issuer)}) is not signed by the CA in the chain (${oneLine(ca.subject)})`,
      );
    current = issuer;
  }
  if (Date.parse(host.validTo) < Date.now()) throw new ChainError(`the host certificate expired on ${host.validTo}`);
  return { ca: blocks[0]!, host: blocks.slice(1).join(''), subject: oneLine(host.subject), validTo: host.validTo };
}

const oneLine = (name: string): string => name.split('\n').join(', ');
