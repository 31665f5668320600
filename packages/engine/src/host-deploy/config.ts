/**
 * What the engine knows about one host and its cluster, from which the host-deploy dialog
 * program is made. Every field says which environment key it becomes on the host.
 */
import type { WireValue } from '../dialog/driver.js';
import type { LogLevel } from '../dialog/parser.js';
import type { CertificateAuthority } from '../pki/ca.js';

export interface HostDeployHost {
  /** The host's name as the engine knows it: CN and subjectAltName of its certificate. */
  readonly name: string;
  /** Another address for the certificate's subjectAltName (e.g. the IP the engine connects to). */
  readonly address?: string;
  /** Whose authorized_keys gets the engine's SSH key (NETWORK/sshUser). Default `root`. */
  readonly sshUser?: string;
}

export interface HostDeployEngine {
  /** The engine's host name: VDSM/engineHost, and the fence_kdump destination by default. */
  readonly fqdn: string;
  /** VDSM/engineAddress: skips resolving `fqdn` on the host. */
  readonly address?: string;
  /** VDSM/enginePort: the port the host checks the engine on after making the bridge. Default 80. */
  readonly port?: number;
  /** NETWORK/sshKey: the engine's public key line, installed for later key logins. */
  readonly sshPublicKey?: string;
}

export interface HostDeployCluster {
  /** VIRT/enable and, unless `checkVirtHardware` says otherwise, VDSM/checkVirtHardware. Default true. */
  readonly virt?: boolean;
  /** GLUSTER/enable (accepted by the host, not implemented: it warns). Default false. */
  readonly gluster?: boolean;
  /** VDSM/checkVirtHardware. Default: `virt`. */
  readonly checkVirtHardware?: boolean;
  /** TUNE/tunedProfile; null leaves the host's default ('virtual-host' on a virt cluster). */
  readonly tunedProfile?: string | null;
  /** VDSM_CONFIG/vars/ssl. Default true. */
  readonly encryptHostCommunication?: boolean;
  /** VDSM_CONFIG/vars/ssl_excludes; null sends nothing. Default 'OP_NO_TLSv1,OP_NO_TLSv1_1'. */
  readonly sslExcludes?: string | null;
  /** VDSM_CONFIG/vars/ssl_ciphers; null sends nothing. */
  readonly sslCiphers?: string | null;
  /** VDSM_CONFIG/vars/net_nmstate_enabled; null sends nothing. */
  readonly nmstate?: boolean | null;
  /** VDSM_CONFIG/addresses/management_port. Default 54321. */
  readonly vdsmPort?: number;
  /** More vdsm.conf values: `'section/key'` → value (VDSM_CONFIG/section/key). */
  readonly vdsmConfig?: Readonly<Record<string, string>>;
  /** VDSM/vdsmMinimumVersion; null sends nothing. Default '4.9' (the engine's BootstrapMinimalVdsmVersion). */
  readonly vdsmMinimumVersion?: string | null;
  /** VDSM/managementBridgeName; null: the host makes no bridge. Default 'ovirtmgmt'. */
  readonly managementBridge?: string | null;
}

export type FirewallSetting =
  /** NETWORK/iptablesEnable with no rules: the host applies the oVirt default rules. */
  | 'default'
  /** NETWORK/iptablesEnable and NETWORK/iptablesRules (@VDSM_PORT@, @SSH_PORT@, @CUSTOM_RULES@ allowed). */
  | { readonly iptablesRules: readonly string[] };

export interface HostDeployConfig {
  readonly host: HostDeployHost;
  readonly engine: HostDeployEngine;
  readonly cluster?: HostDeployCluster;
  /** Sign the host's certificate request with this CA (VDSM/certificateEnrollment=inline); absent: no enrollment. */
  readonly pki?: { readonly ca: CertificateAuthority; readonly days?: number };
  /** The host firewall; absent: left alone. */
  readonly firewall?: FirewallSetting;
  /** fence_kdump, enabled when the host reports KDUMP/supported. Port 7410 and interval 5 by default. */
  readonly kdump?: { readonly destinationAddress?: string; readonly port?: number; readonly interval?: number };
  /** KERNEL/cmdlineNew and KERNEL/cmdlineOld. */
  readonly kernel?: { readonly cmdlineNew?: string | null; readonly cmdlineOld?: string | null };
  /** SYSTEM/clockSet. Default true. */
  readonly clockSet?: boolean;
  /** ODEPLOY/forceReboot. Default false. */
  readonly reboot?: boolean;
  /**
   * ODEPLOY/offlinePackager: install nothing, vdsm must already be there. The host chooses its
   * packager at setup, before the dialog, so this goes on the command line: pass
   * `hostDeployStatements(config)` to `deployBundle`. Default false.
   */
  readonly offlinePackager?: boolean;
  /** OVIRT_ENGINE/correlationId; it tags the host's log lines (from the first, with `hostDeployStatements`). */
  readonly correlationId?: string;
  /** VDSM/connectionTimeout and VDSM/connectionRetries for the engine check after the bridge. */
  readonly connection?: { readonly timeoutS?: number; readonly retries?: number };
  /** More settings, sent in order before `install` (e.g. `ODEPLOY/forceFailStage`). */
  readonly settings?: readonly { readonly key: string; readonly value: WireValue }[];
  /**
   * Checks the host's unique id (VDSM/vdsmId) against the other hosts: returns the name of a
   * host that already has it, which fails the deploy (the host rolls back), or undefined.
   */
  readonly checkUniqueId?: (id: string) => string | undefined | Promise<string | undefined>;
  /**
   * Keys something else sets (`otopi deploy` sends the inventory's and the command line's
   * `KEY=type:value` settings first): the program leaves them alone, sending `noop` in place
   * of its own value, so what the user gave wins. Default none.
   */
  readonly given?: ReadonlySet<string>;
  /** Asks the host's log file name and sends the correlation id first. Default true; false when composed after a base program that does it. */
  readonly prolog?: boolean;
  /** Receives the host's log records and the program's own notes (the engine's audit log). */
  readonly onLog?: (level: LogLevel, text: string) => void;
}
