import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsdown';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

// Three kinds of output:
//  - @otopi/core: one ESM file with zod and pino inlined, shared by the CLI and all plugins;
//  - the CLI entries, which import @otopi/core at run time (one instance per process);
//  - plugin groups, one module per plugin, kept as separate files so the loader can find them.
export default defineConfig([
  {
    entry: { index: 'packages/core/src/index.ts' },
    outDir: 'packages/core/dist',
    format: 'esm',
    fixedExtension: false,
    logLevel: 'warn',
    platform: 'node',
    target: 'node20',
    dts: false,
    clean: true,
    deps: { alwaysBundle: [/.*/], onlyBundle: false },
    shims: true,
  },
  {
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
    format: 'esm',
    fixedExtension: false,
    logLevel: 'warn',
    platform: 'node',
    target: 'node20',
    dts: false,
    clean: true,
    // deploy.js imports the engine and yargs at run time, from the manager's node_modules.
    deps: { neverBundle: ['@otopi/core', '@otopi/engine', 'yargs'] },
    define: { __OTOPI_VERSION__: JSON.stringify(version) },
  },
  {
    entry: ['plugins/otopi/src/**/*.ts'],
    outDir: 'plugins/otopi/dist',
    format: 'esm',
    fixedExtension: false,
    logLevel: 'warn',
    platform: 'node',
    target: 'node20',
    dts: false,
    clean: true,
    unbundle: true,
    root: 'plugins/otopi/src',
    deps: { neverBundle: ['@otopi/core'] },
  },
  // The host-deploy group, like the base group: one module per plugin. Hosts have no
  // node_modules but @otopi/core, so any other library is bundled into the modules; the vdsm
  // hooks shipped in the bundle are copied beside the plugin that installs them.
  {
    entry: ['plugins/host-deploy/src/**/*.ts'],
    outDir: 'plugins/host-deploy/dist',
    format: 'esm',
    fixedExtension: false,
    logLevel: 'warn',
    platform: 'node',
    target: 'node20',
    dts: false,
    clean: true,
    unbundle: true,
    root: 'plugins/host-deploy/src',
    deps: { neverBundle: ['@otopi/core'] },
    copy: [{ from: 'plugins/host-deploy/src/vdsm/hooks.d', to: 'plugins/host-deploy/dist/vdsm' }],
  },
  // @otopi/engine: the manager side, one ESM file; ssh2 stays a run-time dependency.
  {
    entry: { index: 'packages/engine/src/index.ts' },
    outDir: 'packages/engine/dist',
    format: 'esm',
    fixedExtension: false,
    logLevel: 'warn',
    platform: 'node',
    target: 'node20',
    dts: false,
    clean: true,
    deps: { neverBundle: ['ssh2', '@otopi/core', 'zod'] },
  },
]);
