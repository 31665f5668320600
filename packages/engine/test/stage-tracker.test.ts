import { describe, expect, it } from 'vitest';
import { DialogParser } from '../src/dialog/parser.js';
import { StageTracker, isStageBanner } from '../src/dialog/stage-tracker.js';

/** Feeds dialog lines to a tracker; returns the stages it moved to, in order. */
function track(lines: readonly string[], tracker = new StageTracker()): string[] {
  const parser = new DialogParser();
  const moves: string[] = [];
  for (const line of lines)
    for (const event of parser.push(line)) {
      const moved = tracker.take(event);
      if (moved !== undefined) moves.push(moved);
    }
  return moves;
}

const entry = (stage: string, name: string): string => `**%EventsListEntry STAGE ${stage} METHOD ${name} (${name})`;
const start = (stage: string, name: string): string => `**%EventStart STAGE ${stage} METHOD ${name} (${name})`;
const PLAN = [
  '**%EventsListStart',
  entry('init', 'a.init'),
  entry('misc', 'a.misc'),
  entry('cleanup', 'a.commit'),
  entry('closeup', 'a.closeup'),
  entry('cleanup', 'a.cleanup'),
  entry('pre-terminate', 'a.prompt'),
  '**%EventsListEnd',
];

describe('StageTracker', () => {
  it('follows the handler events, and tells the commit from the clean-up by the plan', () => {
    const tracker = new StageTracker();
    expect(
      track(
        [
          '***L:INFO Stage: Initializing',
          ...PLAN,
          start('init', 'a.init'),
          start('misc', 'a.misc'),
          // After an error the commit and closing up are skipped: this `cleanup` is the clean-up.
          '***L:ERROR boom',
          start('cleanup', 'a.cleanup'),
          start('pre-terminate', 'a.prompt'),
          '***TERMINATE',
        ],
        tracker,
      ),
    ).toEqual(['init', 'misc', 'cleanup', 'pre_terminate', 'terminate']);
    expect(tracker.description).toBe('Termination');
  });

  it('takes the commit for a `cleanup` handler the plan places before closing up', () => {
    expect(track([...PLAN, start('misc', 'a.misc'), start('cleanup', 'a.commit')])).toEqual([
      'misc',
      'transaction_end',
    ]);
  });

  it('reads the stage banner only before the first handler event', () => {
    const tracker = new StageTracker();
    expect(track(['***L:INFO Stage: Initializing'], tracker)).toEqual(['init']);
    expect(tracker.description).toBe('Initializing');
    // Once handlers are framed, a banner moves nothing: the events do.
    expect(track([start('setup', 'a.setup'), '***L:INFO Stage: Misc configuration'], tracker)).toEqual(['setup']);
    expect(tracker.stage).toBe('setup');
  });

  it('knows a banner from a record that only looks like one', () => {
    const [banner] = new DialogParser().push('***L:INFO Stage: Clean up');
    const [record] = new DialogParser().push('***L:INFO Stage: of a play');
    const [warning] = new DialogParser().push('***L:WARNING Stage: Clean up');
    expect(isStageBanner(banner!)).toBe(true);
    expect(isStageBanner(record!)).toBe(false);
    expect(isStageBanner(warning!)).toBe(false);
  });
});
