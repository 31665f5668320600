/**
 * host-mgmt for `otopi deploy --group host-mgmt`: one action for every host of the run (check
 * for updates, upgrade, or re-enroll the certificate), turned into each host's dialog program
 * (`hostMgmtProgram`) and a conclusion for the report (the updates found, the certificate
 * replaced). A host whose inventory says `offline_packager = true` runs with the offline
 * packager (`OMGMT_CORE/offlinePackager`). A re-enrollment reads the hosts' host-deploy fields (`host_fqdn`, `ca_dir`,
 * `organization`, `certificate_days`) from the same inventory as the deploy, so the new
 * certificate has the same names and CA; its CAs are loaded before any host is contacted.
 */
import { OmgmtCoreEnv } from '../../../../plugins/host-mgmt/src/_lib/contract.js';
import type { InventoryHost } from '../inventory/inventory.js';
import type { DeployProgramFactory, GroupProgram } from '../orchestrate/program.js';
import { CertificateAuthority } from '../pki/ca.js';
import { EngineError } from '../errors.js';
import { hostDeploySettings } from '../host-deploy/inventory-program.js';
import { hostMgmtProgram, hostMgmtResult, type HostMgmtAction } from './program.js';

export interface HostMgmtRunOptions {
  readonly action: HostMgmtAction;
  /** Package names to check or upgrade; the program's default when absent. */
  readonly packages?: readonly string[] | undefined;
  /** enroll-certificate: make a new host key. */
  readonly newKey?: boolean | undefined;
  /** The CA folder for hosts whose inventory names none. */
  readonly caDir?: string | undefined;
  readonly onNote?: (text: string) => void;
}

/** Checks the hosts for the action, loads the CAs a re-enrollment signs with, and returns the group's factory. */
export async function prepareHostMgmt(
  hosts: readonly InventoryHost[],
  options: HostMgmtRunOptions,
): Promise<DeployProgramFactory> {
  const signing = new Map<
    string,
    { ca: CertificateAuthority; days: number | undefined; host: { name: string; address?: string } }
  >();
  if (options.action === 'enroll-certificate') {
    const cas = new Map<string, CertificateAuthority>();
    for (const host of hosts) {
      const s = hostDeploySettings(host, { caDir: options.caDir });
      if (s.caDir === undefined)
        throw new EngineError('USAGE', `host ${host.name} has 'certificate = none': there is nothing to re-enroll`);
      let ca = cas.get(s.caDir);
      if (ca === undefined) {
        try {
          ca = await CertificateAuthority.load(s.caDir);
        } catch (error) {
          throw new EngineError('CA_UNAVAILABLE', `cannot load the CA in ${s.caDir}: ${(error as Error).message}`, {
            cause: error,
            file: s.caDir,
            hint: 'a re-enrollment signs with the CA that deployed the hosts: give its folder with --ca-dir',
          });
        }
        cas.set(s.caDir, ca);
        options.onNote?.(`signing with the CA in ${s.caDir}`);
      }
      signing.set(host.name, { ca, days: s.days, host: s.config.host });
    }
  }

  return (host, ctx) => {
    const sign = signing.get(host.name);
    const program = hostMgmtProgram({
      action: options.action,
      host: sign?.host ?? { name: host.name },
      ...(options.packages === undefined ? {} : { packages: options.packages }),
      ...(options.newKey === true ? { newKey: true } : {}),
      ...(sign === undefined ? {} : { pki: { ca: sign.ca, ...(sign.days === undefined ? {} : { days: sign.days }) } }),
      prolog: false,
      onLog: (_level, text) => ctx.log(`host-mgmt: ${text}`),
    });
    const { onLog: _hostRecords, ...rest } = program;
    const group: GroupProgram = {
      ...rest,
      // The inventory's offline_packager, as for host-deploy: on the command line, since the
      // packager is chosen at setup, before the dialog.
      statements: host.hostDeploy?.offline_packager === true ? [`${OmgmtCoreEnv.offlinePackager.key}=bool:True`] : [],
      conclude: (outcome, result) => {
        if (outcome === undefined) return undefined;
        const r = hostMgmtResult(outcome);
        const facts = options.action === 'enroll-certificate' ? {} : { packagesInfo: r.packagesInfo.join(' ') };
        // A host that failed reports its own errors; what it found is only a fact then.
        if (result !== 'installed') return { facts };
        if (options.action === 'enroll-certificate')
          return { details: r.enrolled ? ['certificate re-enrolled'] : [], facts };
        const verb = options.action === 'upgrade' ? 'upgraded' : 'update available';
        return { details: r.packagesInfo.map((p) => `${verb}: ${p}`), facts };
      },
    };
    return group;
  };
}
