/**
 * Which package manager to drive: the user's choice (`PACKAGER/packager`), else the
 * distribution family from os-release, confirmed by the tools actually being installed.
 * Pure, so every branch is unit-tested.
 */
import { OtopiError } from '@otopi/core';
import { osFamily, type OsRelease } from '../os-release.js';
import type { PackagerName } from './types.js';

/** Programs each packager cannot work without. */
export const PACKAGER_TOOLS: Readonly<Record<PackagerName, readonly string[]>> = {
  apt: ['apt-get', 'apt-cache', 'dpkg-query'],
  dnf: ['dnf', 'rpm'],
  yum: ['yum', 'rpm'],
  offline: [],
};

export interface PackagerChoice {
  readonly name: PackagerName;
  /** One line for the log: why this one. */
  readonly reason: string;
}

export function choosePackager(requested: string, os: OsRelease, has: (program: string) => boolean): PackagerChoice {
  const usable = (name: PackagerName): boolean => PACKAGER_TOOLS[name].every(has);
  if (requested !== 'auto') {
    const name = requested as PackagerName;
    const missing = PACKAGER_TOOLS[name].filter((p) => !has(p));
    if (missing.length > 0) {
      throw new OtopiError(
        'COMMAND_MISSING',
        `PACKAGER/packager is '${name}', but ${missing.join(', ')} cannot be found`,
        {
          key: 'PACKAGER/packager',
          hint: `Install ${name}, set COMMAND/${missing[0]!}=str:/path, or use PACKAGER/packager=str:auto.`,
        },
      );
    }
    return { name, reason: 'set by PACKAGER/packager' };
  }
  const family = osFamily(os);
  const order: PackagerName[] =
    family === 'debian' ? ['apt'] : family === 'rhel' ? ['dnf', 'yum'] : ['apt', 'dnf', 'yum'];
  for (const name of order) {
    if (usable(name))
      return {
        name,
        reason:
          family === 'unknown'
            ? `${name} tools found on unknown distribution '${os.id}'`
            : `${os.id} is ${family}-like`,
      };
  }
  return {
    name: 'offline',
    reason: `no usable package manager for ${os.id} (${order.map((n) => PACKAGER_TOOLS[n].join('/')).join(', ')} not found): offline`,
  };
}
