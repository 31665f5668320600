/**
 * A plugin group's engine-side program, which the group brings itself (`docs/plugins.md`, "A
 * group's engine program"). The group's folder declares it in its `package.json`:
 *
 * ```json
 * { "otopi": { "engineProgram": "./dist-engine/program.js" } }
 * ```
 *
 * and that module's default export is a {@link GroupEngineProgram}. `otopi deploy` loads the
 * programs of the groups it deploys from their folders (the source tree's `plugins/<group>`,
 * `--plugin-path`, the installed package's `plugins/`), so a new group with an engine program
 * needs no change to the engine or the CLI. The module gets the engine as an argument
 * ({@link GroupRun.engine}, `ENGINE_API`) and imports only its types, so it stays small and the
 * run has one engine; host bundles never carry it (`bundle/build.ts` leaves the declared folder out).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EngineError } from '../errors.js';
import type { InventoryHost } from '../inventory/inventory.js';
import type { EngineApi } from './engine-api.js';
import type { DeployProgramFactory } from './program.js';

/** What a group's program learns about the run before any host is contacted. */
export interface GroupRun {
  /** The group's name. */
  readonly group: string;
  /** The hosts about to be deployed (after `--limit`). */
  readonly hosts: readonly InventoryHost[];
  /** Every group of the run besides the base group. */
  readonly groups: readonly string[];
  /**
   * `otopi deploy`'s options for groups, by long name (`ca-dir`, `mgmt-action`…; `otopi deploy
   * --help`), only those given; paths are absolute.
   */
  readonly options: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
  /** Shows a line to the user before the deploy starts (where the CA is…). */
  note(text: string): void;
  /** The engine (`ENGINE_API`): its steps, token helpers, CA, errors… (`EngineError` for what the user must fix). */
  readonly engine: EngineApi;
}

/** The default export of a group's engine program module. */
export interface GroupEngineProgram {
  /**
   * Checks what the group needs of the run (the inventory's fields, options) and loads what it
   * shares across hosts, before any host is contacted; returns the factory `deployMany` calls
   * once per host. Throwing an `EngineError` stops the deploy with its message (`USAGE`: a
   * usage error).
   */
  prepare(run: GroupRun): DeployProgramFactory | Promise<DeployProgramFactory>;
}

function invalid(group: string, file: string, message: string, cause?: unknown): EngineError {
  return new EngineError('GROUP_PROGRAM_INVALID', `plugin group '${group}': ${message}`, {
    file,
    ...(cause === undefined ? {} : { cause }),
    hint: `Run npm run build, or fix the group's package.json (otopi.engineProgram)`,
  });
}

/**
 * The engine program module a group folder declares (absolute), or undefined when it declares
 * none (the group then runs with the base program only).
 *
 * @throws EngineError `GROUP_PROGRAM_INVALID` for a package.json that does not read or a bad entry.
 */
export function groupProgramEntry(group: string, folder: string): string | undefined {
  const file = join(folder, 'package.json');
  if (!existsSync(file)) return undefined;
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw invalid(group, file, `cannot read ${file}: ${(error as Error).message}`, error);
  }
  const otopi = typeof manifest === 'object' && manifest !== null ? (manifest as { otopi?: unknown }).otopi : undefined;
  const entry =
    typeof otopi === 'object' && otopi !== null ? (otopi as { engineProgram?: unknown }).engineProgram : undefined;
  if (entry === undefined) return undefined;
  if (typeof entry !== 'string' || entry === '')
    throw invalid(group, file, 'otopi.engineProgram in its package.json is not a path');
  return resolve(folder, entry);
}

/**
 * What of a group folder is the engine's and never ships to a host, relative to the folder: the
 * package.json, and the engine program's own folder (or file) when it lies inside.
 */
export function engineOnlyPaths(group: string, folder: string): string[] {
  const entry = groupProgramEntry(group, folder);
  if (entry === undefined) return existsSync(join(folder, 'package.json')) ? ['package.json'] : [];
  const inside = relative(folder, entry);
  if (inside.startsWith('..') || inside === '') return ['package.json'];
  const [top] = inside.split(sep);
  return ['package.json', top === inside ? inside : top!];
}

function isGroupEngineProgram(value: unknown): value is GroupEngineProgram {
  return typeof value === 'object' && value !== null && typeof (value as { prepare?: unknown }).prepare === 'function';
}

/**
 * Loads the engine program a group folder declares.
 *
 * @throws EngineError `GROUP_PROGRAM_INVALID`: the module is missing, does not load, or its
 * default export has no `prepare`.
 */
export async function loadGroupProgram(group: string, folder: string): Promise<GroupEngineProgram | undefined> {
  const entry = groupProgramEntry(group, folder);
  if (entry === undefined) return undefined;
  if (!existsSync(entry)) throw invalid(group, entry, `its engine program ${entry} is missing`);
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(entry).href)) as { default?: unknown };
  } catch (error) {
    throw invalid(group, entry, `cannot load its engine program ${entry}: ${(error as Error).message}`, error);
  }
  if (!isGroupEngineProgram(module.default))
    throw invalid(group, entry, `${entry} exports no engine program (a default export with prepare(run))`);
  return module.default;
}

/**
 * The program factories of the groups whose folders declare an engine program, each prepared
 * (its needs checked) before anything connects. A group without a folder here, or whose folder
 * declares none, runs with the base program only.
 */
export async function prepareGroupPrograms(
  folders: Readonly<Record<string, string>>,
  run: Omit<GroupRun, 'group'>,
): Promise<Readonly<Record<string, DeployProgramFactory>>> {
  const factories: Record<string, DeployProgramFactory> = {};
  for (const group of run.groups) {
    const folder = folders[group];
    if (folder === undefined) continue;
    const program = await loadGroupProgram(group, folder);
    if (program !== undefined) factories[group] = await program.prepare({ ...run, group });
  }
  return factories;
}
