/**
 * Guards the console against text that would drive the terminal (escape sequences from an
 * inventory file, a host's message, a certificate request): every string written to a guarded
 * stream has its control characters made visible, but for line breaks, tabs and colour. The
 * live progress display moves the cursor with {@link writeRaw}, after escaping what it shows.
 */
import { escapeTerminalKeepColour } from '@otopi/core';

type Write = NodeJS.WriteStream['write'];
// Symbol.for: the manager's front ends are built as self-contained modules, each with its own copy
// of this file; the registry gives every copy the same key.
const RAW = Symbol.for('otopi.rawWrite');
type Guarded = NodeJS.WriteStream & { [RAW]?: Write };

export function guardStream(stream: NodeJS.WriteStream): void {
  const s = stream as Guarded;
  if (s[RAW] !== undefined) return;
  const raw = s.write.bind(s) as Write;
  s[RAW] = raw;
  s.write = ((chunk: unknown, ...rest: unknown[]) =>
    (raw as (c: unknown, ...r: unknown[]) => boolean)(
      typeof chunk === 'string' ? escapeTerminalKeepColour(chunk) : chunk,
      ...rest,
    )) as Write;
}

/** Writes `text` as is, past the guard: only for the caller's own, already escaped output. */
export function writeRaw(stream: { write(text: string): unknown }, text: string): void {
  const raw = (stream as Guarded)[RAW];
  if (raw !== undefined) raw(text);
  else stream.write(text);
}
