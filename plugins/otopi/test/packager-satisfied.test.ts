import { describe, expect, it } from 'vitest';
import { alreadySatisfied } from '../src/_lib/packager/satisfied.js';

const installed = new Map([
  ['vdsm', '4.50.2-1'],
  ['ovirt-host', '4.5.0-1'],
]);

describe('package requests already met by what is installed (no package manager run)', () => {
  it('is met when every package to install is installed and none to remove is', () => {
    expect(alreadySatisfied([{ action: 'install', packages: ['ovirt-host', 'vdsm'] }], installed)).toBe(true);
    expect(alreadySatisfied([{ action: 'remove', packages: ['tuned'] }], installed)).toBe(true);
    // An update of a package that is not installed is left alone by apt and dnf.
    expect(alreadySatisfied([{ action: 'update', packages: ['tuned'] }], installed)).toBe(true);
    expect(alreadySatisfied([], installed)).toBe(true);
  });

  it('is not met when something is missing, to remove, to update, or not a plain name', () => {
    expect(alreadySatisfied([{ action: 'install', packages: ['vdsm', 'vdsm-client'] }], installed)).toBe(false);
    expect(alreadySatisfied([{ action: 'remove', packages: ['vdsm'] }], installed)).toBe(false);
    // Whether an update exists only the repositories know.
    expect(alreadySatisfied([{ action: 'update', packages: ['vdsm'] }], installed)).toBe(false);
    for (const name of ['vdsm=4.50.1-1', 'vdsm:amd64', 'vdsm*', '/tmp/vdsm.deb', 'vdsm >= 4.50'])
      expect(alreadySatisfied([{ action: 'install', packages: [name] }], installed), name).toBe(false);
  });

  it("knows dnf's name.arch keys: an installed vdsm.noarch is vdsm, to update or remove", () => {
    const dnf = new Map([
      ['vdsm.noarch', '4.50.1-1'],
      ['python3.11.x86_64', '3.11.2-1'],
    ]);
    expect(alreadySatisfied([{ action: 'update', packages: ['vdsm', 'vdsm-client'] }], dnf)).toBe(false);
    expect(alreadySatisfied([{ action: 'remove', packages: ['vdsm'] }], dnf)).toBe(false);
    expect(alreadySatisfied([{ action: 'install', packages: ['vdsm'] }], dnf)).toBe(true);
    // Only an architecture is taken off: python3.11 is not python3.
    expect(alreadySatisfied([{ action: 'install', packages: ['python3'] }], dnf)).toBe(false);
    expect(alreadySatisfied([{ action: 'install', packages: ['python3.11'] }], dnf)).toBe(true);
  });
});
