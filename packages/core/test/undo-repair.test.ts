// Undo records that name a repair of their tool (dpkg, rpm): recovery checks the tool first,
// repairs it when a killed run left it interrupted, then undoes, and reports what it found.
// Real commands (sh, touch, rm) stand for the tool; the lab tests run the real dpkg and rpm
// (test/reliability/lab/package-kill.test.ts).
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recoverJournals } from '../src/transaction/journal-recovery.js';
import { Transaction, type TransactionElement } from '../src/transaction/transaction.js';
import type { UndoRepair } from '../src/transaction/undo-records.js';

let root: string;
let state: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'repair-'));
  state = join(root, 'state');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const element: TransactionElement = { description: 'packages (fake)', prepare() {}, commit() {}, abort() {} };

/** A "tool" that is interrupted while the file `broken` exists; its repair removes it. */
function toolRepair(fixable = true): UndoRepair {
  const broken = join(root, 'broken');
  return {
    tool: 'faketool',
    check: ['/bin/sh', '-c', `[ -e '${broken}' ] || exit 0; echo 'half-configured: pkg-a'; exit 1`],
    commands: [fixable ? ['rm', '-f', broken] : ['true']],
  };
}

async function killedWithRecord(repair: UndoRepair): Promise<string> {
  const installed = join(root, 'installed');
  const tx = new Transaction({ journalDir: state });
  await tx.append(element);
  await tx.prepare();
  // The undo refuses to run while the tool is interrupted, as apt-get does after a killed dpkg.
  const undo = `[ ! -e '${join(root, 'broken')}' ] || { echo 'E: dpkg was interrupted' >&2; exit 100; }; rm -f '${installed}'`;
  await tx.recordUndo(element, { description: 'packages (fake) changes', commands: [['/bin/sh', '-c', undo]], repair });
  writeFileSync(installed, 'x');
  // The run dies here, with the tool half way.
  writeFileSync(join(root, 'broken'), '');
  return installed;
}

describe('undo records with a repair of their tool', () => {
  it('repair the interrupted tool, then undo, and say what they found', async () => {
    const installed = await killedWithRecord(toolRepair());
    const warnings: string[] = [];
    const [report] = await recoverJournals(state, { log: { debug: () => undefined, warn: (m) => warnings.push(m) } });
    expect(report).toMatchObject({ outcome: 'rolled-back', errors: [], undone: ['packages (fake) changes'] });
    expect(report?.repaired).toEqual([
      `faketool was interrupted (half-configured: pkg-a); repaired with rm -f ${join(root, 'broken')}`,
    ]);
    expect(warnings.join('\n')).toContain('faketool was left interrupted by the killed run: half-configured: pkg-a');
    expect(existsSync(installed)).toBe(false);
    expect(readdirSync(state).filter((n) => n.endsWith('.journal'))).toEqual([]);
  });

  it('leave a healthy tool alone', async () => {
    const installed = await killedWithRecord(toolRepair());
    rmSync(join(root, 'broken'));
    const [report] = await recoverJournals(state);
    expect(report).toMatchObject({ outcome: 'rolled-back', repaired: [], errors: [] });
    expect(existsSync(installed)).toBe(false);
  });

  it('keep the journal, and undo nothing, when the repair does not help', async () => {
    const installed = await killedWithRecord(toolRepair(false));
    const [report] = await recoverJournals(state);
    expect(report?.outcome).toBe('failed');
    expect(report?.errors).toEqual(['faketool is still interrupted after its repair: half-configured: pkg-a']);
    expect(existsSync(installed)).toBe(true);
    expect(readdirSync(state).filter((n) => n.endsWith('.journal'))).toHaveLength(1);
    // Fixed by hand (or by a later repair), the next recovery finishes the undo.
    rmSync(join(root, 'broken'));
    const [again] = await recoverJournals(state);
    expect(again).toMatchObject({ outcome: 'rolled-back', undone: ['packages (fake) changes'] });
    expect(existsSync(installed)).toBe(false);
  });

  it('run every repair step even when one fails, and judge by the check afterwards', async () => {
    // As `dpkg --configure -a` exits 1 on a package that needs a reinstall, which the next
    // step (`apt-get -f install`) does.
    const broken = join(root, 'broken');
    const repair: UndoRepair = {
      ...toolRepair(),
      commands: [
        ['/bin/sh', '-c', "echo 'pkg-b: reinstall it before attempting configuration' >&2; exit 1"],
        ['rm', '-f', broken],
      ],
    };
    const installed = await killedWithRecord(repair);
    const warnings: string[] = [];
    const [report] = await recoverJournals(state, { log: { debug: () => undefined, warn: (m) => warnings.push(m) } });
    expect(report).toMatchObject({ outcome: 'rolled-back', errors: [], undone: ['packages (fake) changes'] });
    expect(warnings.join('\n')).toMatch(/exited 1: pkg-b: reinstall it before attempting configuration; going on/);
    expect(existsSync(installed)).toBe(false);
  });
});
