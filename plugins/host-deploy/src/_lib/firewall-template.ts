/**
 * The oVirt default host firewall (reference §5), for iptables, nftables and firewalld:
 * vdsm, ovirt-imageio, rpc.statd, SSH, SNMP and Cockpit, plus, on a virtualization cluster,
 * libvirt TLS, the serial console, VM consoles and migration; everything else is refused.
 * An engine's own iptables rules may use the placeholders @VDSM_PORT@, @SSH_PORT@ and
 * @CUSTOM_RULES@, filled in here as the engine used to.
 */

export interface TemplateInput {
  readonly vdsmPort: number;
  readonly sshPort: number;
  /** VIRT/enable: open the VM ports. */
  readonly virt: boolean;
}

interface Port {
  readonly proto: 'tcp' | 'udp';
  /** `54321` or a range `5900-6923`. */
  readonly port: string;
  readonly what: string;
}

export function defaultPorts(input: TemplateInput): Port[] {
  const ports: Port[] = [
    { proto: 'tcp', port: String(input.vdsmPort), what: 'vdsm' },
    { proto: 'tcp', port: '54322', what: 'ovirt-imageio' },
    { proto: 'tcp', port: '111', what: 'rpc.statd' },
    { proto: 'udp', port: '111', what: 'rpc.statd' },
    { proto: 'tcp', port: String(input.sshPort), what: 'SSH' },
    { proto: 'udp', port: '161', what: 'SNMP' },
    { proto: 'tcp', port: '9090', what: 'Cockpit' },
  ];
  if (input.virt) ports.push(...virtPorts());
  return ports;
}

function virtPorts(): Port[] {
  return [
    { proto: 'tcp', port: '16514', what: 'libvirt TLS' },
    { proto: 'tcp', port: '2223', what: 'serial console' },
    { proto: 'tcp', port: '5900-6923', what: 'VM consoles' },
    { proto: 'tcp', port: '49152-49216', what: 'migration' },
  ];
}

const iptablesRule = (p: Port): string =>
  `-A INPUT -p ${p.proto} -m ${p.proto} --dport ${p.port.replace('-', ':')} -j ACCEPT`;

/** Fills the engine's placeholders into its rules. */
export function fillPlaceholders(rules: readonly string[], input: TemplateInput): string[] {
  const custom = input.virt ? virtPorts().map(iptablesRule) : [];
  return rules.flatMap((line) =>
    line.trim() === '@CUSTOM_RULES@'
      ? custom
      : [
          line
            .replace(/@VDSM_PORT@/g, String(input.vdsmPort))
            .replace(/@SSH_PORT@/g, String(input.sshPort))
            .replace(/@CUSTOM_RULES@/g, ''),
        ],
  );
}

export function defaultIptables(input: TemplateInput): string[] {
  return [
    '# oVirt default host firewall, written by ovirt-host-deploy',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A INPUT -p icmp -j ACCEPT',
    '-A INPUT -i lo -j ACCEPT',
    ...defaultPorts(input).map(iptablesRule),
    '-A INPUT -j REJECT --reject-with icmp-host-prohibited',
    '-A FORWARD -m physdev ! --physdev-is-bridged -j REJECT --reject-with icmp-host-prohibited',
    'COMMIT',
  ];
}

export const NFT_TABLE = 'ovirt_host';

export function defaultNftables(input: TemplateInput): string[] {
  const set = (proto: 'tcp' | 'udp'): string =>
    defaultPorts(input)
      .filter((p) => p.proto === proto)
      .map((p) => p.port)
      .join(', ');
  return [
    `table inet ${NFT_TABLE} {`,
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    ct state established,related accept',
    '    iifname "lo" accept',
    '    meta l4proto { icmp, ipv6-icmp } accept',
    `    tcp dport { ${set('tcp')} } accept`,
    `    udp dport { ${set('udp')} } accept`,
    '    reject with icmpx type admin-prohibited',
    '  }',
    '}',
  ];
}

/** firewalld ports (`54321/tcp`, `5900-6923/tcp`). */
export function defaultFirewalldPorts(input: TemplateInput): string[] {
  return defaultPorts(input).map((p) => `${p.port}/${p.proto}`);
}

/** The SSH port this session came in on (SSH_CONNECTION's 4th field), else 22. */
export function sshPortOf(sshConnection: string | undefined): number {
  const port = Number((sshConnection ?? '').trim().split(/\s+/)[3]);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : 22;
}

/**
 * firewalld's own services for the default ports it defines itself, as oVirt's firewalld
 * setup named them; a port goes in as a service only when the whole service is that port (both
 * protocols of rpc-bind) and firewalld knows the name on this host. Services that packages bring
 * (vdsm, ovirt-imageio, ovirt-vmconsole) are left as ports: they appear only once the packages are
 * installed, after this plan is made, and a second run would then see a different plan.
 */
const FIREWALLD_SERVICES: readonly { readonly service: string; readonly ports: readonly string[] }[] = [
  { service: 'ssh', ports: ['22/tcp'] },
  { service: 'rpc-bind', ports: ['111/tcp', '111/udp'] },
  { service: 'snmp', ports: ['161/udp'] },
  { service: 'cockpit', ports: ['9090/tcp'] },
  { service: 'libvirt-tls', ports: ['16514/tcp'] },
];

/** The oVirt default for firewalld: its services where it knows them, ports for the rest. */
export function defaultFirewalld(
  input: TemplateInput,
  known: ReadonlySet<string>,
): { services: string[]; ports: string[] } {
  let ports = defaultFirewalldPorts(input);
  const services: string[] = [];
  for (const s of FIREWALLD_SERVICES) {
    if (!known.has(s.service) || !s.ports.every((p) => ports.includes(p))) continue;
    services.push(s.service);
    ports = ports.filter((p) => !s.ports.includes(p));
  }
  return { services, ports };
}
