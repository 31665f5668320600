// known_hosts reading and matching, and fingerprints, checked against OpenSSH's own tools
// (ssh-keygen -lf, -H, -F) on keys generated for the test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { isEngineError } from '../src/errors.js';
import {
  fingerprintOf,
  hostKeyFromBlob,
  md5FingerprintOf,
  parseFingerprint,
  type HostKey,
} from '../src/ssh/fingerprint.js';
import { prepareHostKeyCheck } from '../src/ssh/host-key-policy.js';
import {
  appendKnownHost,
  checkKnownHost,
  formatKnownHostLine,
  parseKnownHosts,
  readKnownHostsFile,
} from '../src/ssh/known-hosts.js';

let dir: string;
const keys: Record<string, { key: HostKey; pub: string; keygenFingerprint: string }> = {};

function keygen(...args: string[]): string {
  return execFileSync('ssh-keygen', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'otopi-known-hosts-'));
  for (const [name, args] of Object.entries({
    ed: ['-t', 'ed25519'],
    rsa: ['-t', 'rsa', '-b', '2048'],
    ecdsa: ['-t', 'ecdsa'],
  })) {
    const file = join(dir, name);
    keygen(...args, '-N', '', '-q', '-C', '', '-f', file);
    const pub = readFileSync(`${file}.pub`, 'utf8').trim();
    const [, data] = pub.split(' ') as [string, string];
    // ssh-keygen -lf prints "bits SHA256:... comment (TYPE)"
    const keygenFingerprint = keygen('-lf', `${file}.pub`).split(' ')[1] ?? '';
    keys[name] = { key: hostKeyFromBlob(Buffer.from(data, 'base64')), pub, keygenFingerprint };
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const k = (name: string): { key: HostKey; pub: string; keygenFingerprint: string } => {
  const found = keys[name];
  if (found === undefined) throw new Error(`no key ${name}`);
  return found;
};
const keyPart = (name: string): string => k(name).pub.split(' ').slice(0, 2).join(' ');

describe('fingerprints', () => {
  it('equal what ssh-keygen -lf prints, for ed25519, RSA and ECDSA keys', () => {
    for (const name of ['ed', 'rsa', 'ecdsa']) {
      expect(k(name).keygenFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(fingerprintOf(k(name).key.blob)).toBe(k(name).keygenFingerprint);
    }
    expect(k('ed').key.type).toBe('ssh-ed25519');
    expect(k('rsa').key.type).toBe('ssh-rsa');
    expect(k('ecdsa').key.type).toBe('ecdsa-sha2-nistp256');
  });

  it('are accepted in SHA256 form and in the legacy MD5 form, nothing else', () => {
    expect(parseFingerprint(` ${k('ed').keygenFingerprint}= `)).toBe(k('ed').keygenFingerprint);
    expect(parseFingerprint('16:27:AC:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48')).toBe(
      'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48',
    );
    expect(parseFingerprint('MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48')).toMatch(/^MD5:16:27/);
    expect(() => parseFingerprint('16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6')).toThrow(
      /not a host key fingerprint/,
    );
    expect(() => parseFingerprint('SHA256:short')).toThrow(/not a host key fingerprint/);
  });

  it('in MD5 form equal what ssh-keygen -E md5 -lf prints, and pin a key as the engine stores it', () => {
    for (const name of ['ed', 'rsa']) {
      const file = join(dir, `${name}.pub`);
      const md5 = keygen('-E', 'md5', '-lf', file).split(' ')[1] ?? '';
      expect(md5).toMatch(/^MD5:(?:[0-9a-f]{2}:){15}[0-9a-f]{2}$/);
      expect(md5FingerprintOf(k(name).key.blob)).toBe(md5);
    }
    // The engine's column holds the bare, sometimes upper-case, hex pairs.
    const stored = md5FingerprintOf(k('ed').key.blob).slice('MD5:'.length).toUpperCase();
    const pinned = prepareHostKeyCheck({ kind: 'fingerprint', fingerprint: stored }, 'h', 22);
    expect(pinned.verify(k('ed').key.blob).fingerprint).toBe(k('ed').keygenFingerprint);
    expect(() => pinned.verify(k('rsa').key.blob)).toThrow(/does not match: it presented ssh-rsa MD5:/);
  });
});

describe('known_hosts matching', () => {
  it('finds plain names, lists and wildcards, and honours negation', () => {
    const entries = parseKnownHosts(
      [
        '# a comment',
        '',
        `alpha,10.0.0.1 ${keyPart('ed')}`,
        `*.lab,!secret.lab ${keyPart('rsa')} a comment`,
        `h? ${keyPart('ecdsa')}`,
      ].join('\n'),
    );
    expect(entries).toHaveLength(3);
    expect(checkKnownHost(entries, 'alpha', 22, k('ed').key)).toEqual({ kind: 'match', line: 3 });
    expect(checkKnownHost(entries, '10.0.0.1', 22, k('ed').key).kind).toBe('match');
    expect(checkKnownHost(entries, 'ALPHA', 22, k('ed').key).kind).toBe('match');
    expect(checkKnownHost(entries, 'web.lab', 22, k('rsa').key).kind).toBe('match');
    expect(checkKnownHost(entries, 'secret.lab', 22, k('rsa').key).kind).toBe('unknown');
    expect(checkKnownHost(entries, 'h1', 22, k('ecdsa').key).kind).toBe('match');
    expect(checkKnownHost(entries, 'h12', 22, k('ecdsa').key).kind).toBe('unknown');
  });

  it('uses [host]:port for ports other than 22, and only then', () => {
    const entries = parseKnownHosts(`[alpha]:2222 ${keyPart('ed')}\nbeta ${keyPart('rsa')}\n`);
    expect(checkKnownHost(entries, 'alpha', 2222, k('ed').key).kind).toBe('match');
    expect(checkKnownHost(entries, 'alpha', 22, k('ed').key).kind).toBe('unknown');
    expect(checkKnownHost(entries, 'beta', 2222, k('rsa').key).kind).toBe('unknown');
  });

  it('reads names hashed by ssh-keygen -H, and agrees with ssh-keygen -F', () => {
    const file = join(dir, 'hashed');
    writeFileSync(file, `alpha ${keyPart('ed')}\n[alpha]:2222 ${keyPart('rsa')}\n`);
    keygen('-H', '-f', file);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('alpha');
    expect(text).toMatch(/^\|1\|/);
    const entries = parseKnownHosts(text);
    expect(checkKnownHost(entries, 'alpha', 22, k('ed').key).kind).toBe('match');
    expect(checkKnownHost(entries, 'alpha', 2222, k('rsa').key).kind).toBe('match');
    expect(checkKnownHost(entries, 'alpha', 2222, k('ed').key).kind).toBe('mismatch');
    expect(checkKnownHost(entries, 'beta', 22, k('ed').key).kind).toBe('unknown');
    // OpenSSH finds the same lines.
    expect(keygen('-F', '[alpha]:2222', '-f', file)).toContain(k('rsa').pub.split(' ')[1]);

    // Lines this module hashes are found by ssh-keygen -F.
    const ours = join(dir, 'ours');
    writeFileSync(ours, `${formatKnownHostLine('gamma', 2200, k('ecdsa').key, { hash: true })}\n`);
    expect(readFileSync(ours, 'utf8')).not.toContain('gamma');
    expect(keygen('-F', '[gamma]:2200', '-f', ours)).toContain(k('ecdsa').pub.split(' ')[1]);
  });

  it('reports a recorded host with another key as a mismatch, naming the expected fingerprints', () => {
    const entries = parseKnownHosts(`alpha ${keyPart('ed')}\nalpha ${keyPart('ecdsa')}\n`);
    const verdict = checkKnownHost(entries, 'alpha', 22, k('rsa').key);
    expect(verdict).toEqual({
      kind: 'mismatch',
      expected: [
        { fingerprint: k('ed').keygenFingerprint, type: 'ssh-ed25519', line: 1 },
        { fingerprint: k('ecdsa').keygenFingerprint, type: 'ecdsa-sha2-nistp256', line: 2 },
      ],
    });
  });

  it('refuses a key marked @revoked for every host, and never trusts @cert-authority lines as keys', () => {
    const entries = parseKnownHosts(
      `alpha ${keyPart('ed')}\n@revoked * ${keyPart('ed')}\n@cert-authority beta ${keyPart('rsa')}\n@bogus beta ${keyPart('ecdsa')}\n`,
    );
    expect(checkKnownHost(entries, 'alpha', 22, k('ed').key)).toEqual({ kind: 'revoked', line: 2 });
    expect(checkKnownHost(entries, 'beta', 22, k('rsa').key).kind).toBe('unknown');
    expect(checkKnownHost(entries, 'beta', 22, k('ecdsa').key).kind).toBe('unknown');
  });

  it('skips lines it cannot read', () => {
    expect(parseKnownHosts('alpha ssh-ed25519\nalpha ssh-ed25519 not*base64\n')).toEqual([]);
  });
});

describe('host key policies', () => {
  it('pins one fingerprint and refuses another key with both fingerprints in the message', () => {
    const check = prepareHostKeyCheck({ kind: 'fingerprint', fingerprint: k('ed').keygenFingerprint }, 'alpha', 22);
    expect(check.verify(k('ed').key.blob)).toMatchObject({ fingerprint: k('ed').keygenFingerprint, learnt: false });
    let error: unknown;
    try {
      check.verify(k('rsa').key.blob);
    } catch (e) {
      error = e;
    }
    expect(isEngineError(error, 'HOSTKEY_MISMATCH')).toBe(true);
    expect(String((error as Error).message)).toContain(k('rsa').keygenFingerprint);
    expect(String((error as Error).message)).toContain(k('ed').keygenFingerprint);
  });

  it('refuses an unknown host unless asked to trust on first use, then stores the key and pins it', () => {
    const file = join(dir, 'tofu');
    writeFileSync(file, `other ${keyPart('rsa')}`, { mode: 0o640 }); // no final newline on purpose
    const strict = prepareHostKeyCheck({ kind: 'known-hosts', file }, 'alpha', 2222);
    expect(() => strict.verify(k('ed').key.blob)).toThrow(expect.objectContaining({ code: 'HOSTKEY_UNKNOWN' }));

    const tofu = prepareHostKeyCheck({ kind: 'known-hosts', file, trustOnFirstUse: true }, 'alpha', 2222);
    const accepted = tofu.verify(k('ed').key.blob);
    expect(accepted.learnt).toBe(true);
    tofu.commit(accepted);
    expect(readFileSync(file, 'utf8')).toBe(`other ${keyPart('rsa')}\n[alpha]:2222 ${keyPart('ed')}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o640);

    // From now on the key is pinned: the same key matches, another is a mismatch even with TOFU.
    const again = prepareHostKeyCheck({ kind: 'known-hosts', file, trustOnFirstUse: true }, 'alpha', 2222);
    expect(again.algorithms).toEqual(['ssh-ed25519']);
    expect(again.verify(k('ed').key.blob).learnt).toBe(false);
    expect(() => again.verify(k('ecdsa').key.blob)).toThrow(expect.objectContaining({ code: 'HOSTKEY_MISMATCH' }));
  });

  it('creates a missing known_hosts file with mode 0600', () => {
    const file = join(dir, 'new-known-hosts');
    appendKnownHost(file, formatKnownHostLine('alpha', 22, k('ed').key));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readKnownHostsFile(file)).toHaveLength(1);
  });

  it('offers the RSA signature algorithms for a recorded ssh-rsa key', () => {
    const file = join(dir, 'rsa-only');
    writeFileSync(file, `alpha ${keyPart('rsa')}\n`);
    expect(prepareHostKeyCheck({ kind: 'known-hosts', file }, 'alpha', 22).algorithms).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
    ]);
  });
});
