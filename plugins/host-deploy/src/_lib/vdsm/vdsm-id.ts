/**
 * The host's unique id, as vdsm and the engine know it: /etc/vdsm/vdsm.id when present,
 * else the machine's system UUID (SMBIOS through dmidecode or sysfs on x86, the device
 * tree on POWER), else a random UUID. Firmware placeholders (all zeros, all Fs, "Not
 * Settable") are not ids: cloned or cheap machines report them, and two hosts with the same
 * id would overwrite each other in the engine.
 */
export const VDSM_ID_FILE = '/etc/vdsm/vdsm.id';

export interface IdProbe {
  /** File text, or null when it cannot be read. */
  readFile(path: string): string | null;
  /** `dmidecode -s system-uuid`, or null when dmidecode is not installed. */
  dmidecode(): Promise<{ readonly code: number; readonly stdout: string } | null>;
  readonly arch: string;
  randomUUID(): string;
}

export interface DetectedId {
  readonly id: string;
  readonly source: 'file' | 'dmidecode' | 'sysfs' | 'device-tree' | 'random';
  readonly warnings: readonly string[];
}

const PLACEHOLDER = /^(0{8}-0{4}-0{4}-0{4}-0{12}|f{8}-f{4}-f{4}-f{4}-f{12}|03000200-0400-0500-0006-000700080009)$/i;

/** A usable id out of raw text: trimmed, not empty, not a firmware placeholder. */
export function usableId(text: string | null | undefined): string | null {
  const id = (text ?? '').trim();
  if (id === '' || /^not\b/i.test(id) || PLACEHOLDER.test(id)) return null;
  return id;
}

/** dmidecode's answer: comment lines dropped, exactly one line left. */
export function parseDmidecode(stdout: string): string | null {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  return lines.length === 1 ? usableId(lines[0]) : null;
}

/** /proc/device-tree/system-id holds NULs and commas (`IBM,02XXXXX`). */
export function parseDeviceTreeId(raw: string): string | null {
  return usableId(raw.replace(/\0/g, '').replace(/,/g, ''));
}

export async function detectVdsmId(probe: IdProbe): Promise<DetectedId> {
  const warnings: string[] = [];
  const stored = usableId(probe.readFile(VDSM_ID_FILE)?.split('\n')[0]);
  if (stored !== null) return { id: stored, source: 'file', warnings };
  if (/^(x64|ia32|x86_64|i[3-6]86)$/.test(probe.arch)) {
    const dmi = await probe.dmidecode();
    if (dmi !== null) {
      const id = dmi.code === 0 ? parseDmidecode(dmi.stdout) : null;
      if (id !== null) return { id, source: 'dmidecode', warnings };
      warnings.push(`dmidecode gave no usable system UUID (exit code ${dmi.code})`);
    }
    const sysfs = usableId(probe.readFile('/sys/class/dmi/id/product_uuid'));
    if (sysfs !== null) return { id: sysfs, source: 'sysfs', warnings };
  } else if (/^ppc/.test(probe.arch)) {
    const raw = probe.readFile('/proc/device-tree/system-id');
    const id = raw === null ? null : parseDeviceTreeId(raw);
    if (id !== null) return { id, source: 'device-tree', warnings };
  }
  warnings.push('No system UUID found: using a random id (stored in /etc/vdsm/vdsm.id if the run succeeds)');
  return { id: probe.randomUUID(), source: 'random', warnings };
}
