/**
 * The engine's side of the wire: every line the driver sends goes through a `Replier`, which
 * writes it to the host, shows it in the transcript (a secret as a placeholder) and counts
 * round trips. Also where the failures of a dialog are collected (`FailureLog`).
 */
import {
  encodeValue,
  type DialogChannel,
  type DialogFailure,
  type DialogFailureCode,
  type WireValue,
} from './program.js';

/** How a value is shown in the transcript: as is, as a hidden answer, or as a setting (whose secrecy only the host knows). */
export type Shown = 'plain' | 'hidden' | 'setting';

export class Replier {
  private rounds = 0;
  private heardSinceSend = false;

  constructor(
    private readonly channel: DialogChannel,
    private readonly transcript: ((direction: 'in' | 'out', line: string) => void) | undefined,
  ) {}

  /** Round trips so far: how often a line was sent after the host had said something. */
  get roundTrips(): number {
    return this.rounds;
  }

  /** A line came from the host. */
  heard(line: string): void {
    this.heardSinceSend = true;
    this.transcript?.('in', line);
  }

  /** Sends a line; the transcript gets `shown` (a hidden answer's placeholder) instead. */
  send(line: string, shown: string = line): void {
    if (this.heardSinceSend) this.rounds += 1;
    this.heardSinceSend = false;
    this.transcript?.('out', shown);
    this.channel.send(line);
  }

  /**
   * A value: a hidden answer is `(hidden)` in the transcript; a setting's value is not shown
   * either, since only the host knows which of its keys are secret (a sensitive key named
   * nothing like a password).
   */
  sendValue(name: string, value: WireValue, multi: { boundary: string } | undefined, how: Shown): void {
    const mask = how === 'hidden' ? '(hidden)' : '(not shown)';
    if (multi !== undefined) {
      const lines = Array.isArray(value) ? value : value === null ? [] : String(value).split('\n');
      for (const line of lines) this.send(line, how === 'plain' ? line : mask);
      this.send(multi.boundary);
    } else {
      const line = `VALUE ${name}=${encodeValue(value)}`;
      const type = line.slice(`VALUE ${name}=`.length).split(':')[0]!;
      this.send(line, how === 'plain' ? line : how === 'hidden' ? mask : `VALUE ${name}=${type}:${mask}`);
    }
  }

  /** Closes the host's standard input: the host stops at its next question. */
  end(): void {
    this.channel.end();
  }
}

/** The failures of one dialog, in the order found, and whether one of them fails the customization. */
export class FailureLog {
  readonly list: DialogFailure[] = [];
  private stepFailed = false;

  /** A failure that makes the next customization prompt send `abort`. */
  fail(code: DialogFailureCode, message: string): void {
    this.list.push({ code, message });
    this.stepFailed = true;
  }

  /** A failure that ends the dialog by itself (the session is over or closed). */
  note(code: DialogFailureCode, message: string): void {
    this.list.push({ code, message });
  }

  /** Whether a step failed: the customization aborts. */
  get failed(): boolean {
    return this.stepFailed;
  }
}
