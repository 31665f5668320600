// A minimal ssh2 client for the integration tests, connecting exactly as a deploy tool would:
// key login and a pinned host key. Host state is then checked with labExec, never through here.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import type { LabHost } from '../lab/lab.js';

export interface SshResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** `SHA256:<base64 without padding>`, the format of `ssh-keygen -lf`. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export interface ConnectOptions {
  /** The fingerprint to pin; the host's own from hosts.json by default. */
  pin?: string;
  /** Receives every fingerprint the server presented, accepted or not. */
  seen?: string[];
  readyTimeout?: number;
}

export function connect(host: LabHost, opts: ConnectOptions = {}): Promise<Client> {
  const pin = opts.pin ?? host.hostKeyFingerprint;
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on('ready', () => {
        resolve(client);
      })
      .on('error', (err) => {
        client.end();
        reject(err);
      })
      .connect({
        host: host.address,
        port: host.port,
        username: host.user,
        privateKey: readFileSync(host.privateKeyPath),
        readyTimeout: opts.readyTimeout ?? 20_000,
        // Strict checking: anything but the pinned key ends the handshake before authentication.
        hostVerifier: (key: Buffer) => {
          const got = fingerprint(key);
          opts.seen?.push(got);
          return got === pin;
        },
      });
  });
}

export function run(client: Client, command: string): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) {
        reject(err);
        return;
      }
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      // A channel emits 'close' only once both stdout and stderr have been read.
      stream.on('data', (d: Buffer) => (stdout += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      stream.on('exit', (c: number | null) => {
        code = c;
      });
      stream.on('close', () => {
        resolve({ stdout, stderr, code });
      });
    });
  });
}

/** Connects, runs one command, disconnects. */
export async function sshRun(host: LabHost, command: string): Promise<SshResult> {
  const client = await connect(host);
  try {
    return await run(client, command);
  } finally {
    client.end();
  }
}
