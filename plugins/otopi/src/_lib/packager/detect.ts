/**
 * Which package manager to drive: the user's choice (`PACKAGER/packager`), else the
 * distribution family from os-release, confirmed by the tools actually being installed. When the
 * family's own tools are missing, the tools that are there decide: a Debian-based host without
 * apt but with dnf (the lab's el hosts) is driven with dnf. apt is never a fallback on an EL host:
 * an apt there would be apt-rpm, which this packager does not speak.
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

export function choosePackager(
  requested: PackagerName | 'auto',
  os: OsRelease,
  has: (program: string) => boolean,
): PackagerChoice {
  const usable = (name: PackagerName): boolean => PACKAGER_TOOLS[name].every(has);
  if (requested !== 'auto') {
    const name = requested;
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
  const own: PackagerName[] = family === 'debian' ? ['apt'] : family === 'rhel' ? ['dnf', 'yum'] : [];
  const others: PackagerName[] = family === 'debian' ? ['dnf', 'yum'] : family === 'rhel' ? [] : ['apt', 'dnf', 'yum'];
  const order = [...own, ...others];
  for (const name of own) if (usable(name)) return { name, reason: `${os.id} is ${family}-like` };
  for (const name of others) {
    if (usable(name))
      return {
        name,
        reason:
          family === 'unknown'
            ? `${name} tools found on unknown distribution '${os.id}'`
            : `${os.id} is ${family}-like, but ${own.flatMap((n) => PACKAGER_TOOLS[n]).join(', ')} cannot be found; the host has ${PACKAGER_TOOLS[name].join(', ')}`,
      };
  }
  return {
    name: 'offline',
    reason: `no usable package manager for ${os.id} (${order.map((n) => PACKAGER_TOOLS[n].join('/')).join(', ')} not found): offline`,
  };
}
