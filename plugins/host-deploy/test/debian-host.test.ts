// What the lab's vm flavour (Debian with its own kernel) showed the host-deploy group had wrong
// or lacked on Debian: bonds and VLANs in /etc/network/interfaces, and kernel arguments through
// /etc/default/grub. The lab test (test/integration/host-deploy-vm.test.ts) shows them on a VM.
import { describe, expect, it } from 'vitest';
import { grubCmdline, unquotableArgs, withGrubCmdline } from '../src/_lib/grub-default.js';
import { fenceKdumpDropIn, fenceKdumpUnit } from '../src/_lib/kdump-tools.js';
import { rewriteInterfaces } from '../src/_lib/network/ifupdown.js';

describe('GRUB_CMDLINE_LINUX in /etc/default/grub', () => {
  const debian = [
    'GRUB_DEFAULT=0',
    'GRUB_TIMEOUT=5',
    'GRUB_CMDLINE_LINUX_DEFAULT="quiet"',
    'GRUB_CMDLINE_LINUX=""',
    '#GRUB_CMDLINE_LINUX="commented"',
    '',
  ].join('\n');

  it('reads the last plain assignment, in any of the three quotings', () => {
    expect(grubCmdline(debian)).toEqual({ line: 3, args: [] });
    expect(grubCmdline('GRUB_CMDLINE_LINUX="a b=1"\nGRUB_CMDLINE_LINUX=\'c\'\n')?.args).toEqual(['c']);
    expect(grubCmdline('export GRUB_CMDLINE_LINUX=iommu=pt # why\n')?.args).toEqual(['iommu=pt']);
    expect(grubCmdline('GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n')).toBeNull();
  });

  it('refuses a value it would have to guess at', () => {
    expect(() => grubCmdline('GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX x"\n')).toThrow(/line 1: .* not a plain value/);
    expect(() => grubCmdline('GRUB_CMDLINE_LINUX=`cat /x`\n')).toThrow(/not a plain value/);
    expect(unquotableArgs(['a', 'b="c d"', 'e$f'])).toEqual(['b="c d"', 'e$f']);
  });

  it('sets the value in place, or adds it, and reads back what it wrote', () => {
    const set = withGrubCmdline(debian, ['iommu=pt', 'kvm.ignore_msrs=1']);
    expect(set.split('\n')[3]).toBe('GRUB_CMDLINE_LINUX="iommu=pt kvm.ignore_msrs=1"');
    expect(set.split('\n').length).toBe(debian.split('\n').length);
    expect(grubCmdline(set)?.args).toEqual(['iommu=pt', 'kvm.ignore_msrs=1']);
    expect(withGrubCmdline('GRUB_TIMEOUT=5', ['a'])).toBe('GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="a"\n');
    expect(withGrubCmdline(set, [])).toBe(debian);
  });
});

describe('ifupdown: the bridge on a bond or a VLAN', () => {
  it('keeps what makes the bond with the bond, and moves the IP settings', () => {
    const bond = [
      'auto bond0',
      'iface bond0 inet static',
      '    address 10.88.0.110/24',
      '    gateway 10.88.0.1',
      '    bond-slaves eth0 eth1',
      '    bond-mode active-backup',
      '    bond_miimon 100',
      '',
    ].join('\n');
    expect(rewriteInterfaces(bond, 'bond0', 'ovirtmgmt')).toBe(
      [
        'auto bond0',
        'iface bond0 inet manual',
        '    bond-slaves eth0 eth1',
        '    bond-mode active-backup',
        '    bond_miimon 100',
        '',
        '# Management bridge made by ovirt-host-deploy; bond0 is its port.',
        'auto ovirtmgmt',
        'iface ovirtmgmt inet static',
        '    bridge_ports bond0',
        '    bridge_stp off',
        '    bridge_fd 0',
        '    address 10.88.0.110/24',
        '    gateway 10.88.0.1',
        '',
      ].join('\n'),
    );
  });

  it('keeps the VLAN device with its raw device', () => {
    const vlan = 'auto eth2.100\niface eth2.100 inet static\n    address 10.88.0.111/24\n    vlan-raw-device eth2\n';
    expect(rewriteInterfaces(vlan, 'eth2.100', 'ovirtmgmt')).toBe(
      [
        'auto eth2.100',
        'iface eth2.100 inet manual',
        '    vlan-raw-device eth2',
        '',
        '# Management bridge made by ovirt-host-deploy; eth2.100 is its port.',
        'auto ovirtmgmt',
        'iface ovirtmgmt inet static',
        '    bridge_ports eth2.100',
        '    bridge_stp off',
        '    bridge_fd 0',
        '    address 10.88.0.111/24',
        '',
      ].join('\n'),
    );
  });
});

describe('fence_kdump with kdump-tools', () => {
  it('runs the sender in the crash kernel, once the network is up, wanted by the dump service', () => {
    const unit = fenceKdumpUnit({
      sender: '/usr/libexec/fence-agents/fence_kdump_send',
      address: '10.88.0.1',
      port: 7410,
      interval: 5,
    });
    expect(unit).toContain('\nExecStart=/usr/libexec/fence-agents/fence_kdump_send -p 7410 -i 5 10.88.0.1\n');
    expect(unit).toMatch(/\nAfter=network-online.target\n/);
    expect(unit).toMatch(/\nBefore=kdump-tools-dump.service\n/);
    expect(fenceKdumpDropIn()).toMatch(/^\[Unit\]\nWants=ovirt-fence-kdump.service$/m);
  });
});
