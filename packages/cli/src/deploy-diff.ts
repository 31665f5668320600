/**
 * What a dry run would change on a host, for the console: the changes, one a line, then the
 * diffs (files as unified diffs, packages and services as the host described them), indented
 * under the host's line. Colour (red `-`, green `+`, cyan `@@`, bold headers) only on a terminal;
 * the host's text is escaped first, so only these colours reach the terminal.
 */
import { colourDiffLine, escapeTerminalLine } from '@otopi/core';
import type { HostReport } from '@otopi/engine';

/** The lines under a host's result in a dry run; none when it would change nothing or never said. */
export function dryRunLines(report: Pick<HostReport, 'host' | 'changes' | 'diff'>, colour: boolean): string[] {
  const changes = report.changes ?? [];
  if (changes.length === 0) return [];
  // What the host sent is escaped (a file may hold control characters); the colours are ours.
  const e = escapeTerminalLine;
  const out = [`${e(report.host)}: would change ${changes.length === 1 ? '1 thing' : `${changes.length} things`}:`];
  out.push(...changes.map((c) => `  ${e(c)}`));
  if (report.diff !== undefined && report.diff !== '') {
    for (const line of report.diff.split('\n')) out.push(`    ${colour ? colourDiffLine(e(line)) : e(line)}`);
  }
  return out;
}
