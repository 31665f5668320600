/**
 * Inventory fields for the host-deploy group (`otopi deploy --group host-deploy`): what the
 * engine knows about a host and its cluster, which becomes the host-deploy dialog program's
 * settings. Like the connection fields, each is a zod schema over the INI text that says in one
 * phrase what is wrong; the loader adds file, line, host and field. Whether a field a run needs
 * is there (`engine_fqdn`) is checked when the group is deployed (`host-deploy/inventory.ts`).
 */
import { z } from 'zod';
import { bool, text } from './schema.js';

const NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
const ADDRESS_RE = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
/** A Linux interface name: at most 15 characters, no slash, no white space. */
const BRIDGE_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const SSH_KEY_RE = /^(?:ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/]+=*(?: .*)?$/;
const VDSM_CONFIG_LINE_RE = /^([A-Za-z0-9_]+\/[A-Za-z0-9_]+)\s*=\s*(.*)$/;

const port = z
  .string()
  .regex(/^\d{1,5}$/, 'expected a port number')
  .transform(Number)
  .refine((p) => p >= 1 && p <= 65_535, 'expected a port number from 1 to 65535');
const hostName = z
  .string()
  .refine((v) => NAME_RE.test(v) || ADDRESS_RE.test(v), 'expected a host name or an IP address');

/** `section/key = value` lines, one per line (indent the lines after the first). */
const vdsmConfig = z.string().transform((value, ctx) => {
  const out: Record<string, string> = {};
  for (const line of value.split('\n').map((l) => l.trim())) {
    if (line === '') continue;
    const match = VDSM_CONFIG_LINE_RE.exec(line);
    if (match === null) {
      ctx.addIssue({
        code: 'custom',
        message: `expected 'section/key = value' lines, e.g. 'vars/ssl = true' (got '${line}')`,
      });
      return z.NEVER;
    }
    out[match[1]!] = match[2]!.trim();
  }
  return out;
});

/** The host-deploy fields of a `[defaults]` or `[host NAME]` section. */
export const HOST_DEPLOY_FIELDS = z.strictObject({
  /** The engine's host name: VDSM/engineHost, and the fence_kdump destination. Required by host-deploy. */
  engine_fqdn: hostName.optional(),
  /** VDSM/engineAddress: the engine's address, so the host need not resolve `engine_fqdn`. */
  engine_address: z.string().regex(ADDRESS_RE, 'expected an IP address').optional(),
  /** VDSM/enginePort: the port the host checks the engine on after making the bridge. Default 80. */
  engine_port: port.optional(),
  /** NETWORK/sshKey: the engine's public key line, added to the host user's authorized_keys. */
  engine_ssh_key: z
    .string()
    .regex(SSH_KEY_RE, 'expected an OpenSSH public key line (ssh-ed25519 AAAA… comment)')
    .optional(),
  /** The host's name in its certificate (CN and subjectAltName). Default: the host's section name. */
  host_fqdn: hostName.optional(),
  /** Organization of the CA when it is created (O= of every certificate). Default `otopi`. */
  organization: text.optional(),
  /** Folder of the CA that signs the host's certificate (created 0700 when missing). */
  ca_dir: text.optional(),
  /** `enroll` (sign the host's request, the default) or `none`. */
  certificate: z.enum(['enroll', 'none'], "expected 'enroll' or 'none'").optional(),
  /** Validity of the host certificate in days. Default 398. */
  certificate_days: z
    .string()
    .regex(/^\d{1,4}$/, 'expected a number of days')
    .transform(Number)
    .refine((d) => d >= 1 && d <= 3650, 'expected 1 to 3650 days')
    .optional(),
  /** `default` (the oVirt rules, the default) or `none` (the firewall is left alone). */
  firewall: z.enum(['default', 'none'], "expected 'default' or 'none'").optional(),
  /** A file of iptables rules (iptables-save form; @VDSM_PORT@, @SSH_PORT@, @CUSTOM_RULES@ are filled in) instead of the default. */
  firewall_rules: text.optional(),
  /** VDSM/managementBridgeName, or `none` for no bridge. Default `ovirtmgmt`. */
  management_bridge: z
    .string()
    .refine((v) => v === 'none' || BRIDGE_RE.test(v), "expected an interface name of at most 15 characters, or 'none'")
    .optional(),
  /** VDSM_CONFIG/addresses/management_port. Default 54321. */
  vdsm_port: port.optional(),
  /** More vdsm.conf values (VDSM_CONFIG/section/key), one `section/key = value` per line. */
  vdsm_config: vdsmConfig.optional(),
  /** VDSM/checkVirtHardware. Default true. */
  check_virt_hardware: bool.optional(),
  /** OVIRT_ENGINE/correlationId, on the command line so every host log line carries it. */
  correlation_id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'expected up to 64 letters, digits, dots, dashes, colons and underscores')
    .optional(),
  /** ODEPLOY/offlinePackager: install nothing, vdsm must be there already. Default false. */
  offline_packager: bool.optional(),
  /** ODEPLOY/forceReboot: reboot the host at the end. Default false. */
  reboot: bool.optional(),
  /** fence_kdump integration (KDUMP/*), when the host supports it. Default false. */
  kdump: bool.optional(),
  /** KDUMP/destinationAddress: where the host's fence_kdump messages go. Default `engine_fqdn`. */
  kdump_destination: hostName.optional(),
  /** KERNEL/cmdlineNew: kernel arguments the host must boot with (space-separated). */
  kernel_cmdline: text.optional(),
  /** KERNEL/cmdlineOld: kernel arguments a previous deploy added, removed unless asked again. */
  kernel_cmdline_old: text.optional(),
});

export type HostDeployFields = z.output<typeof HOST_DEPLOY_FIELDS>;
export type HostDeployFieldName = keyof z.input<typeof HOST_DEPLOY_FIELDS>;
export const HOST_DEPLOY_FIELD_NAMES = Object.keys(HOST_DEPLOY_FIELDS.shape) as HostDeployFieldName[];
