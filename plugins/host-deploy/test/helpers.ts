// Fakes for the host-deploy helpers: a scripted runner that records commands, a log whose
// text the tests read, and system access over both.
import type { Runner, SystemAccess } from '../src/_lib/system.js';
import { memoryLog } from '../../otopi/test/helpers.js';

// The scripted runner and the readable log are the base group's own test fakes.
export { fakeRunner, memoryLog, type Call, type Reply } from '../../otopi/test/helpers.js';

export function fakeSystem(
  run: Runner,
  files: Readonly<Record<string, string>> = {},
  missing: readonly string[] = [],
): SystemAccess & { logText(): string; slept: number[] } {
  const { log, text } = memoryLog();
  const slept: number[] = [];
  return {
    run,
    log,
    which: (name) => (missing.includes(name) ? null : `/usr/bin/${name}`),
    readFile: (path) => files[path] ?? null,
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
    logText: text,
    slept,
  };
}
