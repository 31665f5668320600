/**
 * Distributions a virtualization host may run. ovirt-host-deploy checked names and versions
 * (redhat/centos ≥ 6.2, fedora ≥ 17); this list follows the same idea for today's systems and
 * goes by os-release, so derivatives (Rocky, AlmaLinux, Oracle Linux) are recognised by
 * their ID_LIKE.
 */
import type { OsRelease } from '@otopi/core';

interface Supported {
  /** os-release IDs (ID or ID_LIKE) this line covers. */
  readonly ids: readonly string[];
  readonly name: string;
  /** Lowest VERSION_ID, compared part by part. */
  readonly minimum: string;
}

export const SUPPORTED_DISTRIBUTIONS: readonly Supported[] = [
  { ids: ['fedora'], name: 'Fedora', minimum: '38' },
  {
    ids: ['rhel', 'centos', 'rocky', 'almalinux', 'ol'],
    name: 'Enterprise Linux (RHEL, CentOS Stream, Rocky, AlmaLinux, Oracle Linux)',
    minimum: '8',
  },
  { ids: ['ubuntu'], name: 'Ubuntu', minimum: '22.04' },
  { ids: ['debian'], name: 'Debian', minimum: '12' },
];

/** Numeric, part by part: `9.4` > `9`, `22.04` > `20.10`. Non-numbers count as 0. */
export function compareVersionIds(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (Number.parseInt(pa[i] ?? '0', 10) || 0) - (Number.parseInt(pb[i] ?? '0', 10) || 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export interface DistroVerdict {
  readonly supported: boolean;
  readonly message: string;
}

export function checkDistribution(os: OsRelease): DistroVerdict {
  // The distribution's own ID first: Fedora is not judged by an EL minimum, nor Ubuntu by Debian's.
  const line =
    SUPPORTED_DISTRIBUTIONS.find((s) => s.ids.includes(os.id)) ??
    SUPPORTED_DISTRIBUTIONS.find((s) => os.idLike.some((id) => s.ids.includes(id)));
  const what = `${os.prettyName} (ID ${os.id}, VERSION_ID ${os.versionId || 'none'})`;
  if (line === undefined) return { supported: false, message: `Distribution ${what} is not supported` };
  // A derivative without its own line (e.g. a Debian derivative) has its own version numbers.
  if (!line.ids.includes(os.id)) return { supported: true, message: `${what}: treated as ${line.name}` };
  if (os.versionId === '' || compareVersionIds(os.versionId, line.minimum) < 0)
    return {
      supported: false,
      message: `Distribution ${what} is not supported: ${line.name} ${line.minimum} or newer is needed`,
    };
  return { supported: true, message: `${what} is supported` };
}

export function supportedList(): string {
  return SUPPORTED_DISTRIBUTIONS.map((s) => `${s.name} ${s.minimum}+`).join(', ');
}
