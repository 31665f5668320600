import { readFileSync } from 'node:fs';
import { defineConfig, type UserConfig } from 'tsdown';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

/** What every output shares: ESM for Node 20, `.js` names, no declarations, a clean folder. */
const common = {
  format: 'esm',
  fixedExtension: false,
  logLevel: 'warn',
  platform: 'node',
  target: 'node20',
  dts: false,
  clean: true,
} satisfies UserConfig;

/**
 * A plugin group: one module per plugin, kept as separate files so the loader finds them.
 * Hosts have no node_modules but @otopi/core, so any other library is bundled into the modules.
 */
function pluginGroup(name: string, extra: UserConfig = {}): UserConfig {
  return {
    ...common,
    entry: [`plugins/${name}/src/**/*.ts`],
    outDir: `plugins/${name}/dist`,
    unbundle: true,
    root: `plugins/${name}/src`,
    deps: { neverBundle: ['@otopi/core'] },
    ...extra,
  };
}

// The outputs:
//  - @otopi/core: one ESM file with zod and pino inlined, shared by the CLI and all plugins;
//  - the CLI entries, which import @otopi/core at run time (one instance per process);
//  - the plugin groups;
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
      // The manager's front ends; the bundle builder leaves deploy*.js out of host bundles.
      deploy: 'packages/cli/src/deploy.ts',
      'deploy-ca': 'packages/cli/src/deploy-ca.ts',
    },
    outDir: 'packages/cli/dist',
    // deploy.js imports the engine and yargs at run time, from the manager's node_modules.
    deps: { neverBundle: ['@otopi/core', '@otopi/engine', 'yargs'] },
    define: { __OTOPI_VERSION__: JSON.stringify(version) },
  },
  pluginGroup('otopi'),
  // The vdsm hooks shipped in the bundle are copied beside the plugin that installs them.
  pluginGroup('host-deploy', {
    copy: [{ from: 'plugins/host-deploy/src/vdsm/hooks.d', to: 'plugins/host-deploy/dist/vdsm' }],
  }),
  {
    ...common,
    entry: { index: 'packages/engine/src/index.ts' },
    outDir: 'packages/engine/dist',
    // ssh2 stays a run-time dependency of the engine.
    deps: { neverBundle: ['ssh2', '@otopi/core', 'zod'] },
  },
]);
