/**
 * Run events: what the runner reports as it walks the plan. Dialects turn them into
 * banners or `**%EventStart` lines; `CORE/eventsFile` writes them as JSON lines.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Stage } from '../sequence/stages.js';
import type { Redactor } from '../log/redact.js';

export type HandlerResult = 'ok' | 'skipped' | 'failed' | 'aborted';

export type RunEvent =
  | { readonly type: 'run-start'; readonly handlers: number }
  | { readonly type: 'stage-start'; readonly stage: Stage; readonly description: string }
  | { readonly type: 'stage-end'; readonly stage: Stage; readonly ms: number }
  | { readonly type: 'stage-skip'; readonly stage: Stage }
  | { readonly type: 'handler-start'; readonly stage: Stage; readonly handler: string }
  | {
      readonly type: 'handler-end';
      readonly stage: Stage;
      readonly handler: string;
      readonly result: HandlerResult;
      readonly ms: number;
      readonly error?: { readonly code: string; readonly message: string };
    }
  | {
      readonly type: 'run-end';
      readonly exitCode: number;
      readonly error: boolean;
      readonly aborted: boolean;
      readonly ms: number;
      /** Why a run ended before it started (bad statements, a missing group): its code and message. */
      readonly failure?: { readonly code: string; readonly message: string };
    };

export type RunEventListener = (event: RunEvent) => void;

/** Writes events as JSON lines (redacted) to a file, or to standard error for `-`. */
export class JsonEventWriter {
  private readonly fd: number;
  private readonly own: boolean;

  constructor(
    target: string,
    private readonly redactor: Redactor,
  ) {
    this.own = target !== '-';
    this.fd = this.own ? openSync(target, 'a', 0o600) : 2;
  }

  readonly listener: RunEventListener = (event) => {
    const line = this.redactor.redact(JSON.stringify({ time: new Date().toISOString(), ...event }));
    writeSync(this.fd, `${line}\n`);
  };

  close(): void {
    if (this.own) closeSync(this.fd);
  }
}
