/**
 * The bridge through NetworkManager, when it manages the device: a bridge profile that takes
 * the IP settings of the device's active profile, and a port profile for the device. NM
 * writes them as keyfiles, so the result is persistent; rollback deletes both profiles and
 * brings the original profile back up.
 */

export interface NmProfile {
  /** The active connection profile on the device. */
  readonly name: string;
  /** `nmcli -g` settings of that profile (ipv4.method, ipv4.addresses, …). */
  readonly settings: Readonly<Record<string, string>>;
}

/** IP settings copied from the device's profile to the bridge's. */
export const NM_IP_SETTINGS = [
  'ipv4.method',
  'ipv4.addresses',
  'ipv4.gateway',
  'ipv4.dns',
  'ipv4.dns-search',
  'ipv4.routes',
  'ipv4.route-metric',
  'ipv4.never-default',
  'ipv6.method',
  'ipv6.addresses',
  'ipv6.gateway',
  'ipv6.dns',
  'ipv6.dns-search',
  'ipv6.routes',
  'ipv6.route-metric',
  'ipv6.never-default',
] as const;

/** `nmcli -t -f <fields> connection show <name>` in terse mode: `name:value` lines (`\:` escapes a colon). */
export function parseNmTerse(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out[line.slice(0, i)] = line
      .slice(i + 1)
      .replace(/\\:/g, ':')
      .replace(/\\\\/g, '\\');
  }
  return out;
}

/** `nmcli -t -f GENERAL.STATE,GENERAL.CONNECTION device show <dev>`: the active profile, or null when unmanaged. */
export function activeProfile(text: string): string | null {
  const fields = parseNmTerse(text);
  const state = fields['GENERAL.STATE'] ?? '';
  const name = fields['GENERAL.CONNECTION'] ?? '';
  return /^100\b/.test(state) && name !== '' && name !== '--' ? name : null;
}

export interface NmCommands {
  readonly up: readonly (readonly string[])[];
  readonly down: readonly (readonly string[])[];
}

/**
 * nmcli argument lists (without the program) to make the bridge, and to undo it. The device's
 * own profile becomes the bridge port (whatever its type: ethernet, VLAN, bond), so no new
 * device profile is needed; its IP settings, which NM drops from a port, are put back by the
 * undo.
 */
export function nmCommands(bridge: string, mac: string | null, profile: NmProfile): NmCommands {
  const ip: string[] = [];
  for (const setting of NM_IP_SETTINGS) {
    const value = profile.settings[setting];
    if (value !== undefined && value !== '' && value !== '--') ip.push(setting, value);
  }
  return {
    up: [
      [
        'connection',
        'add',
        'type',
        'bridge',
        'ifname',
        bridge,
        'con-name',
        bridge,
        'connection.autoconnect',
        'yes',
        'bridge.stp',
        'no',
        ...(mac === null ? [] : ['bridge.mac-address', mac]),
        ...ip,
      ],
      ['connection', 'modify', profile.name, 'connection.master', bridge, 'connection.slave-type', 'bridge'],
      ['connection', 'up', profile.name],
      ['connection', 'up', bridge],
    ],
    down: [
      ['connection', 'modify', profile.name, 'connection.master', '', 'connection.slave-type', '', ...ip],
      ['connection', 'delete', bridge],
      ['connection', 'up', profile.name],
    ],
  };
}
