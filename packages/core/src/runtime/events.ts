/**
 * Run events: what the runner reports as it walks the plan. Dialects turn them into
 * banners or `**%EventStart` lines; `CORE/eventsFile` writes them as JSON lines, each with
 * its time `at`, in the schema `otopi deploy --events` also follows (docs/events.schema.json,
 * version {@link EVENTS_SCHEMA_VERSION}): durations are `durationMs`, whole milliseconds.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Stage } from '../sequence/stages.js';
import type { Redactor } from '../log/redact.js';

export type HandlerResult = 'ok' | 'skipped' | 'failed' | 'aborted';

/** The version of the event schema (docs/events.schema.json), in every `run-start` event. */
export const EVENTS_SCHEMA_VERSION = 1;

export type RunEvent =
  | { readonly type: 'run-start'; readonly schemaVersion: typeof EVENTS_SCHEMA_VERSION; readonly handlers: number }
  | { readonly type: 'stage-start'; readonly stage: Stage; readonly description: string }
  | { readonly type: 'stage-end'; readonly stage: Stage; readonly durationMs: number }
  | { readonly type: 'stage-skip'; readonly stage: Stage }
  | { readonly type: 'handler-start'; readonly stage: Stage; readonly handler: string }
  | {
      readonly type: 'handler-end';
      readonly stage: Stage;
      readonly handler: string;
      readonly result: HandlerResult;
      readonly durationMs: number;
      readonly error?: { readonly code: string; readonly message: string };
    }
  | {
      readonly type: 'run-end';
      readonly exitCode: number;
      readonly error: boolean;
      readonly aborted: boolean;
      readonly durationMs: number;
      /** Why a run ended before it started (bad statements, a missing group): its code and message. */
      readonly failure?: { readonly code: string; readonly message: string };
    };

export type RunEventListener = (event: RunEvent) => void;

/**
 * Writes events as JSON lines (redacted) to a file, or for `-` to standard output (a human
 * run then shows its dialog on standard error) or, in the machine dialect, whose standard
 * output is the protocol, to standard error.
 */
export class JsonEventWriter {
  private readonly fd: number;
  private readonly own: boolean;

  constructor(
    target: string,
    private readonly redactor: Redactor,
    options: { readonly dashFd?: 1 | 2 } = {},
  ) {
    this.own = target !== '-';
    this.fd = this.own ? openSync(target, 'a', 0o600) : (options.dashFd ?? 1);
  }

  readonly listener: RunEventListener = (event) => {
    const line = this.redactor.redact(JSON.stringify({ at: new Date().toISOString(), ...event }));
    writeSync(this.fd, `${line}\n`);
  };

  close(): void {
    if (this.own) closeSync(this.fd);
  }
}
