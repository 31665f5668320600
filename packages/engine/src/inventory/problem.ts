/** Inventory errors: a code, and the file, line, host and field they are about. */
import { EngineError } from '../errors.js';
import type { HostFieldName } from './schema.js';

/** Where a problem is: file, line, host, field. */
export interface Place {
  readonly file: string;
  readonly line?: number | undefined;
  readonly host?: string | undefined;
  readonly field?: string | undefined;
}

export function problem(
  code: 'INVENTORY_SYNTAX' | 'INVENTORY_INVALID' | 'INVENTORY_INSECURE' | 'SECRET_UNAVAILABLE',
  place: Place,
  message: string,
  hint?: string,
): EngineError {
  const where = `${place.file}${place.line === undefined ? '' : `:${place.line}`}`;
  const who = place.host === undefined ? '' : `host ${place.host}: `;
  const what = place.field === undefined ? '' : `${place.field}: `;
  return new EngineError(code, `${where}: ${who}${what}${message}`, {
    file: place.file,
    ...(place.line === undefined ? {} : { line: place.line }),
    ...(place.host === undefined ? {} : { host: place.host }),
    ...(place.field === undefined ? {} : { field: place.field }),
    ...(hint === undefined ? {} : { hint }),
  });
}

/** Where a field of the host being read is: its line when it has one, else the section's. */
export type At = (field: HostFieldName) => Place;
