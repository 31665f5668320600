/**
 * The host-deploy group's engine-side program for `otopi deploy --group host-deploy`
 * (`docs/plugins.md`, "A group's engine program"; declared in this group's package.json). The
 * dialog program itself is the engine's (`prepareHostDeploy`, `hostDeployProgram`), written
 * against this group's contract (`src/_lib/contract.ts`); this module says what the group takes
 * from the run: the CA folder (`--ca-dir`) and the vdsm id registry (`--vdsm-id-registry`).
 */
import type { GroupEngineProgram, GroupRun } from '@otopi/engine';

const text = (options: GroupRun['options'], name: string): string | undefined => {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
};

const program: GroupEngineProgram = {
  async prepare({ hosts, options, note, engine }) {
    const run = await engine.prepareHostDeploy(hosts, {
      caDir: text(options, 'ca-dir'),
      idRegistryFile: text(options, 'vdsm-id-registry'),
      onNote: (line) => note(`host-deploy: ${line}`),
    });
    return run.factory;
  },
};

export default program;
