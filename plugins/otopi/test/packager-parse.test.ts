import { compareDebVersions } from '@otopi/core';
import { describe, expect, it } from 'vitest';
import {
  aptLockHolder,
  availableFromPolicy,
  parseAptPolicy,
  parseAptSimulation,
  parseDpkgQuery,
} from '../src/_lib/packager/apt-parse.js';
import {
  availableFromList,
  describeResolution,
  dnfMajorVersion,
  notInstalled,
  parseHistoryIds,
  parsePackageRows,
  parseResolution,
  parseRpmQuery,
  rpmLockHolder,
  updatesFromCheck,
} from '../src/_lib/packager/dnf-parse.js';

// Recorded from Debian 12 and the lab repo.
const POLICY = `vdsm:
  Installed: 4.50.1-1
  Candidate: 4.50.2-1
  Version table:
     4.50.2-1 500
        500 http://10.88.0.1:8080 ./ Packages
 *** 4.50.1-1 500
        500 http://10.88.0.1:8080 ./ Packages
        100 /var/lib/dpkg/status
bash:
  Installed: 5.2.15-2+b8
  Candidate: 5.2.15-2+b8
  Version table:
 *** 5.2.15-2+b8 100
        100 /var/lib/dpkg/status
ovirt-host:
  Installed: (none)
  Candidate: 4.5.0-1
  Version table:
     4.5.0-1 500
        500 http://10.88.0.1:8080 ./ Packages
`;

describe('apt and dpkg output', () => {
  it('reads dpkg-query lines, telling installed, config-files and not-installed apart', () => {
    const text =
      'vdsm\t4.50.2-1\tamd64\tii \nnano\t7.2-1\tamd64\trc \nlibc6:i386\t2.36-9\ti386\tii \nfoo\t\tamd64\tun \nhalf\t1.0\tamd64\tiU \n';
    expect(parseDpkgQuery(text)).toEqual([
      { name: 'vdsm', version: '4.50.2-1', arch: 'amd64', state: 'installed' },
      { name: 'nano', version: '7.2-1', arch: 'amd64', state: 'config-files' },
      { name: 'libc6:i386', version: '2.36-9', arch: 'i386', state: 'installed' },
      { name: 'foo', version: '', arch: 'amd64', state: 'not-installed' },
      { name: 'half', version: '1.0', arch: 'amd64', state: 'installed' },
    ]);
  });

  it('reads apt-cache policy: installed, candidate, and versions offered by a repository', () => {
    const entries = parseAptPolicy(POLICY);
    expect(entries.map((e) => [e.name, e.installed, e.candidate])).toEqual([
      ['vdsm', '4.50.1-1', '4.50.2-1'],
      ['bash', '5.2.15-2+b8', '5.2.15-2+b8'],
      ['ovirt-host', null, '4.5.0-1'],
    ]);
    // bash is only in the dpkg status file: not available from anywhere.
    expect(entries[1]!.versions).toEqual([]);
    expect(entries[0]!.versions.map((v) => v.version)).toEqual(['4.50.2-1', '4.50.1-1']);
    expect(availableFromPolicy(entries, false).map((p) => `${p.name} ${p.version}`)).toEqual([
      'vdsm 4.50.2-1',
      'ovirt-host 4.5.0-1',
    ]);
    expect(availableFromPolicy(entries, true).map((p) => `${p.name} ${p.version}`)).toEqual([
      'vdsm 4.50.2-1',
      'vdsm 4.50.1-1',
      'ovirt-host 4.5.0-1',
    ]);
  });

  it('reads apt-get -s: installs, upgrades, downgrades and removals', () => {
    const text = [
      'NOTE: This is only a simulation!',
      'Inst vdsm [4.50.1-1] (4.50.2-1 lab:./ [amd64])',
      'Inst hello (2.10-3 Debian:12.15/oldstable [amd64])',
      'Inst vdsm-client [4.50.2-1] (4.50.1-1 lab:./ [amd64])',
      'Conf hello (2.10-3 Debian:12.15/oldstable [amd64])',
      'Remv nano [7.2-1]',
      'Purg old [1.0]',
    ].join('\n');
    expect(parseAptSimulation(text, compareDebVersions)).toEqual([
      { action: 'upgrade', name: 'vdsm', version: '4.50.2-1', from: '4.50.1-1' },
      { action: 'install', name: 'hello', version: '2.10-3' },
      { action: 'downgrade', name: 'vdsm-client', version: '4.50.1-1', from: '4.50.2-1' },
      { action: 'remove', name: 'nano', version: '7.2-1' },
      { action: 'purge', name: 'old', version: '1.0' },
    ]);
  });

  it('recognises a held dpkg lock and names the holder', () => {
    expect(
      aptLockHolder(
        'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)\nN: Be aware that removing the lock file is not a solution',
      ),
    ).toBe('process 4242, apt-get');
    expect(
      aptLockHolder(
        'E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?',
      ),
    ).toBe('');
    expect(aptLockHolder('E: Unable to locate package nosuch')).toBeNull();
  });
});

