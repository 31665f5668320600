/**
 * How a connection decides whether to trust the key a host presents. There is no "accept
 * anything" policy: ssh2 accepts any key when it has no verifier, so `connectSsh` demands
 * one of these and checks it at run time too.
 */
import { EngineError } from '../errors.js';
import {
  algorithmsForKeyType,
  fingerprintOf,
  hostKeyFromBlob,
  matchesFingerprint,
  md5FingerprintOf,
  parseFingerprint,
} from './fingerprint.js';
import {
  appendKnownHost,
  checkKnownHost,
  formatKnownHostLine,
  knownHostName,
  knownKeyTypes,
  readKnownHostsFile,
} from './known-hosts.js';

/** Trust the keys recorded for the host in an OpenSSH known_hosts file. */
export interface KnownHostsPolicy {
  readonly kind: 'known-hosts';
  /** The known_hosts file, read once per connection just before the handshake. */
  readonly file: string;
  /**
   * Accept the key of a host the file does not name yet, and append it to the file once
   * the handshake has proved the host holds it. Default false: an unknown host is refused.
   * A host recorded with another key is refused either way.
   */
  readonly trustOnFirstUse?: boolean;
  /** Store a key learnt on first use under a hashed name (`|1|salt|hmac`). Default false. */
  readonly hashNewEntries?: boolean;
}

/**
 * Trust exactly one key, named by its fingerprint as `ssh-keygen -lf` prints it (`SHA256:...`),
 * or in the legacy MD5 form the oVirt engine stores (`xx:xx:...` or `MD5:xx:xx:...`).
 */
export interface FingerprintPolicy {
  readonly kind: 'fingerprint';
  readonly fingerprint: string;
}

export type HostKeyPolicy = KnownHostsPolicy | FingerprintPolicy;

/** What was decided about the key a host presented. */
export interface AcceptedHostKey {
  readonly type: string;
  readonly fingerprint: string;
  /** Whether the key was unknown and is stored because the policy trusts on first use. */
  readonly learnt: boolean;
  /** The key blob, in SSH wire format. */
  readonly publicKey: Buffer;
}

/** A policy prepared for one connection to `host:port`. */
export interface HostKeyCheck {
  /** Host key algorithms to offer, best first: the types already recorded for the host, when any. */
  readonly algorithms: string[] | undefined;
  /** Decides on a presented key blob; throws a coded EngineError to refuse it. */
  verify(blob: Buffer): AcceptedHostKey;
  /** Stores a key accepted on first use; called once the handshake has completed. */
  commit(accepted: AcceptedHostKey): void;
}

export function assertHostKeyPolicy(policy: unknown): asserts policy is HostKeyPolicy {
  const p = policy as { kind?: unknown; file?: unknown; fingerprint?: unknown } | undefined | null;
  const valid =
    p !== undefined &&
    p !== null &&
    ((p.kind === 'known-hosts' && typeof p.file === 'string' && p.file !== '') ||
      (p.kind === 'fingerprint' && typeof p.fingerprint === 'string'));
  if (!valid) {
    throw new EngineError('HOSTKEY_POLICY_MISSING', 'an SSH connection needs a host key policy', {
      hint: "Pass hostKey: { kind: 'known-hosts', file } or { kind: 'fingerprint', fingerprint: 'SHA256:...' }",
    });
  }
}

export function prepareHostKeyCheck(policy: HostKeyPolicy, host: string, port: number): HostKeyCheck {
  assertHostKeyPolicy(policy);
  const where = knownHostName(host, port);
  if (policy.kind === 'fingerprint') {
    const pinned = parseFingerprint(policy.fingerprint);
    return {
      algorithms: undefined,
      verify(blob) {
        const key = hostKeyFromBlob(blob);
        const fingerprint = fingerprintOf(blob);
        if (!matchesFingerprint(blob, pinned)) {
          const shown = pinned.startsWith('MD5:') ? md5FingerprintOf(blob) : fingerprint;
          throw new EngineError(
            'HOSTKEY_MISMATCH',
            `host key of ${where} does not match: it presented ${key.type} ${shown}, expected ${pinned}`,
            {
              host: where,
              hint: 'If the host was reinstalled, check its new key out of band and update the pinned fingerprint',
            },
          );
        }
        return { type: key.type, fingerprint, learnt: false, publicKey: blob };
      },
      commit() {},
    };
  }

  const entries = readKnownHostsFile(policy.file);
  const types = knownKeyTypes(entries, host, port);
  return {
    algorithms: types.length === 0 ? undefined : types.flatMap(algorithmsForKeyType),
    verify(blob) {
      const key = hostKeyFromBlob(blob);
      const fingerprint = fingerprintOf(blob);
      const verdict = checkKnownHost(entries, host, port, key);
      switch (verdict.kind) {
        case 'match':
          return { type: key.type, fingerprint, learnt: false, publicKey: blob };
        case 'revoked':
          throw new EngineError(
            'HOSTKEY_REVOKED',
            `host key of ${where} (${key.type} ${fingerprint}) is marked @revoked in ${policy.file}:${verdict.line}`,
            { host: where },
          );
        case 'mismatch': {
          const expected = verdict.expected
            .map((e) => `${e.type} ${e.fingerprint} (${policy.file}:${e.line})`)
            .join(', ');
          throw new EngineError(
            'HOSTKEY_MISMATCH',
            `host key of ${where} does not match: it presented ${key.type} ${fingerprint}, expected ${expected}`,
            {
              host: where,
              hint: 'Someone may be intercepting the connection. If the host was reinstalled, check its new key out of band and replace the old line',
            },
          );
        }
        case 'unknown':
          if (policy.trustOnFirstUse === true) return { type: key.type, fingerprint, learnt: true, publicKey: blob };
          throw new EngineError(
            'HOSTKEY_UNKNOWN',
            `host ${where} is not in ${policy.file}; it presented ${key.type} ${fingerprint}`,
            {
              host: where,
              hint: 'Check the fingerprint on the host (ssh-keygen -lf) and pin it, add the key to known_hosts, or allow trust on first use',
            },
          );
      }
    },
    commit(accepted) {
      if (!accepted.learnt) return;
      const line = formatKnownHostLine(host, port, hostKeyFromBlob(accepted.publicKey), {
        hash: policy.hashNewEntries === true,
      });
      appendKnownHost(policy.file, line);
    },
  };
}
