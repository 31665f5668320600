import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type UserConfig } from 'tsdown';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * What every output shares: ESM for Node 20, `.js` names, no declarations, a clean folder,
 * and no plugin-timing warning (it fires when a busy machine makes the build slow, and says
 * nothing about the output).
 */
const common = {
  format: 'esm',
  checks: { pluginTimings: false },
  fixedExtension: false,
  logLevel: 'warn',
  platform: 'node',
  target: 'node20',
  dts: false,
  clean: true,
} satisfies UserConfig;

/**
 * A plugin group: one module per plugin, at the same path as its source so the loader finds
 * it and names it, and the helpers they share (`_lib/`, `_*.ts`) in a few chunks under
 * `_chunks/`, which the loader skips. Fewer modules start faster on hosts: 14 files instead
 * of 45 for the base group, about 10 ms less per run (docs/performance.md). Hosts have no
 * node_modules but @otopi/core, so any other library is bundled into the modules.
 */
function pluginGroup(name: string, extra: UserConfig = {}): UserConfig {
  return {
    ...common,
    entry: [`plugins/${name}/src/**/*.ts`, `!plugins/${name}/src/_*/**`, `!plugins/${name}/src/**/_*.ts`],
    outDir: `plugins/${name}/dist`,
    root: `plugins/${name}/src`,
    deps: { neverBundle: ['@otopi/core'] },
    outputOptions: { chunkFileNames: '_chunks/[name]-[hash].js' },
    ...extra,
  };
}

/**
 * A group's engine-side program (`plugins/<name>/engine/program.ts`, declared in the group's
 * package.json as `otopi.engineProgram`), which `otopi deploy` loads from the group's folder: one
 * small module beside the group, never in its `dist/` (host bundles do not carry it). It imports
 * only types of the engine, which hands itself to the program, and its group's contract, whose
 * `@otopi/core` is the one the group's plugins load.
 */
function engineProgram(name: string): UserConfig {
  return {
    ...common,
    entry: { program: `plugins/${name}/engine/program.ts` },
    outDir: `plugins/${name}/engine/dist`,
    deps: { neverBundle: ['@otopi/core', '@otopi/engine'] },
  };
}

// The outputs:
//  - @otopi/core: one ESM file with zod and pino inlined, shared by the CLI and all plugins;
//  - the CLI entries, which import @otopi/core at run time (one instance per process);
//  - the plugin groups, and the engine-side programs of those that have one;
//  - @otopi/engine, the manager side.
export default defineConfig([
  {
    ...common,
    entry: { index: 'packages/core/src/index.ts' },
    outDir: 'packages/core/dist',
    deps: { alwaysBundle: [/.*/], onlyBundle: false },
    shims: true,
  },
  {
    ...common,
    entry: {
      otopi: 'packages/cli/src/otopi.ts',
      'config-query': 'packages/cli/src/config-query.ts',
      'env-doc': 'packages/cli/src/env-doc.ts',
      'ovirt-host-deploy': 'packages/cli/src/ovirt-host-deploy.ts',
      'ovirt-host-mgmt': 'packages/cli/src/ovirt-host-mgmt.ts',
    },
    // Cleaning it also empties dist/manager/: tsdown cleans every output folder before it
    // builds any, so the next output's files are never lost.
    outDir: 'packages/cli/dist',
    deps: { neverBundle: ['@otopi/core'] },
    define: { __OTOPI_VERSION__: JSON.stringify(version) },
  },
  // The manager's front ends (`otopi deploy`, `otopi ca`), in their own folder so host bundles
  // never carry them. Each is one module with the engine, the core, zod (once), pino and yargs
  // inlined, built from the sources: a single file starts much faster than the ~200 modules of
  // the packages (docs/performance.md). ssh2 stays in node_modules for its native crypto.
  {
    ...common,
    entry: { deploy: 'packages/cli/src/deploy.ts', 'deploy-ca': 'packages/cli/src/deploy-ca.ts' },
    outDir: 'packages/cli/dist/manager',
    deps: { alwaysBundle: [/.*/], onlyBundle: false, neverBundle: ['ssh2'] },
    alias: {
      '@otopi/core': fileURLToPath(new URL('./packages/core/src/index.ts', import.meta.url)),
      '@otopi/engine': fileURLToPath(new URL('./packages/engine/src/index.ts', import.meta.url)),
    },
    shims: true,
    define: { __OTOPI_VERSION__: JSON.stringify(version) },
  },
  pluginGroup('otopi'),
  // The vdsm hooks shipped in the bundle are copied beside the plugin that installs them.
  pluginGroup('host-deploy', {
    copy: [{ from: 'plugins/host-deploy/src/vdsm/hooks.d', to: 'plugins/host-deploy/dist/vdsm' }],
  }),
  // host-mgmt shares host-deploy's vdsm code (PKI, vdsmd): it is bundled into its own chunks,
  // as ovirt-host-common was shared by both programs.
  pluginGroup('host-mgmt'),
  engineProgram('host-deploy'),
  engineProgram('host-mgmt'),
  {
    ...common,
    entry: { index: 'packages/engine/src/index.ts' },
    outDir: 'packages/engine/dist',
    // ssh2 stays a run-time dependency of the engine.
    deps: { neverBundle: ['ssh2', '@otopi/core', 'zod'] },
  },
]);