describe('rpm, dnf and yum output', () => {
  it('reads rpm -q lines and skips "not installed" messages', () => {
    expect(
      parseRpmQuery(
        'vim-enhanced\t2:8.2.2637-20.el9_1\tx86_64\npackage nosuch is not installed\nbash\t5.1.8-6.el9\tx86_64\n',
      ),
    ).toEqual([
      { name: 'vim-enhanced', version: '2:8.2.2637-20.el9_1', arch: 'x86_64', source: 'installed' },
      { name: 'bash', version: '5.1.8-6.el9', arch: 'x86_64', source: 'installed' },
    ]);
  });

  it('reads dnf list output, joining rows dnf 4 wrapped after a long name', () => {
    const text = [
      'Last metadata expiration check: 0:12:01 ago on Tue 01 Oct 2024 10:00:00 AM UTC.',
      'Installed Packages',
      'bash.x86_64                       5.1.8-6.el9                      @anaconda',
      'Available Packages',
      'vdsm.x86_64                       4.50.2-1.el9                     ovirt-4.5',
      'python3-ovirt-engine-sdk4-very-long-name.x86_64',
      '                                  4.6.2-1.el9                      ovirt-4.5',
      'vim-enhanced.x86_64               2:8.2.2637-20.el9_1              appstream',
    ].join('\n');
    expect(parsePackageRows(text).map((r) => `${r.section}:${r.name}.${r.arch}=${r.version}@${r.repo}`)).toEqual([
      'installed:bash.x86_64=5.1.8-6.el9@anaconda',
      'available:vdsm.x86_64=4.50.2-1.el9@ovirt-4.5',
      'available:python3-ovirt-engine-sdk4-very-long-name.x86_64=4.6.2-1.el9@ovirt-4.5',
      'available:vim-enhanced.x86_64=2:8.2.2637-20.el9_1@appstream',
    ]);
    expect(availableFromList(text).map((p) => p.name)).toEqual([
      'vdsm',
      'python3-ovirt-engine-sdk4-very-long-name',
      'vim-enhanced',
    ]);
  });

  it('reads dnf 5 list output (lower-case header, single spaces)', () => {
    const text =
      'Updating and loading repositories:\nRepositories loaded.\nAvailable packages\nvim-enhanced.x86_64 2:9.1.083-1.fc40 updates\n';
    expect(availableFromList(text)).toEqual([
      { name: 'vim-enhanced', version: '2:9.1.083-1.fc40', arch: 'x86_64', source: 'updates' },
    ]);
  });

  it('matches check-update rows with the installed versions and ignores obsoletes', () => {
    const text = [
      '',
      'vdsm.x86_64        4.50.2-1.el9     ovirt-4.5',
      'kernel.x86_64   5.14.0-427.el9   baseos',
      'Obsoleting Packages',
      'new.x86_64  1.0-1.el9  baseos',
      '    old.x86_64  0.9-1.el9  @baseos',
    ].join('\n');
    const installed = [
      { name: 'vdsm', version: '4.50.1-1.el9', arch: 'x86_64', source: 'installed' },
      { name: 'kernel', version: '5.14.0-362.el9', arch: 'x86_64', source: 'installed' },
    ];
    expect(updatesFromCheck(text, installed)).toEqual([
      { name: 'vdsm', installed: '4.50.1-1.el9', available: '4.50.2-1.el9' },
      { name: 'kernel', installed: '5.14.0-362.el9', available: '5.14.0-427.el9' },
    ]);
  });

  it('reads transaction ids from dnf 4, yum and dnf 5 history lists', () => {
    const dnf4 =
      'ID     | Command line     | Date and time    | Action(s)      | Altered\n-----------------\n     7 | install -y vdsm  | 2024-10-01 10:00 | Install        |    3   \n     6 | remove nano      | 2024-09-30 09:00 | Removed        |    1   \n';
    const yum =
      'Loaded plugins: fastestmirror\nID     | Login user               | Date and time    | Action(s)      | Altered\n-------------------------------------------------------------------------------\n    12 | root <root>              | 2020-01-01 10:00 | Install        |    1   \nhistory list\n';
    const dnf5 =
      'ID Command line                Date and time       Action(s) Altered\n 3 dnf5 install vim-enhanced  2024-10-01 10:00:00                 2\n 2 dnf5 remove nano           2024-09-30 09:00:00                 1\n';
    expect(parseHistoryIds(dnf4)).toEqual([7, 6]);
    expect(parseHistoryIds(yum)).toEqual([12]);
    expect(parseHistoryIds(dnf5)).toEqual([3, 2]);
    expect(parseHistoryIds('No transactions\n')).toEqual([]);
  });

  it('reads the resolved transaction dnf prints before --assumeno aborts', () => {
    const text = [
      'Dependencies resolved.',
      '================================================================================',
      ' Package            Arch       Version              Repository           Size',
      '================================================================================',
      'Installing:',
      ' vdsm               x86_64     4.50.2-1.el9         ovirt-4.5           1.1 M',
      'Upgrading:',
      ' vdsm-client        noarch     4.50.2-1.el9         ovirt-4.5            50 k',
      'Installing dependencies:',
      ' python3-libvirt    x86_64     9.0.0-1.el9          appstream           300 k',
      '',
      'Transaction Summary',
      '================================================================================',
      'Install  2 Packages',
      'Operation aborted.',
    ].join('\n');
    expect(parseResolution(text).map((a) => `${a.action} ${a.name} ${a.version}`)).toEqual([
      'installing vdsm 4.50.2-1.el9',
      'upgrading vdsm-client 4.50.2-1.el9',
      'installing dependencies python3-libvirt 9.0.0-1.el9',
    ]);
  });

  it('recognises rpm, dnf 5 and yum lock messages', () => {
    expect(
      rpmLockHolder(
        "error: can't create transaction lock on /var/lib/rpm/.rpm.lock (Resource temporarily unavailable)",
      ),
    ).toBe('');
    expect(rpmLockHolder('Failed to obtain rpm transaction lock. Another transaction is in progress.')).toBe('');
    expect(
      rpmLockHolder(
        'Another app is currently holding the yum lock; waiting for it to exit...\n  The other application is: yum\n    Memory :  40 M RSS\n    State  : Sleeping, pid: 1234',
      ),
    ).toBe('process 1234');
    expect(rpmLockHolder('Error: Unable to find a match: nosuch')).toBeNull();
    // dnf 4.14 with exit_on_lock (recorded on a Debian lab host).
    expect(
      rpmLockHolder(
        'RPMDB already locked by 1815\n  The application with PID 1815 is: sleep\n    Memory : 1.8 M RSS (2.9 MB VSZ)\n',
      ),
    ).toBe('process 1815, sleep');
    expect(rpmLockHolder('metadata already locked by 1828\n')).toBe('process 1828');
  });

  it('reads the dnf major version, the names rpm -q did not find, and describes a resolution', () => {
    expect(dnfMajorVersion('4.14.0\n  Installed: dnf-0:4.14.0-9.el9.noarch at Mon\n')).toBe(4);
    expect(dnfMajorVersion('dnf5 version 5.2.6.2\ndnf5 plugin API version 2.0\n')).toBe(5);
    expect(dnfMajorVersion('')).toBeNull();
    expect([...notInstalled('vdsm-4.50.1-1.noarch\npackage vdsm-client is not installed\n')]).toEqual(['vdsm-client']);
    expect(
      describeResolution(
        [
          { action: 'installing dependencies', name: 'a', arch: 'x86_64', version: '1-1' },
          { action: 'downgrading', name: 'vdsm', arch: 'noarch', version: '4.50.1-1' },
          { action: 'removing', name: 'vdsm-client', arch: 'noarch', version: '4.50.2-1' },
        ],
        [
          { name: 'vdsm', version: '4.50.2-1', arch: 'noarch', source: 'installed' },
          { name: 'vdsm-client', version: '4.50.2-1', arch: 'noarch', source: 'installed' },
        ],
      ),
    ).toBe('install a.x86_64 1-1\ndowngrade vdsm.noarch 4.50.2-1 → 4.50.1-1\nremove vdsm-client.noarch 4.50.2-1');
    expect(describeResolution([], [])).toBe('no package changes');
  });
});
