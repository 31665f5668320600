// What `otopi deploy` shows while it runs, in plain mode: repeated warnings folded (the first
// shown, the others counted for the summary), -v levels, and a dry run's changes with their diff.
import type { DeployEvent } from '@otopi/engine';
import { describe, expect, it } from 'vitest';
import { dryRunLines } from '../src/deploy-diff.js';
import { createProgress } from '../src/deploy-progress.js';
import { WarningFold } from '../src/deploy-warnings.js';

const at = '2026-12-07T00:00:00.000Z';
const log = (host: string, level: string, text: string): DeployEvent => ({ type: 'log', at, host, level, text });

function shown(events: DeployEvent[], verbosity = 0, warnings = new WarningFold()): string[] {
  const out: string[] = [];
  const progress = createProgress('plain', { write: (t: string) => out.push(t) }, { verbosity, warnings });
  for (const e of events) progress.event(e);
  return out.join('').trimEnd().split('\n');
}

describe('deploy progress', () => {
  it('shows a warning the first time only and folds the repeats into one summary line', () => {
    const warnings = new WarningFold();
    const events = ['h1', 'h2', 'h3'].map((h) => log(h, 'WARNING', 'Host name resolves to loopback'));
    expect(shown(events, 0, warnings)).toEqual(['h1: WARNING Host name resolves to loopback']);
    expect(warnings.lines()).toEqual(['WARNING on 3 hosts (h1, h2, h3): Host name resolves to loopback']);
  });

  it('-v adds the hosts’ INFO lines', () => {
    expect(shown([log('h1', 'INFO', 'Installing vdsm')])).toEqual(['']);
    expect(shown([log('h1', 'INFO', 'Installing vdsm')], 1)).toEqual(['h1: INFO Installing vdsm']);
  });

  it('a dry run lists what each host would change, with the diff; colour only when asked', () => {
    const report = { host: 'h1', changes: ['file /etc/x'], diff: '# file /etc/x\n--- /etc/x\n+++ /etc/x\n-a\n+b' };
    expect(dryRunLines(report, false)).toEqual([
      'h1: would change 1 thing:',
      '  file /etc/x',
      '    # file /etc/x',
      '    --- /etc/x',
      '    +++ /etc/x',
      '    -a',
      '    +b',
    ]);
    expect(dryRunLines(report, true).join('\n')).toContain('\x1b[32m+b\x1b[0m');
    expect(dryRunLines({ host: 'h1', changes: [] }, true)).toEqual([]);
  });
});
