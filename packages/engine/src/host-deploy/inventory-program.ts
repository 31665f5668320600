/**
 * host-deploy for `otopi deploy --group host-deploy`: turns each inventory host's host-deploy
 * fields into the engine's dialog program (`hostDeployProgram`), with the CA that signs the
 * hosts' certificates, one vdsm id registry shared by every host of the run, and a conclusion
 * per host (installed, incomplete, reboot) for the report.
 *
 * Everything that can be wrong with the inventory is found before any host is contacted:
 * `prepareHostDeploy` checks every host and loads (or creates) the CAs and the registry.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { EngineError } from '../errors.js';
import type { InventoryHost } from '../inventory/inventory.js';
import type { HostDeployFieldName } from '../inventory/host-deploy-fields.js';
import { problem } from '../inventory/problem.js';
import type { DeployProgramFactory, GroupProgram } from '../orchestrate/program.js';
import { CertificateAuthority } from '../pki/ca.js';
import type { FirewallSetting, HostDeployConfig } from './config.js';
import { VdsmIdRegistry } from './id-registry.js';
import { DEPLOY_PROCEED, hostDeployProgram, hostDeployStatements } from './program.js';

import { hostDeployResult } from './result.js';

const PROCEED_ANSWER_KEY = `QUESTION/1/DIALOG_CONFIRM/${DEPLOY_PROCEED.name}`;

/** Where the engine CA lives unless told: root's state folder, else beside the fallback log folder. */
export const DEFAULT_CA_DIR = '/var/lib/otopi-deploy/ca';
export const DEFAULT_ORGANIZATION = 'otopi';

export interface HostDeployRunOptions {
  /** The CA folder for hosts whose inventory sets no `ca_dir`. Default {@link defaultCaDir}. */
  readonly caDir?: string | undefined;
  /** A registry file of vdsm ids already registered (`<id> <host>` lines); hosts that install are added. */
  readonly idRegistryFile?: string | undefined;
  /** Told what was set up: which CA folder signs, whether it was created. */
  readonly onNote?: (text: string) => void;
}

export interface HostDeployRun {
  /** The program factory to register for the group (`deployMany`'s `programs['host-deploy']`). */
  readonly factory: DeployProgramFactory;
  /** The vdsm ids claimed so far, shared by every host of the run. */
  readonly registry: VdsmIdRegistry;
  /** The CA folders in use. */
  readonly caDirs: readonly string[];
}

interface HostSettings {
  readonly config: Omit<HostDeployConfig, 'checkUniqueId' | 'onLog' | 'given' | 'prolog' | 'pki'>;
  readonly caDir: string | undefined;
  readonly organization: string;
  readonly days: number | undefined;
}

/** `/var/lib/otopi-deploy/ca` when it can be made, else `$TMPDIR/otopi-deploy-<uid>/ca` (the fallback log folder's). */
export function defaultCaDir(): string {
  try {
    mkdirSync(dirname(DEFAULT_CA_DIR), { recursive: true, mode: 0o700 });
    return DEFAULT_CA_DIR;
  } catch {
    return join(tmpdir(), `otopi-deploy-${process.getuid?.() ?? 'user'}`, 'ca');
  }
}

function at(host: InventoryHost, field: HostDeployFieldName) {
  return { file: host.source.file, line: host.fieldLines?.[field] ?? host.source.line, host: host.name, field };
}

/** Reads a host's fields into its program settings; every problem names file, line, host and field. */
export function hostDeploySettings(host: InventoryHost, options: { caDir?: string | undefined } = {}): HostSettings {
  const f = host.hostDeploy ?? {};
  if (f.engine_fqdn === undefined) {
    throw problem(
      'INVENTORY_INVALID',
      { file: host.source.file, line: host.source.line, host: host.name, field: 'engine_fqdn' },
      'the host-deploy group needs the engine host name',
      "add 'engine_fqdn = engine.example.com' to [defaults] or the host's section",
    );
  }
  const base = dirname(host.source.file);
  let firewall: FirewallSetting | undefined = f.firewall === 'none' ? undefined : 'default';
  if (f.firewall_rules !== undefined) {
    if (f.firewall === 'none')
      throw problem(
        'INVENTORY_INVALID',
        at(host, 'firewall_rules'),
        "firewall rules given with 'firewall = none'",
        'remove one of the two',
      );
    const file = resolve(base, f.firewall_rules);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw problem(
        'INVENTORY_INVALID',
        at(host, 'firewall_rules'),
        `cannot read ${file}: ${(error as Error).message}`,
      );
    }
    const rules = text.split('\n').filter((l) => l.trim() !== '');
    if (rules.length === 0) throw problem('INVENTORY_INVALID', at(host, 'firewall_rules'), `${file} holds no rules`);
    firewall = { iptablesRules: rules };
  }
  const name = f.host_fqdn ?? host.name;
  const config: HostSettings['config'] = {
    host: { name, ...(host.address === name ? {} : { address: host.address }), sshUser: host.user },
    engine: {
      fqdn: f.engine_fqdn,
      ...(f.engine_address === undefined ? {} : { address: f.engine_address }),
      ...(f.engine_port === undefined ? {} : { port: f.engine_port }),
      ...(f.engine_ssh_key === undefined ? {} : { sshPublicKey: f.engine_ssh_key }),
    },
    cluster: {
      ...(f.check_virt_hardware === undefined ? {} : { checkVirtHardware: f.check_virt_hardware }),
      ...(f.vdsm_port === undefined ? {} : { vdsmPort: f.vdsm_port }),
      ...(f.vdsm_config === undefined ? {} : { vdsmConfig: f.vdsm_config }),
      ...(f.management_bridge === undefined
        ? {}
        : { managementBridge: f.management_bridge === 'none' ? null : f.management_bridge }),
    },
    ...(firewall === undefined ? {} : { firewall }),
    ...(f.correlation_id === undefined ? {} : { correlationId: f.correlation_id }),
    ...(f.offline_packager === undefined ? {} : { offlinePackager: f.offline_packager }),
    ...(f.reboot === undefined ? {} : { reboot: f.reboot }),
    ...(f.kdump === true
      ? { kdump: f.kdump_destination === undefined ? {} : { destinationAddress: f.kdump_destination } }
      : {}),
    ...(f.kernel_cmdline === undefined && f.kernel_cmdline_old === undefined
      ? {}
      : {
          kernel: {
            ...(f.kernel_cmdline === undefined ? {} : { cmdlineNew: f.kernel_cmdline }),
            ...(f.kernel_cmdline_old === undefined ? {} : { cmdlineOld: f.kernel_cmdline_old }),
          },
        }),
  };
  const enroll = f.certificate !== 'none';
  return {
    config,
    caDir: enroll
      ? resolve(f.ca_dir === undefined ? (options.caDir ?? defaultCaDir()) : resolve(base, f.ca_dir))
      : undefined,
    organization: f.organization ?? DEFAULT_ORGANIZATION,
    days: f.certificate_days,
  };
}

