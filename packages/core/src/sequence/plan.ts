/**
 * Planning: turn registered handlers into one ordered run plan. Pure and deterministic:
 * the same handlers give the same plan, whatever order they were registered in.
 *
 * Order = stage, then priority, then `before`/`after`, then full name. That is a
 * topological sort with a min-heap keyed by (stage, priority, name), so ties always break
 * by name. otopi broke ties by name only within a toposort layer, which let one `after=`
 * push a handler behind every other handler of its priority; we do not.
 */
import { OtopiError } from '../errors.js';
import { STAGE_INFO, STAGES, type Stage } from './stages.js';

/** What the planner needs of a handler; the runner adds what it needs on top. */
export interface HandlerNode {
  /** Full name, unique in a run, e.g. `otopi.core.log.init`. */
  readonly name: string;
  readonly stage: Stage;
  readonly priority: number;
  /** Full names of handlers this one must run before. */
  readonly before: readonly string[];
  /** Full names of handlers this one must run after. */
  readonly after: readonly string[];
  /** Plugin that registered it (for error messages). */
  readonly plugin: string;
}

export interface MissingReference {
  readonly handler: string;
  readonly kind: 'before' | 'after';
  readonly reference: string;
}

export interface Plan<H extends HandlerNode = HandlerNode> {
  /** Every handler in run order. */
  readonly handlers: readonly H[];
  /** `before`/`after` names that match no handler (ignored when planning allowed it). */
  readonly missing: readonly MissingReference[];
}

export interface PlanOptions {
  /**
   * Whether a `before`/`after` name that matches no handler is tolerated (it is then
   * listed in `plan.missing`). Default true, as otopi's `CORE/ignoreMissingBeforeAfter`.
   */
  readonly ignoreMissingReferences?: boolean;
}

export function buildPlan<H extends HandlerNode>(nodes: readonly H[], options: PlanOptions = {}): Plan<H> {
  const byName = new Map<string, H>();
  for (const node of nodes) {
    checkNode(node);
    const twin = byName.get(node.name);
    if (twin !== undefined) {
      throw new OtopiError(
        'PLAN_DUPLICATE_NAME',
        `duplicate handler name '${node.name}' (registered by plugins '${twin.plugin}' and '${node.plugin}')`,
        { handler: node.name, hint: 'Handler names must be unique in a run; rename one of them.' },
      );
    }
    byName.set(node.name, node);
  }

  // Edges u -> v mean "u runs before v".
  const successors = new Map<string, string[]>();
  const indegree = new Map<string, number>();
  for (const name of byName.keys()) {
    successors.set(name, []);
    indegree.set(name, 0);
  }
  const missing: MissingReference[] = [];
  const addEdge = (from: H, to: H, declaredBy: H, kind: 'before' | 'after'): void => {
    const fromStage = STAGE_INFO[from.stage].index;
    const toStage = STAGE_INFO[to.stage].index;
    if (fromStage > toStage) {
      throw new OtopiError(
        'PLAN_LATER_STAGE',
        `handler '${to.name}' (stage ${to.stage}) must run after '${from.name}', which is in the later stage ${from.stage}`,
        { handler: declaredBy.name, stage: declaredBy.stage, hint: `Fix the '${kind}' list of '${declaredBy.name}'.` },
      );
    }
    if (fromStage < toStage) return; // satisfied by stage order already
    if (from.priority > to.priority) {
      throw new OtopiError(
        'PLAN_PRIORITY_CONFLICT',
        `handler '${to.name}' (priority ${to.priority}) must run after '${from.name}' (priority ${from.priority}), ` +
          `but priorities require the opposite order in stage ${to.stage}`,
        { handler: declaredBy.name, stage: declaredBy.stage, hint: 'Align the priorities or drop the dependency.' },
      );
    }
    successors.get(from.name)!.push(to.name);
    indegree.set(to.name, indegree.get(to.name)! + 1);
  };
  for (const node of byName.values()) {
    for (const [kind, refs] of [
      ['before', node.before],
      ['after', node.after],
    ] as const) {
      for (const ref of refs) {
        const other = byName.get(ref);
        if (other === undefined) {
          missing.push({ handler: node.name, kind, reference: ref });
          continue;
        }
        if (kind === 'before') addEdge(node, other, node, kind);
        else addEdge(other, node, node, kind);
      }
    }
  }
  if (missing.length > 0 && options.ignoreMissingReferences === false) {
    const first = missing[0]!;
    const list = missing.map((m) => `'${m.handler}' ${m.kind} '${m.reference}'`).join(', ');
    throw new OtopiError('PLAN_UNKNOWN_REFERENCE', `unknown before/after names: ${list}`, {
      handler: first.handler,
      hint: 'Fix the names, or set CORE/ignoreMissingBeforeAfter=bool:True to tolerate them.',
    });
  }

  const heap = new MinHeap<H>(compareNodes);
  for (const node of byName.values()) if (indegree.get(node.name) === 0) heap.push(node);
  const order: H[] = [];
  while (heap.size > 0) {
    const node = heap.pop();
    order.push(node);
    for (const next of successors.get(node.name)!) {
      const left = indegree.get(next)! - 1;
      indegree.set(next, left);
      if (left === 0) heap.push(byName.get(next)!);
    }
  }
  if (order.length < byName.size) {
    const cycle = findCycle(successors, indegree);
    throw new OtopiError('PLAN_CYCLE', `dependency cycle: ${cycle.join(' → ')}`, {
      handler: cycle[0]!,
      hint: 'Remove one of the before/after links on this path.',
    });
  }
  return { handlers: order, missing };
}

function checkNode(node: HandlerNode): void {
  const bad = (why: string): never => {
    throw new OtopiError('PLAN_BAD_HANDLER', `handler '${node.name}' of plugin '${node.plugin}': ${why}`, {
      handler: node.name,
    });
  };
  if (typeof node.name !== 'string' || node.name.length === 0) bad('a name is required');
  if (!(STAGES as readonly string[]).includes(node.stage)) bad(`unknown stage '${String(node.stage)}'`);
  if (!Number.isInteger(node.priority)) bad(`priority must be an integer, got ${String(node.priority)}`);
}

export function compareNodes(a: HandlerNode, b: HandlerNode): number {
  return (
    STAGE_INFO[a.stage].index - STAGE_INFO[b.stage].index ||
    a.priority - b.priority ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

/** A cycle among the nodes Kahn's algorithm could not emit, as a closed path. */
function findCycle(successors: Map<string, string[]>, indegree: Map<string, number>): string[] {
  const stuck = [...indegree.entries()]
    .filter(([, d]) => d > 0)
    .map(([n]) => n)
    .sort();
  const stuckSet = new Set(stuck);
  const onPath = new Map<string, number>();
  const path: string[] = [];
  const done = new Set<string>();
  const visit = (name: string): string[] | undefined => {
    onPath.set(name, path.length);
    path.push(name);
    for (const next of [...successors.get(name)!].sort()) {
      if (!stuckSet.has(next) || done.has(next)) continue;
      const at = onPath.get(next);
      if (at !== undefined) return [...path.slice(at), next];
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    onPath.delete(name);
    done.add(name);
    return undefined;
  };
  for (const start of stuck) {
    if (done.has(start)) continue;
    const found = visit(start);
    if (found) return found;
  }
  return stuck; // unreachable: leftover nodes always contain a cycle
}

class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}
  get size(): number {
    return this.items.length;
  }
  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.less(items[i]!, items[parent]!) >= 0) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): T {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(items[l]!, items[m]!) < 0) m = l;
        if (r < items.length && this.less(items[r]!, items[m]!) < 0) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
}
