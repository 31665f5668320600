/**
 * One run at a time per host: a lock file created with O_EXCL that names its holder (pid,
 * process start time, command). A lock whose holder is gone (or whose pid now belongs to
 * another process) is stale and is taken over. Under the lock, journals left by a run
 * killed mid-commit are rolled back before anything else happens.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync, fsyncSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { OtopiError, errorMessage } from '../errors.js';
import { definePlugin, type Plugin } from '../plugin/define.js';
import { Priority } from '../sequence/stages.js';
import { CoreEnv } from './keys.js';
import { recoverInterruptedRuns } from './recover.js';

export interface LockHolder {
  readonly pid: number;
  /** Process start time in clock ticks since boot (field 22 of /proc/<pid>/stat), '' if unknown. */
  readonly start: string;
  readonly command: string;
  readonly since: string;
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; fields after the last ')' are fixed.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(holder: LockHolder): boolean {
  const start = startTimeOf(holder.pid);
  if (start === undefined) return false;
  return holder.start === '' || holder.start === start;
}

export class RunLock {
  private held = false;

  constructor(readonly path: string) {}

  /** Takes the lock, replacing a stale one; throws naming the holder if another run has it. */
  acquire(): { tookOverStale: LockHolder | undefined } {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const me: LockHolder = {
      pid: process.pid,
      start: startTimeOf(process.pid) ?? '',
      command: commandOf(process.argv.slice(1)),
      since: new Date().toISOString(),
    };
    let tookOverStale: LockHolder | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.path, 'wx', 0o600);
        writeSync(fd, `${JSON.stringify(me)}\n`);
        fsyncSync(fd);
        closeSync(fd);
        this.held = true;
        return { tookOverStale };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new OtopiError('INTERNAL', `cannot create the run lock ${this.path}: ${errorMessage(error)}`, {
            file: this.path,
            hint: 'Run as root, or point CORE/lockFile somewhere writable.',
          });
        }
      }
      const holder = readHolder(this.path);
      if (holder !== undefined && alive(holder)) {
        throw new OtopiError(
          'INTERNAL',
          `another run holds the lock ${this.path}: pid ${holder.pid} (${holder.command}) since ${holder.since}`,
          // No `file`: the message names the lock already, and a location prefix would repeat it.
          { hint: 'Wait for it to finish. If that process is gone, the lock is removed automatically.' },
        );
      }
      tookOverStale = holder;
      rmSync(this.path, { force: true });
    }
    throw new OtopiError('INTERNAL', `cannot take the run lock ${this.path}: it keeps being recreated`, {
      file: this.path,
    });
  }

  release(): void {
    if (!this.held) return;
    const holder = readHolder(this.path);
    if (holder?.pid === process.pid) rmSync(this.path, { force: true });
    this.held = false;
  }
}

/**
 * The holder's command line as another run will show it: the program's file name, then the
 * arguments with statement values left out (`KEY=…`), since that run cannot know which of
 * them are secrets.
 */
function commandOf(argv: readonly string[]): string {
  return argv
    .map((arg, i) => (i === 0 ? basename(arg) : arg))
    .map((arg) => arg.replace(/((?:^|\s)(?:APPEND:|PREPEND:)?[A-Za-z_][A-Za-z0-9_]*\/[^\s=]*=)[\s\S]*/, '$1…'))
    .join(' ')
    .slice(0, 200);
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number') return undefined;
    return {
      pid: parsed.pid,
      start: typeof parsed.start === 'string' ? parsed.start : '',
      command: typeof parsed.command === 'string' ? parsed.command : '?',
      since: typeof parsed.since === 'string' ? parsed.since : '?',
    };
  } catch {
    return undefined; // unreadable or half-written by a killed run: stale
  }
}

/** The lock and crash recovery as built-in handlers, right after the log opens. */
export function lockPlugin(): Plugin {
  let lock: RunLock | undefined;
  const release = (): void => lock?.release();
  return definePlugin({
    name: 'otopi.core.lock',
    setup(p) {
      p.on({
        name: 'acquire',
        stage: 'boot',
        priority: Priority.FIRST - 90,
        after: 'otopi.core.log.init',
        run: async ({ env, log, dialog, dryRun }) => {
          lock = new RunLock(env.get(CoreEnv.lockFile));
          const { tookOverStale } = lock.acquire();
          process.once('exit', release);
          if (tookOverStale !== undefined) {
            log.warn(
              `Took over a stale run lock of pid ${tookOverStale.pid} (${tookOverStale.command}), which is gone`,
            );
          }
          if (dryRun) return;
          await recoverInterruptedRuns(env.get(CoreEnv.journalDir), log, dialog);
        },
      });
      p.on({ name: 'release', stage: 'terminate', priority: Priority.LAST + 900, run: release });
    },
  });
}
