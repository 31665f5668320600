/**
 * What a many-host deploy reports while it runs and at the end. Every event is plain JSON
 * (the `--events` stream writes one per line) and has passed the run's redactor: no password
 * or passphrase can be in one.
 */
import type { ArtifactKind } from '../deploy/bootstrap.js';

/**
 * How a host's deploy ended. `incomplete`: it installed but needs a manual step (a group's
 * program says so, e.g. host-deploy's certificate enrollment in request mode); `reboot`: it
 * installed and reboots to finish; `aborted`: the host rolled back on request (an `abort`, a
 * cancelled run).
 */
export type HostResultKind = 'installed' | 'incomplete' | 'reboot' | 'failed' | 'aborted';

/** Every result, in the order summaries list them. */
export const HOST_RESULT_KINDS: readonly HostResultKind[] = ['installed', 'incomplete', 'reboot', 'failed', 'aborted'];

/** Bytes written to a host: the exec command, artifacts, dialog replies, and their sum. */
export interface SentBytes {
  readonly command: number;
  readonly payload: number;
  readonly dialog: number;
  readonly total: number;
}

export interface HostReport {
  readonly host: string;
  /** `address` or `address:port`. */
  readonly address: string;
  readonly result: HostResultKind;
  /**
   * Where the host was when it ended: the last stage it announced (`Misc configuration`), or
   * `SSH connection` / `Bundle transfer` before the installer ran, or `not started`.
   */
  readonly stage: string;
  /** The handler that was running when the host failed, else the last one it started (`misc/sample.write.write`). */
  readonly lastHandler?: string;
  /** The first reason the host did not install, for a failed or aborted host. */
  readonly cause?: string;
  /** Every reason found, first one included (standard error, exit code, host errors, driver findings). */
  readonly details: readonly string[];
  readonly exitCode: number | null;
  readonly durationMs: number;
  readonly bytes: SentBytes;
  /**
   * Round trips of the machine dialog: how often the engine waited for the host before it
   * sent (undefined when the dialog never started).
   */
  readonly roundTrips?: number;
  /** What the host lacked and received; undefined when it never said. */
  readonly shipped?: readonly ArtifactKind[];
  /** The host key the connection accepted. */
  readonly hostKey?: { readonly type: string; readonly fingerprint: string; readonly learnt: boolean };
  /** The engine-side log of this host: transcript and the host's own log. */
  readonly log?: string;
  /** The host's log file on the host (`CORE/logFileName`), when it said. */
  readonly hostLogFile?: string;
  /** What the groups' programs learnt about the host (host-deploy: `vdsmId`). */
  readonly facts?: Readonly<Record<string, string>>;
}

interface At {
  /** ISO 8601 time of the event. */
  readonly at: string;
}

export type DeployEvent = At &
  (
    | {
        readonly type: 'run-start';
        readonly hosts: readonly string[];
        readonly parallel: number;
        readonly dryRun: boolean;
        readonly groups: readonly string[];
        readonly bundle: { readonly sha256: string; readonly size: number };
        readonly runtime?: { readonly sha256: string; readonly size: number; readonly nodeVersion: string };
        readonly logDir: string;
      }
    | { readonly type: 'host-start'; readonly host: string; readonly address: string }
    | {
        readonly type: 'connected';
        readonly host: string;
        readonly keyType: string;
        readonly fingerprint: string;
        /** The key was unknown and is now recorded (trust on first use). */
        readonly learnt: boolean;
      }
    | {
        readonly type: 'shipped';
        readonly host: string;
        readonly artifacts: readonly ArtifactKind[];
        readonly bytes: number;
      }
    | { readonly type: 'stage'; readonly host: string; readonly stage: string }
    | { readonly type: 'log'; readonly host: string; readonly level: string; readonly text: string }
    | ({ readonly type: 'host-end' } & HostReport)
    | {
        readonly type: 'run-end';
        readonly ok: boolean;
        readonly counts: Readonly<Record<HostResultKind, number>>;
        readonly durationMs: number;
        /** The engine process: peak resident memory and CPU time so far. */
        readonly engine: { readonly maxRssKb: number; readonly userMs: number; readonly systemMs: number };
      }
  );

/** An event before its time stamp is added. */
export type DeployEventInput = DeployEvent extends infer E ? (E extends At ? Omit<E, 'at'> : never) : never;
