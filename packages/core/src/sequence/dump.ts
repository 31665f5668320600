/**
 * The plan as a human table and as JSON. Both list handlers in run order.
 */
import type { HandlerNode, Plan } from './plan.js';
import { STAGE_INFO } from './stages.js';

export interface PlanJson {
  readonly handlers: readonly {
    readonly index: number;
    readonly stage: string;
    readonly wireStage: string;
    readonly priority: number;
    readonly name: string;
    readonly plugin: string;
    readonly before: readonly string[];
    readonly after: readonly string[];
  }[];
  readonly missing: Plan['missing'];
}

export function planToJson(plan: Plan<HandlerNode>): PlanJson {
  return {
    handlers: plan.handlers.map((h, index) => ({
      index,
      stage: h.stage,
      wireStage: STAGE_INFO[h.stage].wireId,
      priority: h.priority,
      name: h.name,
      plugin: h.plugin,
      before: h.before,
      after: h.after,
    })),
    missing: plan.missing,
  };
}

export function formatPlanTable(plan: Plan<HandlerNode>): string {
  const rows = plan.handlers.map((h, i) => [String(i + 1), h.stage, String(h.priority), h.name, deps(h)]);
  const header = ['#', 'STAGE', 'PRIORITY', 'HANDLER', 'ORDERING'];
  const widths = header.map((title, c) => Math.max(title.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c === 0 || c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  for (const m of plan.missing) out.push(`warning: '${m.handler}' ${m.kind} '${m.reference}' matches no handler`);
  return `${out.join('\n')}\n`;
}

function deps(h: HandlerNode): string {
  const parts: string[] = [];
  if (h.before.length > 0) parts.push(`before ${h.before.join(', ')}`);
  if (h.after.length > 0) parts.push(`after ${h.after.join(', ')}`);
  return parts.join('; ');
}
