import { Environment, compareDebVersions, compareRpmVersions, isOtopiError, keysOf } from '@otopi/core';
import { describe, expect, it } from 'vitest';
import { VdsmConfigFamily, VdsmEnv } from '../src/_lib/keys.js';
import { iniValue, renderVdsmConf, trustStorePath, vdsmConfigEntries } from '../src/_lib/vdsm/conf.js';
import { checkDistribution, compareVersionIds } from '../src/_lib/vdsm/distro.js';
import { checkVirtualization, parseCpuinfo } from '../src/_lib/vdsm/hardware.js';
import { checkMinimum } from '../src/_lib/vdsm/versions.js';
import { detectVdsmId, parseDeviceTreeId, parseDmidecode, type IdProbe } from '../src/_lib/vdsm/vdsm-id.js';

function envWith(values: Record<string, string | null>): Environment {
  const env = new Environment();
  env.declare(keysOf(VdsmEnv));
  env.declareFamily(VdsmConfigFamily);
  for (const [key, value] of Object.entries(values)) env.setExternal(key, value, { kind: 'cmdline', where: key });
  return env;
}

describe('vdsm.conf', () => {
  it('renders the VDSM_CONFIG keys as a sorted INI, the same bytes for the same keys', () => {
    const env = envWith({
      'VDSM_CONFIG/vars/ssl': 'true',
      'VDSM_CONFIG/addresses/management_port': '54321',
      'VDSM_CONFIG/vars/ssl_excludes': 'OP_NO_TLSv1,OP_NO_TLSv1_1',
      'VDSM_CONFIG/vars/unset': null,
    });
    const text = renderVdsmConf(vdsmConfigEntries(env));
    expect(text).toBe(
      '# Written by ovirt-host-deploy (otopi-ts) from the VDSM_CONFIG keys; replaced by the next deploy.\n\n' +
        '[addresses]\nmanagement_port = 54321\n\n[vars]\nssl = true\nssl_excludes = OP_NO_TLSv1,OP_NO_TLSv1_1\n',
    );
    expect(renderVdsmConf([...vdsmConfigEntries(env)].reverse())).toBe(text);
    expect(iniValue(text, 'vars', 'ssl')).toBe('true');
    expect(iniValue(text, 'addresses', 'ssl')).toBeNull();
  });

  it('refuses a key without a section or with a line break', () => {
    const bare = envWith({ 'VDSM_CONFIG/ssl': 'true' });
    expect(() => vdsmConfigEntries(bare)).toThrow(/must name a section and a key/);
    try {
      vdsmConfigEntries(bare);
    } catch (error) {
      expect(isOtopiError(error, 'ENV_BAD_VALUE')).toBe(true);
    }
    expect(() => vdsmConfigEntries(envWith({ 'VDSM_CONFIG/vars/x': 'a\nb' }))).toThrow(/line break/);
  });

  it('finds the trust store in the new settings, else the old file, else /etc/pki/vdsm', () => {
    expect(trustStorePath([{ section: 'vars', key: 'trust_store_path', value: '/srv/pki/' }], null)).toBe('/srv/pki');
    expect(trustStorePath([], '[vars]\ntrust_store_path: /opt/pki\n')).toBe('/opt/pki');
    expect(trustStorePath([], '[vars]\nssl = true\n')).toBe('/etc/pki/vdsm');
    expect(trustStorePath([], '[vars]\ntrust_store_path = relative\n')).toBe('/etc/pki/vdsm');
  });
});

function probe(over: Partial<IdProbe> & { files?: Record<string, string> }): IdProbe {
  return {
    readFile: (p) => over.files?.[p] ?? null,
    dmidecode: over.dmidecode ?? (() => Promise.resolve(null)),
    arch: over.arch ?? 'x64',
    randomUUID: () => 'random-uuid',
  };
}

describe('the vdsm id', () => {
  it('prefers /etc/vdsm/vdsm.id', async () => {
    const id = await detectVdsmId(probe({ files: { '/etc/vdsm/vdsm.id': 'KEEP-ME\nsecond line\n' } }));
    expect(id).toMatchObject({ id: 'KEEP-ME', source: 'file' });
  });

  it('takes dmidecode without its comment lines, then sysfs, then a random id', async () => {
    const dmi = await detectVdsmId(
      probe({
        dmidecode: () =>
          Promise.resolve({ code: 0, stdout: '# SMBIOS entry point at 0x000f0000\n4C4C4544-0042-3510\n' }),
      }),
    );
    expect(dmi).toMatchObject({ id: '4C4C4544-0042-3510', source: 'dmidecode' });
    const sysfs = await detectVdsmId(
      probe({
        dmidecode: () => Promise.resolve({ code: 0, stdout: 'Not Settable\n' }),
        files: { '/sys/class/dmi/id/product_uuid': 'abcd-ef\n' },
      }),
    );
    expect(sysfs).toMatchObject({ id: 'abcd-ef', source: 'sysfs' });
    expect(sysfs.warnings[0]).toMatch(/dmidecode gave no usable system UUID/);
    const random = await detectVdsmId(
      probe({ files: { '/sys/class/dmi/id/product_uuid': '00000000-0000-0000-0000-000000000000' } }),
    );
    expect(random).toMatchObject({ id: 'random-uuid', source: 'random' });
  });

  it('reads POWER device-tree ids without NULs and commas', async () => {
    expect(parseDeviceTreeId('IBM,02ABCDE\0')).toBe('IBM02ABCDE');
    const id = await detectVdsmId(probe({ arch: 'ppc64', files: { '/proc/device-tree/system-id': 'IBM,0212345\0' } }));
    expect(id).toMatchObject({ id: 'IBM0212345', source: 'device-tree' });
    expect(parseDmidecode('a\nb\n')).toBeNull();
  });
});

