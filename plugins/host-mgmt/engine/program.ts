/**
 * The host-mgmt group's engine-side program for `otopi deploy --group host-mgmt`
 * (`docs/plugins.md`, "A group's engine program"; declared in this group's package.json): one
 * action for every host (`--mgmt-action`), the packages (`--mgmt-packages`), and for a
 * re-enrollment the CA of the hosts' deploy (`--ca-dir` or the inventory's `ca_dir`) and
 * `--mgmt-new-key`. The dialog program is the engine's (`prepareHostMgmt`, `hostMgmtProgram`),
 * written against this group's contract (`src/_lib/contract.ts`).
 */
import type { GroupEngineProgram, GroupRun, HostMgmtAction } from '@otopi/engine';

const text = (options: GroupRun['options'], name: string): string | undefined => {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
};

const list = (value: GroupRun['options'][string]): value is readonly string[] => Array.isArray(value);

const program: GroupEngineProgram = {
  prepare({ hosts, options, note, engine }) {
    const action = text(options, 'mgmt-action') ?? 'check-updates';
    const known = (a: string): a is HostMgmtAction => (engine.HOST_MGMT_ACTIONS as readonly string[]).includes(a);
    if (!known(action))
      throw new engine.EngineError(
        'USAGE',
        `--mgmt-action takes ${engine.HOST_MGMT_ACTIONS.join(', ')}, not '${action}'`,
      );
    const packages = options['mgmt-packages'];
    return engine.prepareHostMgmt(hosts, {
      action,
      packages: list(packages) ? packages : undefined,
      newKey: options['mgmt-new-key'] === true,
      caDir: text(options, 'ca-dir'),
      onNote: (line) => note(`host-mgmt: ${line}`),
    });
  },
};

export default program;
