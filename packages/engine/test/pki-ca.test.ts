import '@abraham/reflection';
import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../src/pki/ca.js';

const ALG = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

async function hostCsr(subject = ''): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys, signingAlgorithm: ALG });
  return csr.toString('pem');
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8' });
}

describe('CertificateAuthority', () => {
  it('signs a host CSR that openssl verifies, with the engine subject, a SAN and a backdated start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otopi-ca-'));
    const ca = await CertificateAuthority.loadOrCreate(join(dir, 'ca'), { organization: 'Lab, Inc.' });
    expect(statSync(join(dir, 'ca', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ca')).mode & 0o777).toBe(0o700);
    const pem = await ca.sign(await hostCsr(), { host: 'h1.lab.example', altNames: ['10.88.0.11'] });
    writeFileSync(join(dir, 'host.pem'), pem);
    expect(openssl(['verify', '-CAfile', join(dir, 'ca', 'ca.pem'), join(dir, 'host.pem')]).trim()).toBe(
      `${join(dir, 'host.pem')}: OK`,
    );
    const text = openssl([
      'x509',
      '-in',
      join(dir, 'host.pem'),
      '-noout',
      '-subject',
      '-startdate',
      '-ext',
      'subjectAltName,extendedKeyUsage',
    ]);
    expect(text).toContain('subject=O = "Lab, Inc.", CN = h1.lab.example');
    expect(text).toContain('DNS:h1.lab.example, IP Address:10.88.0.11');
    expect(text).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
    const start = new Date(/notBefore=(.*)/.exec(text)![1]!).getTime();
    expect(Date.now() - start).toBeGreaterThan(23 * 3600 * 1000);
  });

  it('reloads the same CA from disk and keeps signing with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otopi-ca-'));
    const first = await CertificateAuthority.loadOrCreate(dir, { organization: 'Lab' });
    const again = await CertificateAuthority.loadOrCreate(dir, { organization: 'ignored when loading' });
    expect(again.pem).toBe(first.pem);
    expect(again.organization).toBe('Lab');
    const pem = await again.sign(await hostCsr('CN=whatever the host asked'), { host: 'h2' });
    writeFileSync(join(dir, 'h2.pem'), pem);
    expect(openssl(['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'h2.pem')])).toContain(': OK');
    expect(openssl(['x509', '-in', join(dir, 'h2.pem'), '-noout', '-subject'])).toContain('subject=O = Lab, CN = h2');
  });

  it('refuses a request whose signature does not verify, and garbage', async () => {
    const ca = await CertificateAuthority.create({ organization: 'Lab' });
    const csr = await hostCsr();
    const der = Buffer.from(x509.PemConverter.decodeFirst(csr));
    der[der.length - 5] = der[der.length - 5]! ^ 0xff; // flip a bit of the signature
    const tampered = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
    await expect(ca.sign(tampered, { host: 'h' })).rejects.toThrow('does not verify');
    await expect(ca.sign('not a csr', { host: 'h' })).rejects.toThrow('not a certificate request');
  });
});
