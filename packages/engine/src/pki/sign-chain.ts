/**
 * The engine's answer to a host's certificate request (reference host-deploy.md §3.1 steps
 * 3–4), shared by the host-deploy and host-mgmt programs: the request signed by the engine CA
 * for the host's name (and address), answered as the chain the host asks for, CA first.
 */
import type { CertificateAuthority } from './ca.js';

export interface ChainSigning {
  readonly ca: CertificateAuthority;
  /** Validity in days; the CA's default when absent. */
  readonly days?: number;
}

/** Signs `request` (the lines of `VDSM_CERTIFICATE_REQUEST`) and returns the chain lines. */
export async function signedChain(
  signing: ChainSigning,
  request: readonly string[] | string,
  host: { readonly name: string; readonly address?: string | undefined },
): Promise<string[]> {
  const pem = Array.isArray(request) ? request.join('\n') : String(request);
  const cert = await signing.ca.sign(pem, {
    host: host.name,
    ...(host.address === undefined ? {} : { altNames: [host.address] }),
    ...(signing.days === undefined ? {} : { days: signing.days }),
  });
  return `${signing.ca.pem.trimEnd()}\n${cert.trimEnd()}`.split('\n');
}
