// The host-mgmt dialog program: what it sends for each action (the engine's packages and PKI
// units), and how it reads the host's answer. Driven end to end on lab hosts in
// test/integration/host-mgmt.test.ts and engine-bootstrap.test.ts.
import { describe, expect, it } from 'vitest';
import type { DialogOutcome, Displayed, Step } from '../src/dialog/driver.js';
import { hostMgmtProgram, hostMgmtResult } from '../src/host-mgmt/program.js';

const host = { name: 'h1.example.com' };
const sent = (list: readonly Step[] | undefined): unknown[] =>
  (list ?? []).map((s) =>
    s.kind === 'set'
      ? `set ${s.key}=${JSON.stringify(s.value)}`
      : s.kind === 'get'
        ? `get ${s.key}`
        : s.kind === 'command'
          ? s.command
          : s.kind,
  );

function outcome(displayed: Record<string, Displayed>, more: Partial<DialogOutcome> = {}): DialogOutcome {
  return {
    hostError: false,
    hostAborted: false,
    failures: [],
    terminated: true,
    lastStage: 'Termination',
    displayed: new Map(Object.entries(displayed)),
    hostLogLines: 10,
    roundTrips: 0,
    ...more,
  };
}

describe('hostMgmtProgram', () => {
  it('check-updates: the check-only mode and the packages as a multi-string, then packagesInfo at termination', () => {
    const p = hostMgmtProgram({ action: 'check-updates', host, prolog: false });
    expect(sent(p.customization)).toEqual([
      'set OMGMT_PACKAGES/packagesUpdateMode="checkUpdate"',
      'set OMGMT_PACKAGES/packages=["ovirt-host","vdsm","vdsm-client"]',
    ]);
    expect(sent(p.termination)).toEqual(['get OMGMT_PACKAGES/packagesInfo', 'get ODEPLOY/installIncomplete']);
  });

  it('upgrade: the update mode and the packages given; the prolog reads the log file and sets the correlation id', () => {
    const p = hostMgmtProgram({ action: 'upgrade', host, packages: ['vdsm'], correlationId: 'c-1' });
    expect(sent(p.customization)).toEqual([
      'get CORE/logFileName',
      'set OVIRT_ENGINE/correlationId="c-1"',
      'set OMGMT_PACKAGES/packagesUpdateMode="update"',
      'set OMGMT_PACKAGES/packages=["vdsm"]',
    ]);
  });

  it('enroll-certificate: inline enrollment, a new key only when asked', () => {
    expect(sent(hostMgmtProgram({ action: 'enroll-certificate', host, prolog: false }).customization)).toEqual([
      'set VDSM/certificateEnrollment="inline"',
      'noop',
    ]);
    expect(
      sent(hostMgmtProgram({ action: 'enroll-certificate', host, prolog: false, newKey: true }).customization),
    ).toEqual(['set VDSM/certificateEnrollment="inline"', 'set VDSM/certificateRenew=true']);
  });

  it('refuses a certificate request when the run enrolls none', async () => {
    const p = hostMgmtProgram({ action: 'check-updates', host });
    const failures: string[] = [];
    await p.onDisplay?.(
      'VDSM_CERTIFICATE_REQUEST',
      { type: 'multi-str', value: ['x'] },
      {
        displayed: new Map(),
        fail: (m) => failures.push(m),
      },
    );
    expect(failures).toEqual(['The host asked for a certificate, but this run enrolls none']);
  });
});

describe('hostMgmtResult', () => {
  it('reads the updates the host listed', () => {
    const r = hostMgmtResult(
      outcome({
        'OMGMT_PACKAGES/packagesInfo': { type: 'multi-str', value: ['vdsm-4.50.2-1', 'vdsm-client-4.50.2-1'] },
      }),
    );
    expect(r).toEqual({
      ok: true,
      packagesInfo: ['vdsm-4.50.2-1', 'vdsm-client-4.50.2-1'],
      enrolled: false,
      errors: [],
    });
  });

  it('an empty list, a host error, a run that never terminated', () => {
    expect(
      hostMgmtResult(outcome({ 'OMGMT_PACKAGES/packagesInfo': { type: 'multi-str', value: [] } })).packagesInfo,
    ).toEqual([]);
    expect(hostMgmtResult(outcome({}, { hostError: true }))).toMatchObject({
      ok: false,
      errors: ['The host reported an error; see its log'],
    });
    expect(hostMgmtResult(outcome({}, { terminated: false, hostError: undefined })).ok).toBe(false);
  });

  it('knows a certificate was enrolled from the request the host showed', () => {
    expect(
      hostMgmtResult(outcome({ VDSM_CERTIFICATE_REQUEST: { type: 'multi-str', value: ['-----BEGIN'] } })).enrolled,
    ).toBe(true);
  });
});
