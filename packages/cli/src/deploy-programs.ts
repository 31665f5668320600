/**
 * The groups' part of `otopi deploy`: the options it takes for the groups' engine-side programs
 * (`--ca-dir`, `--vdsm-id-registry` for host-deploy; `--mgmt-*` for host-mgmt), checked before
 * anything is read or contacted, and the programs themselves, which each group brings in its
 * folder (its package.json's `otopi.engineProgram`; `@otopi/engine`'s `prepareGroupPrograms`).
 * A group without one gets only the base program (its settings, then `install`, and the
 * standard termination). A program checks what its group needs of the inventory before any host
 * is contacted, and returns the group's `DeployProgramFactory`, called once per host when that
 * host's deploy starts.
 */
import type { Argv } from 'yargs';
import {
  ENGINE_API,
  DEFAULT_CA_DIR,
  DEFAULT_MGMT_PACKAGES,
  HOST_MGMT_ACTIONS,
  prepareGroupPrograms,
  type DeployProgramFactory,
  type GroupRun,
  type HostMgmtAction,
  type InventoryHost,
} from '@otopi/engine';

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

export interface MgmtSettings {
  readonly action: HostMgmtAction;
  readonly packages?: readonly string[] | undefined;
  readonly newKey?: boolean | undefined;
}

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

export interface GroupProgramsRun {
  /** Every group of the run besides the base group. */
  readonly groups: readonly string[];
  /** Each group's folder (`groupFolders`). */
  readonly folders: Readonly<Record<string, string>>;
  /** The hosts about to be deployed. */
  readonly hosts: readonly InventoryHost[];
  /** `--ca-dir`, `--vdsm-id-registry` (absolute) and host-mgmt's settings. */
  readonly caDir?: string | undefined;
  readonly idRegistryFile?: string | undefined;
  readonly mgmt: MgmtSettings;
  /** Shows a line to the user (where the CA is, ...). */
  readonly note: (text: string) => void;
}

/** The groups' options as their programs read them, by long name (`--mgmt-action` with its default). */
export function groupOptions(run: Pick<GroupProgramsRun, 'caDir' | 'idRegistryFile' | 'mgmt'>): GroupRun['options'] {
  const options: Record<string, string | boolean | readonly string[]> = {};
  if (run.caDir !== undefined) options['ca-dir'] = run.caDir;
  if (run.idRegistryFile !== undefined) options['vdsm-id-registry'] = run.idRegistryFile;
  options['mgmt-action'] = run.mgmt.action;
  if (run.mgmt.packages !== undefined) options['mgmt-packages'] = run.mgmt.packages;
  if (run.mgmt.newKey === true) options['mgmt-new-key'] = true;
  return options;
}

/** The program factories of the groups, made (and their inventory needs checked) before anything connects. */
export function deployPrograms(run: GroupProgramsRun): Promise<Readonly<Record<string, DeployProgramFactory>>> {
  return prepareGroupPrograms(run.folders, {
    groups: run.groups,
    hosts: run.hosts,
    options: groupOptions(run),
    note: run.note,
    engine: ENGINE_API,
  });
}
