/**
 * Where the VDSM, libvirt and SPICE certificates and keys go, with owners and modes, as
 * ovirt-host-deploy laid them out (reference §3.1 step 5). The trust store is vdsm's
 * `[vars] trust_store_path`, /etc/pki/vdsm by default.
 */
export type PkiContent = 'ca' | 'cert' | 'key';

export interface PkiFile {
  readonly path: string;
  readonly content: PkiContent;
  readonly owner: 'root' | 'vdsm';
  readonly group: 'root' | 'kvm';
  readonly mode: number;
}

export interface PkiFolder {
  readonly path: string;
  readonly mode: number;
  /** The legacy spice folder is always put right (rhbz#1008328); the others only when created. */
  readonly always: boolean;
}

export const LIBVIRT_PKI = '/etc/pki/libvirt';
export const CA_DIR = '/etc/pki/CA';

export function pendingKeyPath(store: string): string {
  return `${store}/keys/vdsmkey.pending.pem`;
}

/** The request of the pending key, kept for whoever signs it (`request` mode). */
export function pendingRequestPath(store: string): string {
  return `${store}/requests/vdsm.csr`;
}

export function pkiFiles(store: string): PkiFile[] {
  const pub = (path: string, content: PkiContent): PkiFile => ({
    path,
    content,
    owner: 'root',
    group: 'root',
    mode: 0o644,
  });
  const key = (path: string): PkiFile => ({ path, content: 'key', owner: 'vdsm', group: 'kvm', mode: 0o440 });
  return [
    pub(`${store}/certs/cacert.pem`, 'ca'),
    pub(`${store}/libvirt-spice/ca-cert.pem`, 'ca'),
    pub(`${CA_DIR}/cacert.pem`, 'ca'),
    pub(`${store}/certs/vdsmcert.pem`, 'cert'),
    pub(`${store}/libvirt-spice/server-cert.pem`, 'cert'),
    pub(`${LIBVIRT_PKI}/clientcert.pem`, 'cert'),
    key(`${store}/keys/vdsmkey.pem`),
    key(`${store}/libvirt-spice/server-key.pem`),
    key(`${LIBVIRT_PKI}/private/clientkey.pem`),
  ];
}

/** Folders of the store, owned by vdsm:kvm. */
export function pkiFolders(store: string): PkiFolder[] {
  return [
    { path: `${store}/certs`, mode: 0o755, always: false },
    { path: `${store}/keys`, mode: 0o750, always: false },
    { path: `${store}/libvirt-spice`, mode: 0o755, always: true },
  ];
}
