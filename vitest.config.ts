import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const VM = process.env['OTOPI_LAB_VM'] === '1';
const core = fileURLToPath(new URL('./packages/core/src/index.ts', import.meta.url));

// Two projects: `unit` needs nothing but Node; `lab` brings up real SSH hosts
// (systemd-nspawn containers) in its global setup and removes them afterwards.
export default defineConfig({
  resolve: { alias: { '@otopi/core': core } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'packages/*/test/**/*.test.ts',
            'plugins/*/test/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            // The reliability suite's items that need no lab host (docs/reliability.md).
            'test/reliability/*.test.ts',
          ],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/reliability/lab/**/*.test.ts'],
          // The vm flavour's end-to-end test (docs/host-deploy.md, *On a VM*) runs only when asked
          // (`npm run test:vm`): under TCG it takes about half an hour (docs/lab.md, *What it costs*).
          exclude: [
            ...configDefaults.exclude,
            ...(VM ? [] : ['test/integration/host-deploy-vm.test.ts']),
          ],
          globalSetup: ['test/lab/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
