import { execFileSync } from 'node:child_process';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../../packages/engine/src/pki/ca.js';
import { ChainError, checkChain, splitCertificates } from '../src/_lib/pki/chain.js';
import { certificateRequest, generateHostKey, keySecrets, loadHostKey, type HostKey } from '../src/_lib/pki/csr.js';
import { oid } from '../src/_lib/pki/der.js';
import { pendingKeyPath, pkiFiles } from '../src/_lib/pki/files.js';
import { installedIsWanted, reusableKey, sameAsInstalled } from '../src/_lib/pki/reuse.js';

let ca: CertificateAuthority;
let other: CertificateAuthority;
let key: HostKey;
let csr: string;
let cert: string;

beforeAll(async () => {
  [ca, other, key] = await Promise.all([
    CertificateAuthority.create({ organization: 'Test Org' }),
    CertificateAuthority.create({ organization: 'Other Org' }),
    generateHostKey(2048),
  ]);
  csr = certificateRequest(key);
  cert = await ca.sign(csr, { host: 'host1.example.com', altNames: ['10.0.0.5'] });
}, 60_000);

describe('the host key and request', () => {
  it('makes an RSA key of the asked size and a PKCS#10 request the engine CA signs for that key', () => {
    expect(key.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(key.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(csr).toMatch(
      /^-----BEGIN CERTIFICATE REQUEST-----\n(?:[A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE REQUEST-----\n$/,
    );
    const issued = new X509Certificate(cert);
    // The CA verified the request's signature (proof of possession) and set subject and names.
    expect(issued.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' }),
    );
    expect(issued.subject).toBe('O=Test Org\nCN=host1.example.com');
    expect(issued.subjectAltName).toBe('DNS:host1.example.com, IP Address:10.0.0.5');
  });

  it('is a request openssl verifies, with an empty subject', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hd-csr-'));
    writeFileSync(join(dir, 'req.pem'), csr);
    const out = execFileSync('openssl', ['req', '-in', join(dir, 'req.pem'), '-noout', '-verify', '-subject'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toMatch(/subject=\s*$/m);
  });

  it('encodes OIDs with multi-byte arcs', () => {
    expect(oid('1.2.840.113549.1.1.11').toString('hex')).toBe('06092a864886f70d01010b');
  });

  it('lists the key PEM, its body and its lines as secrets', () => {
    const secrets = keySecrets(key.privateKeyPem);
    expect(secrets[0]).toBe(key.privateKeyPem.trim());
    expect(secrets.slice(1).every((s) => !s.includes('-----'))).toBe(true);
    expect(secrets.length).toBeGreaterThan(20);
    expect(loadHostKey(key.privateKeyPem).privateKey.asymmetricKeyType).toBe('rsa');
  });
});

describe('the chain from the engine', () => {
  it('takes the CA first and the host certificate after it', () => {
    const chain = checkChain([...ca.pem.trimEnd().split('\n'), ...cert.trimEnd().split('\n')], key.privateKey);
    expect(chain.ca).toBe(`${ca.pem.trim()}\n`);
    expect(chain.host).toBe(`${cert.trim()}\n`);
    expect(chain.subject).toBe('O=Test Org, CN=host1.example.com');
    expect(splitCertificates(`junk\n${ca.pem}more junk\n${cert}`)).toHaveLength(2);
  });

  it('refuses a short chain, the wrong order, a certificate for another key, and another CA', async () => {
    expect(() => checkChain(cert, key.privateKey)).toThrow(/holds 1 certificate/);
    expect(() => checkChain(`${cert}${ca.pem}`, key.privateKey)).toThrow(/not for this host key/);
    const otherKey = await generateHostKey(2048);
    expect(() => checkChain(`${ca.pem}${cert}`, otherKey.privateKey)).toThrow(ChainError);
    expect(() => checkChain(`${other.pem}${cert}`, key.privateKey)).toThrow(
      /is not signed by the CA in the chain \(O=Other Org, CN=Other Org CA\)/,
    );
  });
});

describe('re-enrollment', () => {
  it('reuses an installed key only when it matches the installed certificate and the key size', async () => {
    expect(reusableKey(key.privateKeyPem, cert, 2048)).not.toBeNull();
    expect(reusableKey(key.privateKeyPem, cert, 4096)).toBeNull();
    expect(reusableKey(key.privateKeyPem, ca.pem, 2048)).toBeNull();
    expect(reusableKey(null, cert, 2048)).toBeNull();
    expect(reusableKey('garbage', cert, 2048)).toBeNull();
  });

  it('keeps the installed certificate when the new one says the same, unless it expires soon', async () => {
    const again = await ca.sign(csr, { host: 'host1.example.com', altNames: ['10.0.0.5'] });
    const received = checkChain(`${ca.pem}${again}`, key.privateKey);
    expect(sameAsInstalled({ ca: ca.pem, host: cert }, received)).toBe(true);
    expect(sameAsInstalled({ ca: ca.pem, host: cert }, received, Date.now() + 380 * 86_400_000)).toBe(false);
    const renamed = checkChain(`${ca.pem}${await ca.sign(csr, { host: 'host1.example.org' })}`, key.privateKey);
    expect(sameAsInstalled({ ca: ca.pem, host: cert }, renamed)).toBe(false);
    expect(sameAsInstalled({ ca: null, host: cert }, received)).toBe(false);
  });

  it('keeps the installed certificate without a request when it is what the engine says it would issue', async () => {
    // What otopi deploy sends: its CA's fingerprint and the names it signs for (engine program).
    const wanted = {
      caFingerprint: new X509Certificate(ca.pem).fingerprint256,
      names: ['host1.example.com', '10.0.0.5'],
    };
    const installed = { ca: ca.pem, host: cert };
    expect(installedIsWanted(installed, key, wanted)).toBe(true);
    // Fingerprints compare whatever their case.
    expect(installedIsWanted(installed, key, { ...wanted, caFingerprint: wanted.caFingerprint.toLowerCase() })).toBe(
      true,
    );
    // Another CA, other names, one name more or less, another key, soon expiring, nothing installed: a request.
    const otherCa = new X509Certificate(other.pem).fingerprint256;
    expect(installedIsWanted(installed, key, { ...wanted, caFingerprint: otherCa })).toBe(false);
    expect(installedIsWanted(installed, key, { ...wanted, names: ['host1.example.org', '10.0.0.5'] })).toBe(false);
    expect(installedIsWanted(installed, key, { ...wanted, names: ['host1.example.com'] })).toBe(false);
    expect(installedIsWanted(installed, key, { ...wanted, names: [...wanted.names, '10.0.0.6'] })).toBe(false);
    expect(installedIsWanted(installed, null, wanted)).toBe(false);
    expect(installedIsWanted(installed, await generateHostKey(2048), wanted)).toBe(false);
    expect(installedIsWanted(installed, key, wanted, Date.now() + 380 * 86_400_000)).toBe(false);
    expect(installedIsWanted({ ca: null, host: cert }, key, wanted)).toBe(false);
    expect(installedIsWanted({ ca: ca.pem, host: 'garbage' }, key, wanted)).toBe(false);
  });
});

describe('where the certificates go', () => {
  it('lays out the vdsm, libvirt and spice files with their owners and modes', () => {
    const files = pkiFiles('/etc/pki/vdsm').map(
      (f) => `${f.path} ${f.owner}:${f.group} ${f.mode.toString(8)} ${f.content}`,
    );
    expect(files).toEqual([
      '/etc/pki/vdsm/certs/cacert.pem root:root 644 ca',
      '/etc/pki/vdsm/libvirt-spice/ca-cert.pem root:root 644 ca',
      '/etc/pki/CA/cacert.pem root:root 644 ca',
      '/etc/pki/vdsm/certs/vdsmcert.pem root:root 644 cert',
      '/etc/pki/vdsm/libvirt-spice/server-cert.pem root:root 644 cert',
      '/etc/pki/libvirt/clientcert.pem root:root 644 cert',
      '/etc/pki/vdsm/keys/vdsmkey.pem vdsm:kvm 440 key',
      '/etc/pki/vdsm/libvirt-spice/server-key.pem vdsm:kvm 440 key',
      '/etc/pki/libvirt/private/clientkey.pem vdsm:kvm 440 key',
    ]);
    expect(pendingKeyPath('/etc/pki/vdsm')).toBe('/etc/pki/vdsm/keys/vdsmkey.pending.pem');
  });
});
