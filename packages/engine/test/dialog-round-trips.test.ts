import { describe, expect, it } from 'vitest';
import { driveDialog, steps, type DialogProgram, type Step } from '../src/dialog/driver.js';
import { composePrograms } from '../src/orchestrate/program.js';
import { localRun } from './local-run.js';

/** A deploy's customization: K settings (the last one wins), a get of it, the log file name. */
function settings(k: number, seen: string[]): Step[] {
  return [
    steps.get('CORE/logFileName'),
    ...Array.from({ length: k }, (_, i) => steps.set('DLGTEST/note', `value ${i + 1}`)),
    steps.set('DLGTEST/items', 0),
    steps.noop(),
    steps.get('DLGTEST/note', (v) => seen.push(String(v.value))),
  ];
}

async function deploy(k: number, pipeline: boolean, extra: Step[] = []) {
  const run = localRun(['DLGTEST/skip=bool:True']);
  const seen: string[] = [];
  const program: DialogProgram = { customization: [...settings(k, seen), ...extra] };
  const outcome = await driveDialog(run.channel, composePrograms([program], { pipeline }));
  return { outcome, seen, exit: await run.exit };
}

// Round trips are counted by the driver (each time it sends after waiting for the host), not timed.
describe('dialog round trips against our installer', () => {
  it('pipelined, a deploy takes three round trips however many settings it sends', async () => {
    for (const k of [1, 40]) {
      const { outcome, seen, exit } = await deploy(k, true);
      expect(exit).toBe(0);
      expect(outcome.failures).toEqual([]);
      expect(outcome.hostError).toBe(false);
      // The settings applied in order: the get sent after them sees the last one.
      expect(seen).toEqual([`value ${k}`]);
      expect(outcome.hostLogLines).toBeGreaterThan(10);
      // The settings with their values, then install, then the whole termination (outcome, log, quit).
      expect(outcome.roundTrips).toBe(3);
    }
  });

  it('the per-key dialog (as the oVirt engine drives otopi) still works, at two round trips per setting', async () => {
    const { outcome, seen, exit } = await deploy(40, false);
    expect(exit).toBe(0);
    expect(seen).toEqual(['value 40']);
    expect(outcome.roundTrips).toBeGreaterThanOrEqual(2 * 41 + 3);
  });

  it('pipelined, a refused setting still aborts the host before it installs', async () => {
    // A value not of its key's type: the host refuses it and prompts again; the check before
    // `install` sees the refusal, so the host aborts instead of installing without it.
    const { outcome, exit } = await deploy(3, true, [steps.set('DLGTEST/items', 'x'), steps.set('DLGTEST/note', 'y')]);
    expect(exit).toBe(1);
    expect(outcome.hostAborted).toBe(true);
    expect(outcome.failures.map((f) => f.message).join('\n')).toMatch(
      /refused a customization command: .*DLGTEST\/items/,
    );
    expect(outcome.failures.map((f) => f.code)).toContain('COMMAND_REFUSED');
  });
});
