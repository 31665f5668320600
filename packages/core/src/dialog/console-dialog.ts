/**
 * A dialog that only prints (human format). Used by the CLI until an interactive dialect is
 * chosen, and for runs that must not ask anything.
 */
import type { EnvValue } from '../env/codec.js';
import { formatTypedValue } from '../env/codec.js';
import type { ConsoleRecord } from '../log/logger.js';
import { formatNote, formatRecord, type ConsoleWriter } from './console.js';
import { NullDialog } from './null-dialog.js';

export class ConsoleDialog extends NullDialog {
  private closed = false;

  constructor(private readonly out: ConsoleWriter) {
    super();
  }

  override note(text: string): void {
    if (!this.closed) this.out.write(formatNote(text));
  }

  override log(record: ConsoleRecord): void {
    if (!this.closed) this.out.write(formatRecord(record, this.out.isTTY === true));
  }

  override displayValue(name: string, value: EnvValue): void {
    if (!this.closed) this.out.write(`D:VALUE ${name}=${formatTypedValue(value)}\n`);
  }

  override displayMultiString(name: string, lines: readonly string[]): void {
    if (!this.closed) this.out.write(`D:MULTI-STRING ${name}\n${lines.map((l) => `${l}\n`).join('')}`);
  }

  override terminate(): void {
    this.closed = true;
  }
}
