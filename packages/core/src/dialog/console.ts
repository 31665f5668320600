/**
 * Plain console output for the human dialect: log records as `[ INFO  ] text`, notes
 * indented. Colours only on a terminal. Questions are handled by the dialect that wraps it.
 */
import type { ConsoleRecord } from '../log/logger.js';

const COLOURS: Record<ConsoleRecord['level'], string> = {
  INFO: '\u001b[92m',
  WARNING: '\u001b[93m',
  ERROR: '\u001b[0;31m',
  FATAL: '\u001b[0;31m',
};
const RESET = '\u001b[0m';
const LABELS: Record<ConsoleRecord['level'], string> = {
  INFO: ' INFO  ',
  WARNING: 'WARNING',
  ERROR: ' ERROR ',
  FATAL: ' FATAL ',
};

export interface ConsoleWriter {
  write(text: string): void;
  readonly isTTY?: boolean;
}

export function formatRecord(record: ConsoleRecord, colour: boolean): string {
  const label = colour ? `${COLOURS[record.level]}${LABELS[record.level]}${RESET}` : LABELS[record.level];
  return `[${label}] ${record.message.replace(/\n/g, '\n          ')}\n`;
}

export function formatNote(text: string): string {
  return text
    .split('\n')
    .map((line) => (line.length === 0 ? '\n' : `          ${line}\n`))
    .join('');
}
