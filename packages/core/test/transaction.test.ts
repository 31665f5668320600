import { describe, expect, it } from 'vitest';
import { isOtopiError, OtopiError } from '../src/errors.js';
import { Transaction, type TransactionElement } from '../src/transaction/transaction.js';

interface Fake extends TransactionElement {
  readonly name: string;
}

/** An element that records each call in `calls` and fails where told. */
function fake(
  name: string,
  calls: string[],
  fail: { prepare?: boolean; commit?: boolean; abort?: boolean; rollback?: boolean | 'none' } = {},
): Fake {
  const step = (what: string, shouldFail: boolean | undefined) => async (): Promise<void> => {
    await Promise.resolve();
    calls.push(`${what} ${name}`);
    if (shouldFail === true) throw new Error(`${what} ${name} broke`);
  };
  const el: Fake = {
    name,
    description: `fake ${name}`,
    prepare: step('prepare', fail.prepare),
    commit: step('commit', fail.commit),
    abort: step('abort', fail.abort),
    dryRun: () => `would do ${name}\n`,
  };
  return fail.rollback === 'none' ? el : { ...el, rollback: step('rollback', fail.rollback === true) };
}

function memoryLog(): { lines: string[]; debug(m: string): void; warn(m: string): void } {
  const lines: string[] = [];
  return { lines, debug: () => undefined, warn: (m) => lines.push(m) };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isOtopiError(error) ? error.code : `not an OtopiError: ${String(error)}`;
  }
  return 'no error';
}