const INTEL = 'processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme vmx constant_tsc\n';
const INTEL_NO_VMX = 'vendor_id\t: GenuineIntel\nflags\t\t: fpu vme\n';
const AMD = 'vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm constant_tsc\n';
const POWER = 'cpu\t\t: POWER9 (raw), altivec supported\nplatform\t: PowerNV\n';
const S390 = 'vendor_id       : IBM/S390\nfeatures\t: esan3 zarch stfle msa sie\n';

describe('hardware virtualization', () => {
  it('accepts vmx or svm with /dev/kvm', () => {
    expect(checkVirtualization(parseCpuinfo(INTEL), true)).toMatchObject({ supported: true });
    expect(checkVirtualization(parseCpuinfo(AMD), true)).toMatchObject({ supported: true });
    expect(checkVirtualization(parseCpuinfo(POWER), true)).toMatchObject({ supported: true });
    expect(checkVirtualization(parseCpuinfo(S390), true)).toMatchObject({ supported: true });
  });

  it('says why not: no flag, no /dev/kvm, a POWER guest, no constant_tsc', () => {
    const noFlag = checkVirtualization(parseCpuinfo(INTEL_NO_VMX), false);
    expect(noFlag.supported).toBe(false);
    expect(noFlag.reason).toMatch(/Intel CPU reports no 'vmx' flag, and \/dev\/kvm is missing/);
    expect(noFlag.warnings).toEqual(['The CPU has no constant_tsc flag: guest time may drift']);
    expect(checkVirtualization(parseCpuinfo(INTEL), false).reason).toMatch(/^\/dev\/kvm is missing/);
    expect(checkVirtualization(parseCpuinfo('cpu\t: POWER9\nplatform\t: pSeries\n'), true).reason).toMatch(
      /not PowerNV/,
    );
  });
});

describe('distributions', () => {
  const os = (id: string, versionId: string, idLike: string[] = []): Parameters<typeof checkDistribution>[0] => ({
    id,
    versionId,
    idLike,
    prettyName: `${id} ${versionId}`,
  });
  it('supports current EL, Fedora, Debian and Ubuntu, by ID or ID_LIKE', () => {
    expect(checkDistribution(os('debian', '12')).supported).toBe(true);
    expect(checkDistribution(os('rocky', '9.4', ['rhel', 'centos', 'fedora'])).supported).toBe(true);
    expect(checkDistribution(os('fedora', '40')).supported).toBe(true);
    expect(checkDistribution(os('ubuntu', '24.04', ['debian'])).supported).toBe(true);
    expect(checkDistribution(os('linuxmint', '21', ['ubuntu', 'debian'])).message).toMatch(/treated as Ubuntu/);
  });
  it('refuses old or unknown ones with the reason', () => {
    expect(checkDistribution(os('centos', '7', ['rhel', 'fedora']))).toMatchObject({
      supported: false,
      message: expect.stringMatching(
        /Distribution centos 7 .* is not supported: Enterprise Linux .* 8 or newer is needed/,
      ) as unknown,
    });
    expect(checkDistribution(os('arch', '')).message).toMatch(/^Distribution arch .* is not supported$/);
    expect(compareVersionIds('22.04', '20.10')).toBe(1);
    expect(compareVersionIds('9', '9.0')).toBe(0);
  });
});

describe('the minimum vdsm version', () => {
  const pkg = (version: string) => ({ name: 'vdsm', version, arch: 'all', source: 'repo' });
  it('compares by the distribution rules and names the missing package', () => {
    expect(checkMinimum('vdsm', [pkg('4.50.1-1'), pkg('4.50.2-1')], '4.9', compareDebVersions)).toMatchObject({
      ok: true,
      version: '4.50.2-1',
    });
    expect(checkMinimum('vdsm', [pkg('4.50.1-1')], '4.50.2', compareDebVersions)).toMatchObject({
      ok: false,
      message: 'vdsm 4.50.1-1 is older than the minimum 4.50.2',
    });
    expect(checkMinimum('vdsm', [pkg('4.50.1~rc1-1')], '4.50.1', compareDebVersions).ok).toBe(false);
    expect(checkMinimum('vdsm', [pkg('4.50.1-1.el9')], '4.50.1-1', compareRpmVersions).ok).toBe(true);
    expect(checkMinimum('vdsm', [], null, compareRpmVersions).message).toBe(
      'Cannot locate vdsm package, possible cause is incorrect channels',
    );
  });
});
