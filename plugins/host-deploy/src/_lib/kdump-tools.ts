/**
 * fence_kdump on Debian and Ubuntu, whose kdump-tools has no fence_kdump support of its own (EL's
 * kexec-tools reads `fence_kdump_*` from /etc/kdump.conf). kdump-tools boots the crash kernel
 * into the host's own root with `systemd.unit=kdump-tools-dump.service`, so a unit that this
 * service wants runs in the crash kernel, on the host's network: it sends fence_kdump messages
 * (fence_kdump_send, from the fence-agents package) to the engine while the dump is taken.
 */

export const KDUMP_TOOLS_DEFAULT = '/etc/default/kdump-tools';
export const FENCE_UNIT = '/etc/systemd/system/ovirt-fence-kdump.service';
export const FENCE_DROPIN = '/etc/systemd/system/kdump-tools-dump.service.d/50-ovirt-fence-kdump.conf';
/** Where distributions put fence-agents' sender (Debian: libexec; EL: sbin). */
export const FENCE_SENDERS = [
  '/usr/libexec/fence-agents/fence_kdump_send',
  '/usr/lib/fence-agents/fence_kdump_send',
  '/usr/sbin/fence_kdump_send',
] as const;

export interface FenceTarget {
  readonly sender: string;
  readonly address: string;
  readonly port: number;
  readonly interval: number;
}

/** The unit that sends fence_kdump messages from the crash kernel until the dump ends. */
export function fenceKdumpUnit(t: FenceTarget): string {
  return [
    '# Written by ovirt-host-deploy: fence_kdump messages to the engine while a crash dump is taken.',
    '[Unit]',
    'Description=fence_kdump messages to the engine during a crash dump',
    'DefaultDependencies=no',
    'Wants=network-online.target',
    'After=network-online.target',
    'Before=kdump-tools-dump.service',
    '',
    '[Service]',
    `ExecStart=${t.sender} -p ${t.port} -i ${t.interval} ${t.address}`,
    '',
  ].join('\n');
}

/** The drop-in that makes the dump service want the unit above. */
export function fenceKdumpDropIn(): string {
  return ['# Written by ovirt-host-deploy.', '[Unit]', 'Wants=ovirt-fence-kdump.service', ''].join('\n');
}