async function loadCa(
  dir: string,
  organization: string,
  onNote?: (text: string) => void,
): Promise<CertificateAuthority> {
  // The x509 library loads here (pki/ca.ts imports it on first use): only runs that sign pay for it.
  const existed = existsSync(join(dir, 'ca.pem'));
  try {
    const { ca, created } = await CertificateAuthority.open(dir, { organization });
    onNote?.(`${created ? 'created a CA (O=' + organization + ') in' : 'signing with the CA in'} ${dir}`);
    return ca;
  } catch (error) {
    throw new EngineError(
      'CA_UNAVAILABLE',
      `cannot ${existed ? 'load' : 'create'} the CA in ${dir}: ${(error as Error).message}`,
      {
        cause: error,
        file: dir,
        hint: 'give a folder you may write with --ca-dir (or ca_dir in the inventory); it needs ca.pem and ca.key',
      },
    );
  }
}

/**
 * Checks every host's host-deploy fields, loads or creates the CAs they name and the vdsm id
 * registry, and returns the group's program factory.
 *
 * @throws EngineError `INVENTORY_INVALID` (file, line, host, field), `CA_UNAVAILABLE`, `VDSM_ID_REGISTRY`.
 */
export async function prepareHostDeploy(
  hosts: readonly InventoryHost[],
  options: HostDeployRunOptions = {},
): Promise<HostDeployRun> {
  const settings = new Map(hosts.map((h) => [h.name, hostDeploySettings(h, { caDir: options.caDir })]));
  const cas = new Map<string, CertificateAuthority>();
  for (const s of settings.values()) {
    if (s.caDir !== undefined && !cas.has(s.caDir))
      cas.set(s.caDir, await loadCa(s.caDir, s.organization, options.onNote));
  }
  const registry =
    options.idRegistryFile === undefined ? VdsmIdRegistry.inMemory() : VdsmIdRegistry.load(options.idRegistryFile);

  const factory: DeployProgramFactory = (host, ctx) => {
    const s = settings.get(host.name) ?? hostDeploySettings(host, { caDir: options.caDir });
    const ca = s.caDir === undefined ? undefined : cas.get(s.caDir);
    if (s.caDir !== undefined && ca === undefined)
      throw new EngineError('CA_UNAVAILABLE', `no CA was loaded for ${host.name}`);
    const config: HostDeployConfig = {
      ...s.config,
      ...(ca === undefined ? {} : { pki: { ca, ...(s.days === undefined ? {} : { days: s.days }) } }),
      prolog: false,
      given: ctx.givenKeys,
      checkUniqueId: (id) => registry.claim(id, host.name, { persist: !ctx.dryRun }),
      onLog: (_level, text) => ctx.log(`host-deploy: ${text}`),
    };
    // The program's own notes go to the engine-side log; the host's records are logged already.
    const { onLog: _hostRecords, ...program } = hostDeployProgram(config);
    const group: GroupProgram = {
      ...program,
      statements: [
        ...hostDeployStatements(config).filter((s) => !s.startsWith('APPEND:BASE/pluginGroups=')),
        // The proceed question answered up front (our installer looks for answers in the
        // environment first), saving its round trip, unless the inventory answers it itself.
        ...(host.answers[DEPLOY_PROCEED.name] === undefined && !ctx.givenKeys.has(PROCEED_ANSWER_KEY)
          ? [`${PROCEED_ANSWER_KEY}=str:yes`]
          : []),
      ],
      conclude: (outcome, result) => {
        if (outcome === undefined) return undefined;
        const r = hostDeployResult(outcome);
        const facts = r.vdsmId === null ? {} : { vdsmId: r.vdsmId };
        if (result !== 'installed') return { facts };
        // The id went into the registry file when the host reported it (checkUniqueId).
        const details: string[] = [];
        if (r.status === 'incomplete')
          return {
            result: 'incomplete',
            details: [
              ...(r.incompleteReasons.length === 0 ? ['the installation is incomplete'] : r.incompleteReasons),
              ...details,
            ],
            facts,
          };
        if (r.status === 'reboot')
          return { result: 'reboot', details: ['the host reboots to finish the installation', ...details], facts };
        return { details, facts };
      },
    };
    return group;
  };
  return { factory, registry, caDirs: [...cas.keys()] };
}
