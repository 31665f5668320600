/**
 * The engine's certificate authority: creates or loads a CA, and signs the certificate
 * requests hosts make (the host keeps its private key; only the CSR travels).
 *
 * Pure JavaScript on Node's WebCrypto through @peculiar/x509, rather than the `openssl`
 * command: nothing to install on either side, no private key in a temporary file or on a
 * command line, and the same code signs in tests and in production. `openssl verify`
 * checks the result in the tests.
 *
 * As the oVirt engine does, the subject of a request is replaced (`O=<org>,CN=<host>`),
 * the host's name or address goes into the subjectAltName, and validity starts a day in
 * the past so hosts with a slow clock accept the certificate.
 *
 * The x509 library is loaded on first use (a dynamic import): it is most of the engine's
 * start-up cost, and `otopi deploy` of a group that enrolls no certificate never needs it.
 */
import { webcrypto, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ProcessMutex } from '@otopi/core';
import type * as X509 from '@peculiar/x509';
import { writeFileAtomic } from '../util/atomic-write.js';

type X509Module = typeof X509;
type CryptoProvider = Parameters<X509Module['cryptoProvider']['set']>[0];
let x509Loaded: Promise<X509Module> | undefined;

/** @peculiar/x509 (and the reflection polyfill it needs), loaded once, on first use. */
function loadX509(): Promise<X509Module> {
  x509Loaded ??= (async () => {
    await import('@abraham/reflection');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as CryptoProvider);
    return x509;
  })();
  return x509Loaded;
}

const ALGORITHM: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CaOptions {
  /** Organization of the CA and of every certificate it signs. */
  readonly organization: string;
  /** Common name of the CA certificate. Default `<organization> CA`. */
  readonly commonName?: string;
  /** Validity of the CA certificate in days. Default 3650. */
  readonly days?: number;
}

export interface SignOptions {
  /** Host name (or address) the certificate is for: the subject's CN and the subjectAltName. */
  readonly host: string;
  /** Extra subjectAltName entries (names or addresses). */
  readonly altNames?: readonly string[];
  /** Validity in days. Default 398 (what browsers still accept). */
  readonly days?: number;
}

export class CertificateAuthority {
  private constructor(
    readonly certificate: X509.X509Certificate,
    private readonly keys: webcrypto.CryptoKeyPair,
    readonly organization: string,
  ) {}

  /** The CA certificate, PEM. */
  get pem(): string {
    return this.certificate.toString('pem');
  }

  static async create(options: CaOptions): Promise<CertificateAuthority> {
    const x509 = await loadX509();
    const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const now = Date.now();
    const name = `O=${escapeRdn(options.organization)}, CN=${escapeRdn(options.commonName ?? `${options.organization} CA`)}`;
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + (options.days ?? 3650) * DAY_MS),
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new CertificateAuthority(certificate, keys, options.organization);
  }

  /** Loads `ca.pem` and `ca.key` (PKCS#8) from a folder. */
  static async load(dir: string): Promise<CertificateAuthority> {
    const x509 = await loadX509();
    const certificate = new x509.X509Certificate(readFileSync(join(dir, 'ca.pem'), 'utf8'));
    const keyPem = readFileSync(join(dir, 'ca.key'), 'utf8');
    const der = x509.PemConverter.decodeFirst(keyPem);
    const privateKey = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, true, ['sign']);
    const publicKey = await certificate.publicKey.export(ALGORITHM, ['verify'], webcrypto as unknown as CryptoProvider);
    const organization = certificate.subjectName.getField('O')[0] ?? '';
    return new CertificateAuthority(certificate, { privateKey, publicKey } as webcrypto.CryptoKeyPair, organization);
  }

  /**
   * Loads the CA in `dir`, or creates it there (key 0600, folder 0700) when absent. Deploys that
   * start together against one new folder create one CA between them: creation happens under a
   * mutex on the folder (`.lock`, freed by the kernel if its holder dies), and whoever takes it
   * second loads the CA the first one wrote. Waits up to `waitMs` (default 60 s) for the holder.
   */
  static async loadOrCreate(dir: string, options: CaOptions, waitMs = 60_000): Promise<CertificateAuthority> {
    return (await CertificateAuthority.open(dir, options, waitMs)).ca;
  }

  /** {@link loadOrCreate}, saying whether this call created the CA. */
  static async open(
    dir: string,
    options: CaOptions,
    waitMs = 60_000,
  ): Promise<{ ca: CertificateAuthority; created: boolean }> {
    if (existsSync(join(dir, 'ca.pem'))) return { ca: await CertificateAuthority.load(dir), created: false };
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const mutex = new ProcessMutex(join(dir, '.lock'));
    const refused = await mutex.acquire({ waitMs, command: 'creating a CA' });
    if (refused !== undefined) {
      const who = refused.holder === undefined ? 'another process' : `pid ${refused.holder.pid}`;
      throw new Error(`${who} has been creating a CA in ${dir} for over ${Math.round(waitMs / 1000)} s`);
    }
    try {
      if (existsSync(join(dir, 'ca.pem'))) return { ca: await CertificateAuthority.load(dir), created: false };
      const ca = await CertificateAuthority.create(options);
      await ca.save(dir);
      return { ca, created: true };
    } finally {
      mutex.release();
    }
  }

  /** Writes `ca.key` (0600) then `ca.pem` (0644), each atomically. */
  async save(dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const x509 = await loadX509();
    const der = await webcrypto.subtle.exportKey('pkcs8', this.keys.privateKey);
    writeFileAtomic(join(dir, 'ca.key'), x509.PemConverter.encode(der, 'PRIVATE KEY'), 0o600);
    writeFileAtomic(join(dir, 'ca.pem'), this.pem, 0o644);
  }

  /**
   * Signs a host's CSR. The request's own signature must verify (proof the host holds the
   * key); its subject is replaced. Returns the host certificate, PEM.
   */
  async sign(csrPem: string, options: SignOptions): Promise<string> {
    const x509 = await loadX509();
    let csr: X509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (error) {
      throw new Error(`not a certificate request: ${(error as Error).message}`, { cause: error });
    }
    if (!(await csr.verify())) throw new Error('the certificate request signature does not verify');
    const now = Date.now();
    const names = [options.host, ...(options.altNames ?? [])];
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `O=${escapeRdn(this.organization)}, CN=${escapeRdn(options.host)}`,
      issuer: this.certificate.subject,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + (options.days ?? 398) * DAY_MS),
      signingAlgorithm: ALGORITHM,
      publicKey: csr.publicKey,
      signingKey: this.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension(
          [...new Set(names)].map((n) =>
            isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n },
          ),
        ),
        await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.certificate),
      ],
    });
    return certificate.toString('pem');
  }
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive
  return bytes.toString('hex');
}

/** Escapes the characters RFC 4514 reserves in a distinguished-name value. */
function escapeRdn(value: string): string {
  return value
    .replace(/[,+"\\<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}
