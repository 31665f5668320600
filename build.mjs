#!/usr/bin/env node
/**
 * `npm run build`: tsdown through its programmatic API (tsdown.config.ts).
 *
 * tsdown's command-line entry warns on every run that Node.js 20 is deprecated for building
 * (it wants 22.18 to build; what it builds targets node20, which hosts run). The warning is
 * printed by the command-line entry only: `build()` from the package is tsdown's documented
 * programmatic use and builds the same from the same config, without it.
 * Arguments: `--silent` prints errors only.
 */
import { build } from 'tsdown';

const silent = process.argv.includes('--silent');
try {
  await build({ logLevel: silent ? 'error' : 'warn' });
} catch (error) {
  process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
