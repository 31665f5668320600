/**
 * Can this machine run virtual machines? Read from /proc/cpuinfo and /dev/kvm instead of
 * the MSRs ovirt-host-deploy probed (those need the msr module and root, and failed on many
 * machines): the kernel already reports `vmx`/`svm` only when the CPU has them, and
 * /dev/kvm exists only when KVM could load, which also covers firmware that disabled them.
 */
export type CpuVendor = 'intel' | 'amd' | 'power' | 's390' | 'arm' | 'unknown';

export interface CpuInfo {
  readonly vendor: CpuVendor;
  readonly flags: ReadonlySet<string>;
  /** POWER: the `platform` line (`PowerNV`, `pSeries`). */
  readonly platform: string | null;
}

export function parseCpuinfo(text: string): CpuInfo {
  let vendor: CpuVendor = 'unknown';
  const flags = new Set<string>();
  let platform: string | null = null;
  for (const line of text.split('\n')) {
    const m = /^([^:]+?)\s*:\s*(.*)$/.exec(line);
    if (m === null) continue;
    const [, name, value] = m as unknown as [string, string, string];
    if (name === 'vendor_id') {
      if (value === 'GenuineIntel') vendor = 'intel';
      else if (value === 'AuthenticAMD') vendor = 'amd';
      else if (value.includes('S390')) vendor = 's390';
    } else if (name === 'flags' || name.toLowerCase() === 'features') {
      for (const f of value.split(/\s+/)) if (f !== '') flags.add(f);
    } else if (name === 'platform') platform = value;
    else if (name === 'cpu' && /power/i.test(value)) vendor = 'power';
    else if (name === 'CPU implementer' && vendor === 'unknown') vendor = 'arm';
  }
  return { vendor, flags, platform };
}

export interface VirtVerdict {
  readonly supported: boolean;
  /** Why not, for the error message; or what was found. */
  readonly reason: string;
  readonly warnings: readonly string[];
}

export function checkVirtualization(cpu: CpuInfo, hasKvmDevice: boolean): VirtVerdict {
  const warnings: string[] = [];
  const kvm = hasKvmDevice
    ? ''
    : ', and /dev/kvm is missing (the kvm module is not loaded, or the firmware disabled virtualization)';
  switch (cpu.vendor) {
    case 'intel':
    case 'amd': {
      const flag = cpu.vendor === 'intel' ? 'vmx' : 'svm';
      if (!cpu.flags.has('constant_tsc')) warnings.push('The CPU has no constant_tsc flag: guest time may drift');
      if (!cpu.flags.has(flag))
        return {
          supported: false,
          reason: `the ${cpu.vendor === 'intel' ? 'Intel' : 'AMD'} CPU reports no '${flag}' flag${kvm}`,
          warnings,
        };
      break;
    }
    case 'power':
      if (cpu.platform === null || !/powernv/i.test(cpu.platform))
        return {
          supported: false,
          reason: `POWER platform '${cpu.platform ?? 'unknown'}' is not PowerNV (bare metal)${kvm}`,
          warnings,
        };
      break;
    case 's390':
      if (!cpu.flags.has('sie'))
        return { supported: false, reason: `the s390 CPU reports no 'sie' facility${kvm}`, warnings };
      break;
    case 'arm':
    case 'unknown':
      break;
  }
  if (!hasKvmDevice)
    return {
      supported: false,
      reason: `/dev/kvm is missing (the kvm module is not loaded, or the firmware disabled virtualization)`,
      warnings,
    };
  return { supported: true, reason: `${cpu.vendor} CPU with /dev/kvm`, warnings };
}
