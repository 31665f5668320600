/**
 * One run at a time per host: a {@link ProcessMutex} named by the lock file (`CORE/lockFile`),
 * which the kernel frees when its holder dies, and a holder file that names the run (pid, process
 * start time, command). Taking the lock is one atomic step; a run killed while holding it leaves
 * only its holder file, which the next run replaces and reports. Under the lock, journals left by
 * a run killed mid-commit are rolled back before anything else happens.
 */
import { basename } from 'node:path';
import { OtopiError, errorMessage } from '../errors.js';
import { definePlugin, type Plugin } from '../plugin/define.js';
import { Priority } from '../sequence/stages.js';
import { ProcessMutex, holderAlive, readHolder, type LockHolder } from '../system/mutex.js';
import { CoreEnv } from './keys.js';
import { recoverInterruptedRuns } from './recover.js';

export type { LockHolder } from '../system/mutex.js';

export class RunLock {
  readonly #mutex: ProcessMutex;

  constructor(readonly path: string) {
    this.#mutex = new ProcessMutex(path);
  }

  /**
   * Takes the lock. `tookOverStale` names the run a left-over holder file was written by, when
   * that process is gone (killed while holding the lock).
   *
   * @throws OtopiError `RUN_LOCKED` naming the holder when another run has the lock;
   *   `LOCK_UNAVAILABLE` when the lock cannot be made (an unwritable folder).
   */
  async acquire(): Promise<{ tookOverStale: LockHolder | undefined }> {
    const previous = readHolder(this.path);
    let refused: { holder: LockHolder | undefined } | undefined;
    try {
      refused = await this.#mutex.acquire({ command: commandOf(process.argv.slice(1)) });
    } catch (error) {
      throw new OtopiError('LOCK_UNAVAILABLE', `cannot create the run lock ${this.path}: ${errorMessage(error)}`, {
        file: this.path,
        cause: error,
        hint: 'Run as root, or point CORE/lockFile somewhere writable.',
      });
    }
    if (refused !== undefined) {
      const h = refused.holder;
      const who = h === undefined ? 'a run that is starting' : `pid ${h.pid} (${h.command}) since ${h.since}`;
      throw new OtopiError(
        'RUN_LOCKED',
        `another run holds the lock ${this.path}: ${who}`,
        // No `file`: the message names the lock already, and a location prefix would repeat it.
        { hint: 'Wait for it to finish. The lock is freed the moment that process ends, however it ends.' },
      );
    }
    const stale = previous !== undefined && previous.pid !== process.pid && !holderAlive(previous);
    return { tookOverStale: stale ? previous : undefined };
  }

  release(): void {
    this.#mutex.release();
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
          const { tookOverStale } = await lock.acquire();
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
