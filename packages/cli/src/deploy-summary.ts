/**
 * The table `otopi deploy` prints at the end: one row per host (result, stage, duration,
 * bytes sent, log), then why each host that did not install failed, or what it still needs.
 */
import type { DeployReport } from '@otopi/engine';
import { formatBytes, formatSeconds } from './deploy-progress.js';

export function formatSummary(report: DeployReport, options: { dryRun?: boolean } = {}): string {
  const header = ['HOST', 'RESULT', 'STAGE', 'DURATION', 'SENT', 'LOG'];
  const rows = report.hosts.map((h) => [
    h.host,
    h.result,
    h.stage,
    formatSeconds(h.durationMs),
    formatBytes(h.bytes.total),
    h.log ?? '-',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : i === 3 || i === 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ');
  const { installed, incomplete, reboot, failed, aborted } = report.counts;
  const total = report.hosts.length;
  const out = [line(header), ...rows.map(line), ''];
  // incomplete and reboot only show when a group reports them, so base-group summaries read as before.
  const finer = `${incomplete > 0 ? `, ${incomplete} incomplete` : ''}${reboot > 0 ? `, ${reboot} reboot` : ''}`;
  out.push(
    `${total} host${total === 1 ? '' : 's'}: ${installed} installed${finer}, ${failed} failed, ${aborted} aborted in ${formatSeconds(report.durationMs)}` +
      `${options.dryRun === true ? ' (dry run: nothing was changed)' : ''}`,
  );
  for (const h of report.hosts) {
    // What a group found on an installed host (host-mgmt: the updates it lists).
    if (h.result === 'installed') {
      if (h.details.length > 0) out.push(`${h.host}: ${h.details.join('; ')}`);
      continue;
    }
    if (h.result === 'incomplete' || h.result === 'reboot') {
      out.push(
        `${h.host}: ${h.result === 'reboot' ? 'installed, needs a reboot' : 'installed, incomplete'}: ${h.details.join('; ')}`,
      );
      continue;
    }
    out.push(`${h.host}: ${h.result} at ${h.stage}: ${h.cause ?? 'unknown cause'}`);
  }
  return `${out.join('\n')}\n`;
}
