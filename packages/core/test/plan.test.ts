import { describe, expect, it } from 'vitest';
import {
  buildPlan,
  formatPlanTable,
  isOtopiError,
  planToJson,
  Priority,
  type HandlerNode,
  type Stage,
} from '@otopi/core';

const node = (name: string, stage: Stage = 'misc', extra: Partial<HandlerNode> = {}): HandlerNode => ({
  name,
  stage,
  priority: Priority.DEFAULT,
  before: [],
  after: [],
  plugin: name.split('.').slice(0, -1).join('.') || 'test',
  ...extra,
});

const names = (nodes: readonly HandlerNode[]): string[] => nodes.map((n) => n.name);

function planError(nodes: HandlerNode[], options = {}): { code: string; message: string } {
  try {
    buildPlan(nodes, options);
  } catch (error) {
    if (isOtopiError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a planning error');
}

describe('buildPlan ordering', () => {
  it('orders by stage, then priority, then name', () => {
    const plan = buildPlan([
      node('z.late', 'closeup'),
      node('b.misc'),
      node('a.misc'),
      node('c.first', 'misc', { priority: Priority.FIRST }),
      node('y.boot', 'boot', { priority: Priority.LAST }),
    ]);
    expect(names(plan.handlers)).toEqual(['y.boot', 'c.first', 'a.misc', 'b.misc', 'z.late']);
  });

  it('gives the same plan whatever the registration order', () => {
    const nodes = Array.from({ length: 40 }, (_, i) =>
      node(`p${i % 7}.h${i}`, (['init', 'misc', 'closeup'] as const)[i % 3], {
        priority: (i % 4) * 1000,
        after: i >= 12 && i % 5 === 0 ? [`p${(i - 12) % 7}.h${i - 12}`] : [],
      }),
    );
    const reference = names(buildPlan(nodes).handlers);
    for (let seed = 1; seed < 6; seed++) {
      const shuffled = [...nodes].sort(
        (a, b) =>
          ((a.name.length * seed + a.name.charCodeAt(3)) % 7) - ((b.name.length * seed + b.name.charCodeAt(3)) % 7),
      );
      expect(names(buildPlan(shuffled).handlers)).toEqual(reference);
    }
  });

  it('honours after within equal priority but keeps other ties by name', () => {
    // otopi put 'a' behind every same-priority handler once it had an `after`; we keep it as
    // early as its dependency allows.
    const plan = buildPlan([node('x.a', 'misc', { after: ['x.c'] }), node('x.b'), node('x.c'), node('x.d')]);
    expect(names(plan.handlers)).toEqual(['x.b', 'x.c', 'x.a', 'x.d']);
  });

  it('honours before', () => {
    const plan = buildPlan([node('x.a'), node('x.z', 'misc', { before: ['x.a'] })]);
    expect(names(plan.handlers)).toEqual(['x.z', 'x.a']);
  });

  it('accepts a dependency on an earlier stage', () => {
    const plan = buildPlan([node('x.a', 'misc', { after: ['x.b'] }), node('x.b', 'init')]);
    expect(names(plan.handlers)).toEqual(['x.b', 'x.a']);
  });

  it('lists unknown before/after names when tolerated', () => {
    const plan = buildPlan([node('x.a', 'misc', { after: ['nobody.here'], before: ['nor.there'] })]);
    expect(plan.missing).toEqual([
      { handler: 'x.a', kind: 'before', reference: 'nor.there' },
      { handler: 'x.a', kind: 'after', reference: 'nobody.here' },
    ]);
  });
});

describe('buildPlan errors', () => {
  it('reports a cycle with its path', () => {
    const err = planError([
      node('x.a', 'misc', { after: ['x.c'] }),
      node('x.b', 'misc', { after: ['x.a'] }),
      node('x.c', 'misc', { after: ['x.b'] }),
      node('x.free'),
    ]);
    expect(err.code).toBe('PLAN_CYCLE');
    expect(err.message).toContain('x.a → x.b → x.c → x.a');
  });

  it('reports a two-handler cycle across init', () => {
    const err = planError([node('x.one', 'init', { after: ['x.two'] }), node('x.two', 'init', { after: ['x.one'] })]);
    expect(err.code).toBe('PLAN_CYCLE');
    expect(err.message).toMatch(/x\.one → x\.two → x\.one/);
  });

  it('reports duplicate names with both plugins', () => {
    const err = planError([node('x.a', 'misc', { plugin: 'first' }), node('x.a', 'init', { plugin: 'second' })]);
    expect(err.code).toBe('PLAN_DUPLICATE_NAME');
    expect(err.message).toContain("'first'");
    expect(err.message).toContain("'second'");
  });

  it('reports a dependency on a later stage', () => {
    const err = planError([node('x.a', 'init', { after: ['x.b'] }), node('x.b', 'misc')]);
    expect(err.code).toBe('PLAN_LATER_STAGE');
    expect(err.message).toContain("'x.a' (stage init)");
    expect(err.message).toContain('later stage misc');
  });

  it('reports before pointing to an earlier stage as a later-stage dependency', () => {
    const err = planError([node('x.a', 'misc', { before: ['x.b'] }), node('x.b', 'init')]);
    expect(err.code).toBe('PLAN_LATER_STAGE');
  });

  it('reports a dependency that contradicts priorities', () => {
    const err = planError([
      node('x.a', 'misc', { priority: Priority.FIRST, after: ['x.b'] }),
      node('x.b', 'misc', { priority: Priority.LAST }),
    ]);
    expect(err.code).toBe('PLAN_PRIORITY_CONFLICT');
    expect(err.message).toContain('x.a');
    expect(err.message).toContain('x.b');
  });

  it('reports unknown names when not tolerated', () => {
    const err = planError([node('x.a', 'misc', { after: ['x.missing'] })], { ignoreMissingReferences: false });
    expect(err.code).toBe('PLAN_UNKNOWN_REFERENCE');
    expect(err.message).toContain("'x.a' after 'x.missing'");
  });

  it('rejects an unknown stage and a non-integer priority', () => {
    expect(planError([node('x.a', 'nowhere' as Stage)]).code).toBe('PLAN_BAD_HANDLER');
    expect(planError([node('x.a', 'misc', { priority: 1.5 })]).code).toBe('PLAN_BAD_HANDLER');
  });
});

describe('plan dumps', () => {
  const plan = buildPlan([node('x.b', 'misc', { after: ['x.a'] }), node('x.a', 'init', { priority: Priority.HIGH })]);

  it('renders a table in run order', () => {
    const table = formatPlanTable(plan);
    const lines = table.trim().split('\n');
    expect(lines[0]).toMatch(/^#\s+STAGE\s+PRIORITY\s+HANDLER\s+ORDERING$/);
    expect(lines[1]).toMatch(/^1\s+init\s+2000\s+x\.a$/);
    expect(lines[2]).toMatch(/^2\s+misc\s+5000\s+x\.b\s+after x\.a$/);
  });

  it('renders JSON with wire stage ids', () => {
    const json = planToJson(buildPlan([node('x.c', 'transaction_end')]));
    expect(json.handlers[0]).toMatchObject({
      stage: 'transaction_end',
      wireStage: 'cleanup',
      priority: 5000,
      name: 'x.c',
    });
  });
});
