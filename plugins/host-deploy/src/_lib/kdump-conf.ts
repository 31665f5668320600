/**
 * fence_kdump in /etc/kdump.conf (reference §2.8): lines the administrator had for
 * fence_kdump are kept, commented out, in a marked backup block (made once, on the first
 * deploy), and the engine's destination is appended. Running it again on its own output gives
 * the same text, so a redeploy changes nothing.
 */

export const KDUMP_CONF = '/etc/kdump.conf';
export const BACKUP_BEGIN = '#ovirt-host-deploy:backup-begin';
export const BACKUP_END = '#ovirt-host-deploy:backup-end';

const FENCE_LINE = /^\s*fence_kdump_(nodes|args)\b/;

export interface FenceKdump {
  readonly address: string;
  readonly port: number;
  readonly interval: number;
}

export function rewriteKdumpConf(text: string, fence: FenceKdump): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const hasBackup = lines.some((l) => l.trim() === BACKUP_BEGIN);
  const kept: string[] = [];
  const backup: string[] = [];
  for (const line of lines) {
    if (FENCE_LINE.test(line)) {
      // Before the first deploy these are the administrator's; afterwards they are ours.
      if (!hasBackup) backup.push(`#${line}`);
      continue;
    }
    kept.push(line);
  }
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop();
  if (backup.length > 0) kept.push(BACKUP_BEGIN, ...backup, BACKUP_END);
  kept.push(`fence_kdump_nodes ${fence.address}`, `fence_kdump_args -p ${fence.port} -i ${fence.interval}`);
  return `${kept.join('\n')}\n`;
}

/** `crashkernel=` on the running kernel's command line. */
export function hasCrashKernel(cmdline: string): boolean {
  return /(^|\s)crashkernel=\S+/.test(cmdline);
}

/** Lowest kexec-tools with fence_kdump support, by distribution family. */
export const KEXEC_MINIMUM: Readonly<Record<string, string>> = { rhel: '2.0.4-32.1', fedora: '2.0.4-27' };
