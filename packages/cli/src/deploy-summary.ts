/**
 * The table `otopi deploy` prints at the end: one row per host (result, stage, duration,
 * bytes sent, log), then why each host that did not install failed, or what it still needs.
 */
import type { DeployReport, InventoryHost } from '@otopi/engine';
import { formatBytes, formatSeconds } from './deploy-progress.js';

export function formatSummary(
  report: DeployReport,
  options: { dryRun?: boolean; warnings?: readonly string[] } = {},
): string {
  const header = ['HOST', 'RESULT', 'CHANGED', 'STAGE', 'DURATION', 'SENT', 'LOG'];
  const rows = report.hosts.map((h) => [
    h.host,
    h.result,
    changedWord(h.changed, options.dryRun === true),
    h.stage,
    formatSeconds(h.durationMs),
    formatBytes(h.bytes.total),
    h.log ?? '-',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : i === 4 || i === 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ');
  const { installed, incomplete, reboot, failed, aborted } = report.counts;
  const total = report.hosts.length;
  const out = [line(header), ...rows.map(line), ''];
  // incomplete and reboot only show when a group reports them, so base-group summaries read as before.
  const finer = `${incomplete > 0 ? `, ${incomplete} incomplete` : ''}${reboot > 0 ? `, ${reboot} reboot` : ''}`;
  // A recap: how the hosts ended, then how many changed something (a converged rerun: 0 changed).
  const said = report.hosts.filter((h) => h.changed !== undefined).length;
  const changes =
    said === 0
      ? ''
      : options.dryRun === true
        ? `; ${report.changed} would change, ${said - report.changed} would not`
        : `; ${report.changed} changed, ${said - report.changed} unchanged`;
  out.push(
    `${total} host${total === 1 ? '' : 's'}: ${installed} installed${finer}, ${failed} failed, ${aborted} aborted${changes} in ${formatSeconds(report.durationMs)}` +
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
  out.push(...(options.warnings ?? []));
  return `${out.join('\n')}\n`;
}

/** `--list-hosts`: the hosts a command would deploy to, with their login and groups; nothing connects. */
export function formatHostList(
  hosts: readonly InventoryHost[],
  groups: Readonly<Record<string, readonly string[]>>,
): string {
  const rows = hosts.map((h) => {
    const member = Object.entries(groups)
      .filter(([g, names]) => g !== 'all' && names.includes(h.name))
      .map(([g]) => g);
    return [h.name, `${h.user}@${h.address}${h.port === 22 ? '' : `:${h.port}`}`, member.join(',') || '-'];
  });
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => `  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]}`.trimEnd());
  return `${hosts.length} host${hosts.length === 1 ? '' : 's'}:\n${lines.join('\n')}\n`;
}

/** The CHANGED cell: what the host said, or `-` when it never got to say (it failed before). */
export function changedWord(changed: boolean | undefined, dryRun: boolean): string {
  if (changed === undefined) return '-';
  if (dryRun) return changed ? 'would change' : 'no change';
  return changed ? 'changed' : 'unchanged';
}