describe('Transaction', () => {
  it('prepares and commits in append order', async () => {
    const calls: string[] = [];
    const t = new Transaction({ elements: [fake('a', calls), fake('b', calls)] });
    await t.append(fake('c', calls));
    expect(t.state).toBe('new');
    await t.prepare();
    expect(t.state).toBe('prepared');
    await t.commit();
    expect(t.state).toBe('committed');
    expect(calls).toEqual(['prepare a', 'prepare b', 'prepare c', 'commit a', 'commit b', 'commit c']);
  });

  it('prepares an element appended after prepare right away, and one appended while preparing', async () => {
    const calls: string[] = [];
    const t = new Transaction();
    const late = fake('late', calls);
    const spawning: TransactionElement = {
      description: 'spawner',
      prepare: async () => {
        calls.push('prepare spawner');
        await t.append(late);
      },
      commit: () => undefined,
      abort: () => undefined,
    };
    await t.append(spawning);
    await t.prepare();
    expect(calls).toEqual(['prepare spawner', 'prepare late']);
    await t.append(fake('after', calls));
    expect(calls.at(-1)).toBe('prepare after');
    expect(t.describe()).toEqual(['spawner', 'fake late', 'fake after']);
  });

  it('does not add an element whose immediate prepare fails, and stays prepared', async () => {
    const calls: string[] = [];
    const t = new Transaction({ elements: [fake('a', calls)] });
    await t.prepare();
    const error = await t.append(fake('bad', calls, { prepare: true })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OtopiError);
    expect((error as OtopiError).code).toBe('TRANSACTION_PREPARE');
    expect((error as OtopiError).message).toContain('fake bad');
    expect(t.state).toBe('prepared');
    expect(t.describe()).toEqual(['fake a']);
    expect(calls).toEqual(['prepare a', 'prepare bad', 'abort bad']);
  });

  it('on a prepare failure aborts what was prepared, newest first, and never prepares the rest', async () => {
    const calls: string[] = [];
    const t = new Transaction({
      elements: [fake('a', calls), fake('b', calls), fake('c', calls, { prepare: true }), fake('d', calls)],
    });
    const error = await t.prepare().catch((e: unknown) => e);
    expect(isOtopiError(error, 'TRANSACTION_PREPARE')).toBe(true);
    expect((error as OtopiError).message).toBe('Cannot prepare fake c: prepare c broke');
    expect((error as OtopiError).cause).toBeInstanceOf(Error);
    expect(calls).toEqual(['prepare a', 'prepare b', 'prepare c', 'abort c', 'abort b', 'abort a']);
    expect(t.state).toBe('failed');
    expect(await codeOf(t.commit())).toBe('TRANSACTION_STATE');
    await t.abort();
    expect(calls).toHaveLength(6);
  });

  it('refuses to commit unless prepared', async () => {
    const t = new Transaction({ elements: [fake('a', [])] });
    expect(await codeOf(t.commit())).toBe('TRANSACTION_STATE');
    await t.prepare();
    expect(await codeOf(t.prepare())).toBe('TRANSACTION_STATE');
    await t.commit();
    expect(await codeOf(t.commit())).toBe('TRANSACTION_STATE');
    expect(await codeOf(t.append(fake('x', [])))).toBe('TRANSACTION_STATE');
  });

  it('on a commit failure aborts the rest and rolls back the committed ones, newest first', async () => {
    const calls: string[] = [];
    const log = memoryLog();
    const t = new Transaction({
      log,
      elements: [
        fake('a', calls),
        fake('b', calls, { rollback: 'none' }),
        fake('c', calls),
        fake('d', calls, { commit: true }),
        fake('e', calls),
      ],
    });
    await t.prepare();
    calls.length = 0;
    const error = await t.commit().catch((e: unknown) => e);
    expect(isOtopiError(error, 'TRANSACTION_COMMIT')).toBe(true);
    expect((error as OtopiError).message).toBe(
      'Cannot commit fake d: commit d broke (rolled back 3 committed element(s))',
    );
    expect(calls).toEqual([
      'commit a',
      'commit b',
      'commit c',
      'commit d',
      'abort e',
      'abort d',
      'rollback c',
      'rollback a',
    ]);
    expect(log.lines).toEqual(['Cannot roll back fake b: it does not support rollback; it stays committed']);
    expect(t.state).toBe('failed');
    await t.abort();
    expect(calls).toHaveLength(8);
  });

  it('logs abort and rollback errors instead of throwing them', async () => {
    const calls: string[] = [];
    const log = memoryLog();
    const t = new Transaction({ log, elements: [fake('a', calls, { abort: true }), fake('b', calls)] });
    await t.prepare();
    await t.abort();
    expect(t.state).toBe('aborted');
    expect(calls).toEqual(['prepare a', 'prepare b', 'abort b', 'abort a']);
    expect(log.lines).toEqual(['Aborting fake a failed: abort a broke']);
    await t.abort();
    expect(calls).toHaveLength(4);

    const t2 = new Transaction({
      log,
      elements: [fake('x', calls, { rollback: true }), fake('y', calls, { commit: true })],
    });
    await t2.prepare();
    const error = await t2.commit().catch((e: unknown) => e);
    expect((error as OtopiError).message).toContain('1 undo step(s) failed');
    expect(log.lines.at(-1)).toBe('Rolling back fake x failed: rollback x broke');
  });

  it('abort after commit does nothing', async () => {
    const calls: string[] = [];
    const t = new Transaction({ elements: [fake('a', calls)] });
    await t.prepare();
    await t.commit();
    await t.abort();
    expect(t.state).toBe('committed');
    expect(calls).toEqual(['prepare a', 'commit a']);
  });

  it('serialises concurrent calls: an abort queued behind a commit finds it committed', async () => {
    const calls: string[] = [];
    const t = new Transaction({ elements: [fake('a', calls), fake('b', calls)] });
    const prepared = t.prepare();
    const second = t.prepare();
    await prepared;
    expect(await codeOf(second)).toBe('TRANSACTION_STATE');
    await Promise.all([t.commit(), t.abort()]);
    expect(t.state).toBe('committed');
    expect(calls).toEqual(['prepare a', 'prepare b', 'commit a', 'commit b']);
  });

  it('describes itself and collects dry runs', async () => {
    const silent: TransactionElement = {
      description: 'opaque step',
      prepare: () => undefined,
      commit: () => undefined,
      abort: () => undefined,
    };
    const idle: TransactionElement = { ...silent, description: 'idle', dryRun: () => '' };
    const t = new Transaction({ elements: [fake('a', []), silent, idle] });
    expect(String(t)).toBe('[fake a, opaque step, idle]');
    expect(await t.dryRun()).toBe('# fake a\nwould do a\n# opaque step\n');
    expect(await new Transaction({ elements: [idle] }).dryRun()).toBe('');
  });

  it('reports modified files only after commit', async () => {
    const el: TransactionElement = { ...fake('a', []), modifiedFiles: () => ['/etc/a'] };
    const t = new Transaction({ elements: [el] });
    await t.prepare();
    expect(t.modifiedFiles).toEqual([]);
    await t.commit();
    expect(t.modifiedFiles).toEqual(['/etc/a']);
  });
});
