/**
 * The dialog programs `otopi deploy` runs for plugin groups beyond the base group, by group
 * name. A group without an entry gets only the base program (its settings, then `install`, and
 * the standard termination). A group that talks to the engine during the deploy registers a
 * maker here: it checks what the group needs of the inventory before any host is contacted,
 * and returns the group's `DeployProgramFactory`, called once per host when that host's
 * deploy starts.
 *
 * - `host-deploy`: the engine's host-deploy program (docs/host-deploy.md): the inventory's
 *   host-deploy fields, the CA that signs the hosts' certificates (`--ca-dir`), and the vdsm ids
 *   of the run and of `--vdsm-id-registry`, each id held by one host.
 * - `host-mgmt`: ovirt-host-mgmt's program (docs/host-mgmt.md): one action for every host
 *   (`--mgmt-action`), the packages (`--mgmt-packages`), and for a re-enrollment the CA of the
 *   hosts' deploy (`--ca-dir` or the inventory's `ca_dir`) and `--mgmt-new-key`.
 */
import type { Argv } from 'yargs';
import {
  DEFAULT_CA_DIR,
  DEFAULT_MGMT_PACKAGES,
  HOST_MGMT_ACTIONS,
  prepareHostDeploy,
  prepareHostMgmt,
  type DeployProgramFactory,
  type HostMgmtAction,
  type InventoryHost,
} from '@otopi/engine';

export interface ProgramOptions {
  /** The hosts about to be deployed. */
  readonly hosts: readonly InventoryHost[];
  /** `--ca-dir`: the CA for hosts whose inventory names none. */
  readonly caDir?: string | undefined;
  /** `--vdsm-id-registry`: ids registered by earlier runs. */
  readonly idRegistryFile?: string | undefined;
  /** host-mgmt's settings (`--mgmt-*`). */
  readonly mgmt?: {
    readonly action: HostMgmtAction;
    readonly packages?: readonly string[] | undefined;
    readonly newKey?: boolean | undefined;
  };
  /** Shows a line to the user (where the CA is, ...). */
  readonly note: (text: string) => void;
}

/** The options of the groups' programs (`host-deploy: ...`, `host-mgmt: ...`) on `otopi deploy`'s parser. */
export function withGroupOptions<T>(parser: Argv<T>) {
  return parser
    .option('ca-dir', {
      type: 'string',
      describe: `host-deploy: folder of the CA that signs host certificates, created when missing [default: ${DEFAULT_CA_DIR}]`,
    })
    .option('vdsm-id-registry', {
      type: 'string',
      describe: 'host-deploy: file of vdsm ids already registered (<id> <host> lines); installed hosts are added',
    })
    .option('mgmt-action', {
      type: 'string',
      choices: HOST_MGMT_ACTIONS,
      describe:
        'host-mgmt: check-updates (list the updates, change nothing), upgrade, or enroll-certificate [default: check-updates]',
    })
    .option('mgmt-packages', {
      type: 'string',
      describe: `host-mgmt: packages to check or upgrade, comma-separated [default: ${DEFAULT_MGMT_PACKAGES.join(',')}]`,
    })
    .option('mgmt-new-key', {
      type: 'boolean',
      describe: 'host-mgmt: enroll-certificate with a new host key instead of the installed one',
    });
}

export type MgmtSettings = NonNullable<ProgramOptions['mgmt']>;

/**
 * host-mgmt's settings from the `--mgmt-*` options, checked against the groups before anything
 * is read or contacted; a string is the usage error to show.
 */
export function mgmtSettings(
  values: { action?: string | undefined; packages?: string | undefined; newKey?: boolean | undefined },
  groups: readonly string[],
): MgmtSettings | string {
  const given = (['action', 'packages', 'newKey'] as const).filter((k) => values[k] !== undefined);
  const flag = { action: '--mgmt-action', packages: '--mgmt-packages', newKey: '--mgmt-new-key' } as const;
  if (given.length > 0 && !groups.includes('host-mgmt')) return `${flag[given[0]!]} needs --group host-mgmt`;
  if (groups.includes('host-mgmt') && groups.includes('host-deploy'))
    return 'host-deploy and host-mgmt are run one at a time: give one of them with --group';
  const action = values.action ?? 'check-updates';
  if (!(HOST_MGMT_ACTIONS as readonly string[]).includes(action))
    return `--mgmt-action takes ${HOST_MGMT_ACTIONS.join(', ')}, not '${action}'`;
  const packages = values.packages
    ?.split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (packages !== undefined && packages.length === 0) return '--mgmt-packages names no package';
  return { action: action as HostMgmtAction, packages, newKey: values.newKey === true };
}

type ProgramMaker = (options: ProgramOptions) => Promise<DeployProgramFactory>;

const MAKERS: Readonly<Record<string, ProgramMaker>> = {
  'host-deploy': async (o) =>
    (
      await prepareHostDeploy(o.hosts, {
        caDir: o.caDir,
        idRegistryFile: o.idRegistryFile,
        onNote: (text) => o.note(`host-deploy: ${text}`),
      })
    ).factory,
  'host-mgmt': (o) =>
    prepareHostMgmt(o.hosts, {
      action: o.mgmt?.action ?? 'check-updates',
      packages: o.mgmt?.packages,
      newKey: o.mgmt?.newKey,
      caDir: o.caDir,
      onNote: (text) => o.note(`host-mgmt: ${text}`),
    }),
};

/** The program factories of `groups`, made (and their inventory needs checked) before anything connects. */
export async function deployPrograms(
  groups: readonly string[],
  options: ProgramOptions,
): Promise<Readonly<Record<string, DeployProgramFactory>>> {
  const programs: Record<string, DeployProgramFactory> = {};
  for (const group of groups) {
    const make = MAKERS[group];
    if (make !== undefined) programs[group] = await make(options);
  }
  return programs;
}
