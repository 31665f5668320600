/**
 * Undo records of a transaction journal (see `journal.ts`): commands that undo a change
 * made outside the files (packages), run by recovery at the next start, newest record first.
 *
 * A record may name a **repair** of the tool its commands use: a check that says whether a
 * killed run left the tool itself interrupted (dpkg half-configured, rpm with a half-done
 * transaction), and the commands that finish or clean up what the tool left. Recovery runs
 * the check before the record's commands, and the repair when the check finds something, so
 * the undo never meets "dpkg was interrupted, you must manually run 'dpkg --configure -a'".
 * What the check found and what the repair did is reported (`repaired`), so the run says it.
 */
import { spawn } from 'node:child_process';
import { errorMessage } from '../errors.js';
import type { TransactionLog } from './element.js';

/** A health check of a tool and its repair, run by recovery before an undo record's commands. */
export interface UndoRepair {
  /** The tool looked after, for messages (`dpkg`, `rpm`). */
  readonly tool: string;
  /**
   * Argv, run without a shell: exits 0 when the tool is fine; otherwise prints what is wrong
   * (a line or a few) and exits non-zero.
   */
  readonly check: readonly string[];
  /** Argv lists that repair it, in order. */
  readonly commands: readonly (readonly string[])[];
}

/** Commands that undo a change made outside the files (packages), for recovery to run. */
export interface UndoRecord {
  /** One line naming the change, for logs and reports. */
  readonly description: string;
  /** Argv lists, run without a shell, in order; the first word is looked up in PATH. */
  readonly commands: readonly (readonly string[])[];
  /** Checked (and repaired when needed) before the commands run. */
  readonly repair?: UndoRepair;
}

/** Runs one undo command; resolves with its exit code (null: killed by a signal) and output tail. */
export type UndoCommandRunner = (argv: readonly string[]) => Promise<{ code: number | null; output: string }>;

/** Runs `argv` without a shell, output captured (its last lines go into errors). */
export function runUndoCommand(argv: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) {
      resolve({ code: 0, output: '' });
      return;
    }
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** A command for messages: a script argument shows as `<script: first line>` when that is a `# comment`. */
const shown = (argv: readonly string[]): string =>
  argv
    .map((w) => {
      if (!w.includes('\n')) return w;
      const comment = /^# (.+)/.exec(w)?.[1];
      return comment === undefined ? '<script>' : `<script: ${comment.trim()}>`;
    })
    .join(' ');
const tail = (output: string, lines = 3): string => output.trim().split('\n').slice(-lines).join(' / ');

/** Whether the record has a check, and its structure is sound (for the journal reader). */
export function isUndoRecord(value: unknown): value is UndoRecord {
  const argv = (c: unknown): boolean => Array.isArray(c) && c.every((w) => typeof w === 'string');
  const r = value as Partial<UndoRecord> | null;
  if (r === null || typeof r !== 'object') return false;
  if (typeof r.description !== 'string' || !Array.isArray(r.commands) || !r.commands.every(argv)) return false;
  if (r.repair === undefined) return true;
  const p = r.repair as Partial<UndoRepair>;
  return typeof p.tool === 'string' && argv(p.check) && Array.isArray(p.commands) && p.commands.every(argv);
}

/** What running one record did. */
export interface UndoOutcome {
  readonly ok: boolean;
  /** What a repair found and did, one line each. */
  readonly repaired: readonly string[];
  readonly errors: readonly string[];
}

/**
 * Runs one record: its repair when its check finds the tool interrupted, then its commands.
 * Not ok when the repair or a command failed (the record stays for the next run).
 */
export async function runUndoRecord(
  record: UndoRecord,
  log: TransactionLog,
  runCommand: UndoCommandRunner,
): Promise<UndoOutcome> {
  const repaired: string[] = [];
  const errors: string[] = [];
  const run = async (argv: readonly string[], what: string): Promise<{ code: number | null; output: string }> => {
    try {
      return await runCommand(argv);
    } catch (error) {
      return { code: -1, output: `cannot run '${shown(argv)}' (${what}): ${errorMessage(error)}` };
    }
  };
  const repair = record.repair;
  if (repair !== undefined) {
    const found = await run(repair.check, `check of ${repair.tool}`);
    if (found.code !== 0) {
      const what = tail(found.output, 6) || `its check exited ${String(found.code)}`;
      log.warn(`Recovery: ${repair.tool} was left interrupted by the killed run: ${what}; repairing it`);
      // Every repair command runs, even after one fails: `dpkg --configure -a` exits 1 on a
      // package it must leave for a reinstall, which the next command (`apt-get -f install`)
      // does. Whether the tool is repaired is what its check says afterwards.
      const failed: string[] = [];
      for (const argv of repair.commands) {
        log.warn(`Recovery: repairing ${repair.tool}: ${shown(argv)}`);
        const r = await run(argv, `repair of ${repair.tool}`);
        if (r.output.trim() !== '') log.debug(`Recovery: ${repair.tool}: ${tail(r.output, 20)}`);
        if (r.code !== 0) {
          const line = `'${shown(argv)}' exited ${String(r.code)}: ${tail(r.output)}`;
          log.warn(`Recovery: repairing ${repair.tool}: ${line}; going on with the next step`);
          failed.push(line);
        }
      }
      const again = await run(repair.check, `check of ${repair.tool}`);
      if (again.code !== 0) {
        errors.push(
          `${repair.tool} is still interrupted after its repair: ${tail(again.output)}` +
            (failed.length > 0 ? ` (repair of ${repair.tool}: ${failed.join('; ')})` : ''),
        );
        return { ok: false, repaired, errors };
      }
      repaired.push(
        `${repair.tool} was interrupted (${what}); repaired with ${repair.commands.map(shown).join(', then ')}`,
      );
    }
  }
  let ok = true;
  for (const argv of record.commands) {
    log.warn(`Recovery: undoing ${record.description}: ${shown(argv)}`);
    const r = await run(argv, `undo of ${record.description}`);
    if (r.code !== 0) {
      ok = false;
      const rest = tail(r.output);
      errors.push(`undo of ${record.description}: '${shown(argv)}' exited ${String(r.code)}${rest ? `: ${rest}` : ''}`);
    }
  }
  return { ok, repaired, errors };
}
