/**
 * Persisting the bridge for ifupdown (/etc/network/interfaces and interfaces.d): the device's
 * `iface` stanzas move to the bridge (with `bridge_ports <device>`), and the device keeps an
 * `inet manual` stanza. Options that belong to the link stay with the device: mtu, hwaddress, and
 * what makes a bond (`bond-*`, `slaves`) or a VLAN (`vlan-raw-device`), so the bond or VLAN is
 * still made at boot, now as the bridge's port. Comments and every other stanza are kept.
 */

const STANZA = /^(iface|mapping|auto|allow-[\w-]+|source|source-directory|no-auto-down|no-scripts|rename)\b/;
const LINK_OPTIONS = new Set(['mtu', 'hwaddress', 'slaves', 'vlan-raw-device', 'vlan_raw_device']);
const isLinkOption = (option: string): boolean => {
  const name = option.split(/\s+/)[0]!;
  return LINK_OPTIONS.has(name) || /^bond[-_]/.test(name);
};

interface Stanza {
  readonly family: string;
  readonly method: string;
  readonly start: number;
  /** Line index after the last option line. */
  readonly end: number;
  readonly options: readonly string[];
}

function stanzasOf(lines: readonly string[], device: string): Stanza[] {
  const out: Stanza[] = [];
  for (let i = 0; i < lines.length; i++) {
    const words = lines[i]!.trim().split(/\s+/);
    if (words[0] !== 'iface' || words[1] !== device) continue;
    let end = i + 1;
    const options: string[] = [];
    for (let j = i + 1; j < lines.length; j++) {
      const t = lines[j]!.trim();
      if (STANZA.test(t)) break;
      if (t !== '' && !t.startsWith('#')) {
        options.push(t);
        end = j + 1;
      }
    }
    out.push({ family: words[2] ?? 'inet', method: words[3] ?? 'manual', start: i, end, options });
  }
  return out;
}

/** Whether this interfaces file configures `device`. */
export function configuresDevice(text: string, device: string): boolean {
  return stanzasOf(text.split('\n'), device).length > 0;
}

/** The file with the device's stanzas moved onto the bridge; null when it does not configure the device. */
export function rewriteInterfaces(text: string, device: string, bridge: string): string | null {
  const lines = text.replace(/\n$/, '').split('\n');
  const stanzas = stanzasOf(lines, device);
  if (stanzas.length === 0) return null;
  const out: string[] = [];
  const bridgeStanzas: string[] = [];
  let next = 0;
  stanzas.forEach((s, index) => {
    out.push(...lines.slice(next, s.start));
    const link = s.options.filter(isLinkOption);
    const moved = s.options.filter((o) => !isLinkOption(o) && !o.startsWith('bridge'));
    if (s.family === 'inet' || (index === 0 && !stanzas.some((t) => t.family === 'inet'))) {
      out.push(`iface ${device} ${s.family === 'inet6' ? 'inet' : s.family} manual`, ...link.map((o) => `    ${o}`));
    }
    bridgeStanzas.push(`iface ${bridge} ${s.family} ${s.method}`);
    if (index === 0) bridgeStanzas.push(`    bridge_ports ${device}`, '    bridge_stp off', '    bridge_fd 0');
    bridgeStanzas.push(...moved.map((o) => `    ${o}`));
    next = s.end;
  });
  out.push(...lines.slice(next));
  while (out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
  out.push(
    '',
    `# Management bridge made by ovirt-host-deploy; ${device} is its port.`,
    `auto ${bridge}`,
    ...bridgeStanzas,
  );
  return `${out.join('\n')}\n`;
}

/**
 * The folder Debian's /etc/network/interfaces reads whole (`source /etc/network/interfaces.d/*`):
 * every file in it but the hidden ones is configuration, a backup `<name>.<stamp>` too.
 */
export const INTERFACES_D = '/etc/network/interfaces.d';

/** The interfaces files, main file first, then interfaces.d in name order. */
export function interfacesFiles(list: (dir: string) => string[]): string[] {
  return [
    '/etc/network/interfaces',
    ...list(INTERFACES_D)
      .filter((n) => /^[\w.-]+$/.test(n))
      .sort()
      .map((n) => `${INTERFACES_D}/${n}`),
  ];
}
