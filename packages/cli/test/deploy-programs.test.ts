// host-mgmt's options of otopi deploy, checked before anything is read or contacted, and the
// groups' options as their engine programs read them.
import { describe, expect, it } from 'vitest';
import { groupOptions, mgmtSettings } from '../src/deploy-programs.js';

describe('mgmtSettings', () => {
  it('defaults to a check for updates of the default packages', () => {
    expect(mgmtSettings({}, ['host-mgmt'])).toEqual({ action: 'check-updates', packages: undefined, newKey: false });
  });

  it('splits the packages and takes the action and the new key', () => {
    expect(
      mgmtSettings({ action: 'enroll-certificate', packages: ' vdsm, vdsm-client ,', newKey: true }, ['host-mgmt']),
    ).toEqual({ action: 'enroll-certificate', packages: ['vdsm', 'vdsm-client'], newKey: true });
  });

  it('refuses --mgmt-* without the group, with host-deploy, an unknown action and an empty package list', () => {
    expect(mgmtSettings({ newKey: true }, ['host-deploy'])).toBe('--mgmt-new-key needs --group host-mgmt');
    expect(mgmtSettings({}, ['host-mgmt', 'host-deploy'])).toBe(
      'host-deploy and host-mgmt are run one at a time: give one of them with --group',
    );
    expect(mgmtSettings({ action: 'reboot' }, ['host-mgmt'])).toBe(
      "--mgmt-action takes check-updates, upgrade, enroll-certificate, not 'reboot'",
    );
    expect(mgmtSettings({ packages: ' , ' }, ['host-mgmt'])).toBe('--mgmt-packages names no package');
  });

  it('leaves runs without host-mgmt alone', () => {
    expect(mgmtSettings({}, ['host-deploy'])).toEqual({ action: 'check-updates', packages: undefined, newKey: false });
  });
});

describe('groupOptions', () => {
  it('gives the programs the options by long name, only those given', () => {
    expect(groupOptions({ mgmt: { action: 'check-updates' } })).toEqual({ 'mgmt-action': 'check-updates' });
    expect(
      groupOptions({
        caDir: '/srv/ca',
        idRegistryFile: '/srv/ids',
        mgmt: { action: 'upgrade', packages: ['vdsm'], newKey: true },
      }),
    ).toEqual({
      'ca-dir': '/srv/ca',
      'vdsm-id-registry': '/srv/ids',
      'mgmt-action': 'upgrade',
      'mgmt-packages': ['vdsm'],
      'mgmt-new-key': true,
    });
  });
});
