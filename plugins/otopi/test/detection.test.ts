import { isOtopiError } from '@otopi/core';
import { describe, expect, it } from 'vitest';
import { CommandRegistry } from '../src/_lib/commands.js';
import { CommandFamily, SystemEnv } from '../src/_lib/keys.js';
import { osFamily, parseOsRelease } from '../src/_lib/os-release.js';
import { choosePackager } from '../src/_lib/packager/detect.js';
import { chooseServiceManager } from '../src/_lib/services/detect.js';
import { Environment, keysOf } from '@otopi/core';
import { fakeFs } from './helpers.js';

const DEBIAN = parseOsRelease(
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
);
const UBUNTU = parseOsRelease('NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n');
const ROCKY = parseOsRelease('NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n');
const CENTOS7 = parseOsRelease('NAME="CentOS Linux"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n');
const ARCH = parseOsRelease('NAME="Arch Linux"\nID=arch\n');

const tools =
  (...names: string[]) =>
  (p: string) =>
    names.includes(p);
const APT = ['apt-get', 'apt-cache', 'dpkg-query'];

describe('os-release', () => {
  it('parses quoting and families', () => {
    expect(DEBIAN).toEqual({ id: 'debian', idLike: [], versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
    expect(ROCKY.idLike).toEqual(['rhel', 'centos', 'fedora']);
    expect([DEBIAN, UBUNTU, ROCKY, CENTOS7, ARCH].map(osFamily)).toEqual([
      'debian',
      'debian',
      'rhel',
      'rhel',
      'unknown',
    ]);
    expect(parseOsRelease('NAME="A \\"quoted\\" name"\nID=x').prettyName).toBe('A "quoted" name');
  });
});

describe('packager detection', () => {
  it('picks apt on Debian and derivatives when its tools are there', () => {
    expect(choosePackager('auto', DEBIAN, tools(...APT)).name).toBe('apt');
    expect(choosePackager('auto', UBUNTU, tools(...APT)).name).toBe('apt');
  });

  it('picks dnf on a Debian-based host that has dnf and no apt, and says why', () => {
    const choice = choosePackager('auto', DEBIAN, tools('dnf', 'rpm', 'dpkg-query'));
    expect(choice.name).toBe('dnf');
    expect(choice.reason).toBe(
      'debian is debian-like, but apt-get, apt-cache, dpkg-query cannot be found; the host has dnf, rpm',
    );
    expect(choosePackager('auto', DEBIAN, tools('dnf', 'rpm', ...APT)).name).toBe('apt');
  });

  it('picks dnf on EL, yum where only yum exists, and never apt there', () => {
    expect(choosePackager('auto', ROCKY, tools('dnf', 'yum', 'rpm', ...APT)).name).toBe('dnf');
    expect(choosePackager('auto', CENTOS7, tools('yum', 'rpm')).name).toBe('yum');
    expect(choosePackager('auto', ROCKY, tools(...APT)).name).toBe('offline');
  });

  it('falls back to the tools present on an unknown distribution, else offline', () => {
    expect(choosePackager('auto', ARCH, tools('dnf', 'rpm')).name).toBe('dnf');
    const none = choosePackager('auto', ARCH, tools());
    expect(none.name).toBe('offline');
    expect(none.reason).toMatch(/no usable package manager/);
  });

  it('honours an explicit choice, and names what is missing for it', () => {
    expect(choosePackager('offline', DEBIAN, tools(...APT)).name).toBe('offline');
    expect(choosePackager('yum', ROCKY, tools('yum', 'rpm')).name).toBe('yum');
    try {
      choosePackager('dnf', DEBIAN, tools(...APT));
      expect.unreachable();
    } catch (error) {
      expect(isOtopiError(error, 'COMMAND_MISSING')).toBe(true);
      expect((error as Error).message).toBe("PACKAGER/packager is 'dnf', but dnf, rpm cannot be found");
    }
  });
});

describe('service manager detection', () => {
  it('prefers systemd when it runs, then OpenRC, then SysV scripts', () => {
    expect(
      chooseServiceManager('auto', fakeFs({ '/run/systemd/system': [], '/etc/init.d': [] }), tools('systemctl')).name,
    ).toBe('systemd');
    // systemctl installed but systemd not PID 1 (a container, a chroot): not systemd.
    expect(chooseServiceManager('auto', fakeFs({ '/etc/init.d': [] }), tools('systemctl', 'service')).name).toBe(
      'sysv',
    );
    expect(
      chooseServiceManager('auto', fakeFs({ '/run/openrc': [], '/etc/init.d': [] }), tools('rc-service')).name,
    ).toBe('openrc');
    expect(chooseServiceManager('auto', fakeFs({}), tools()).name).toBe('none');
  });
});

describe('command discovery', () => {
  const env = (): Environment => {
    const e = new Environment();
    e.declare(keysOf(SystemEnv));
    e.declareFamily(CommandFamily);
    e.set(SystemEnv.commandPath, '/opt/bin:/usr/sbin:/usr/bin');
    return e;
  };
  const present = ['/usr/sbin/iptables', '/usr/bin/iptables', '/usr/bin/nft', '/opt/bin/nft'];

  it('finds programs on SYSTEM/commandPath in order, and keeps what the user set', () => {
    const e = env();
    e.setExternal('COMMAND/iptables', '/custom/iptables', { kind: 'cmdline', where: 'test' });
    const reg = new CommandRegistry(e, (p) => present.includes(p));
    reg.detect('nft');
    reg.detect('iptables');
    reg.detect('nosuch');
    expect(reg.detectAll()).toEqual(['nosuch']);
    expect(e.get(CommandFamily('nft'))).toBe('/opt/bin/nft');
    expect(reg.get('iptables')).toBe('/custom/iptables');
    expect(reg.find('nosuch')).toBeNull();
  });

  it('fails clearly for a required program that is missing', () => {
    const reg = new CommandRegistry(env(), () => false);
    try {
      reg.get('firewall-cmd');
      expect.unreachable();
    } catch (error) {
      expect(isOtopiError(error, 'COMMAND_MISSING')).toBe(true);
      expect((error as Error).message).toBe("Command 'firewall-cmd' is required but missing");
      expect((error as { hint?: string }).hint).toContain('COMMAND/firewall-cmd=str:');
    }
  });
});
