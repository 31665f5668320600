// The summary `otopi deploy` ends with: hosts a group reports incomplete or rebooting are listed
// with what they still need, and the counts name them only when there are some.
import type { DeployReport, HostReport } from '@otopi/engine';
import { describe, expect, it } from 'vitest';
import { formatSummary } from '../src/deploy-summary.js';

const host = (name: string, over: Partial<HostReport>): HostReport => ({
  host: name,
  address: `${name}.lab`,
  result: 'installed',
  stage: 'Termination',
  details: [],
  exitCode: 0,
  durationMs: 1200,
  bytes: { command: 1000, payload: 0, dialog: 200, total: 1200 },
  ...over,
});

const report = (hosts: HostReport[]): DeployReport => {
  const counts = { installed: 0, incomplete: 0, reboot: 0, failed: 0, aborted: 0 };
  for (const h of hosts) counts[h.result]++;
  const changed = hosts.filter((h) => h.changed === true).length;
  return { ok: counts.installed === hosts.length, hosts, counts, changed, durationMs: 2500, logDir: '/tmp/logs' };
};

describe('formatSummary', () => {
  it('says per host whether it changed anything, and counts them like a recap', () => {
    const text = formatSummary(
      report([
        host('h1', { changed: true, changes: ['file /etc/vdsm/vdsm.conf'] }),
        host('h2', { changed: false, changes: [] }),
        host('h3', { result: 'failed', stage: 'SSH connection', cause: 'refused' }),
      ]),
    );
    expect(text).toMatch(/^h1 +installed +changed +Termination/m);
    expect(text).toMatch(/^h2 +installed +unchanged +Termination/m);
    expect(text).toMatch(/^h3 +failed +- +SSH connection/m);
    expect(text).toContain('3 hosts: 2 installed, 1 failed, 0 aborted; 1 changed, 1 unchanged in 2.5 s');
    const dry = formatSummary(report([host('h1', { changed: true }), host('h2', { changed: false })]), {
      dryRun: true,
    });
    expect(dry).toContain('1 would change, 1 would not');
    expect(dry).toMatch(/^h2 +installed +no change /m);
  });

  it('folds the warnings it is given after the causes', () => {
    const text = formatSummary(report([host('h1', {})]), { warnings: ['WARNING on 3 hosts (a, b, c): x'] });
    expect(text.trimEnd().split('\n').at(-1)).toBe('WARNING on 3 hosts (a, b, c): x');
  });

  it('keeps the familiar counts when every host installed or failed', () => {
    const text = formatSummary(
      report([host('h1', {}), host('h2', { result: 'failed', stage: 'Misc configuration', cause: 'boom' })]),
    );
    expect(text).toContain('2 hosts: 1 installed, 1 failed, 0 aborted in 2.5 s');
    expect(text).toContain('h2: failed at Misc configuration: boom');
  });

  it('names incomplete and rebooting hosts, and what they need', () => {
    const text = formatSummary(
      report([
        host('h1', {
          result: 'incomplete',
          cause: 'Certificate enrollment required',
          details: ['Certificate enrollment required'],
        }),
        host('h2', { result: 'reboot', details: ['the host reboots to finish the installation'] }),
        host('h3', {
          result: 'aborted',
          stage: 'Environment customization',
          cause: 'Host h3 reports unique id x which already registered for h1',
        }),
      ]),
    );
    expect(text).toContain('3 hosts: 0 installed, 1 incomplete, 1 reboot, 0 failed, 1 aborted in 2.5 s');
    expect(text).toMatch(/^h1 +incomplete +- +Termination/m);
    expect(text).toContain('h1: installed, incomplete: Certificate enrollment required');
    expect(text).toContain('h2: installed, needs a reboot: the host reboots to finish the installation');
    expect(text).toContain(
      'h3: aborted at Environment customization: Host h3 reports unique id x which already registered for h1',
    );
  });
});
