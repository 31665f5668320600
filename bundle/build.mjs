#!/usr/bin/env node
// Builds the host bundle (and, unless --no-runtime, the Node.js runtime for hosts without
// one) from the build output: run `npm run build` first. Writes bundle/dist/ by default:
//   otopi-bundle/                     the bundle, unpacked
//   otopi-bundle.tar.gz               the bundle artifact (its SHA-256 is the host's cache key)
//   otopi-runtime-node-v*.tar.gz      the runtime artifact
//   manifest.json                     both, with hashes and sizes (what the engine reads)
//   interface-3/                      the engine layout: the folder an oVirt engine tars
//                                     (BootstrapPackageDirectory), with ovirt-host-deploy,
//                                     ovirt-host-mgmt and otopi at its top and the runtime inside
//                                     (left out with --no-runtime or --no-engine-layout)
// Usage: node bundle/build.mjs [--group NAME]... [--runtime-version X.Y.Z] [--no-runtime] [--no-strip]
//                              [--no-engine-layout] [--out DIR]
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  options: {
    group: { type: 'string', multiple: true },
    'runtime-version': { type: 'string' },
    'no-runtime': { type: 'boolean' },
    'no-strip': { type: 'boolean' },
    'no-engine-layout': { type: 'boolean' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'Usage: node bundle/build.mjs [--group NAME]... [--runtime-version X.Y.Z] [--no-runtime] [--no-strip] [--no-engine-layout] [--out DIR]',
  );
  process.exit(0);
}

let engine;
try {
  engine = await import(join(root, 'packages/engine/dist/index.js'));
} catch {
  console.error('bundle: packages/engine/dist is missing; run `npm run build` first');
  process.exit(1);
}
const { buildBundle, buildRuntime, buildEngineLayout, writeManifest, isEngineError } = engine;

const outDir = resolve(values.out ?? join(root, 'bundle/dist'));
const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
const kb = (n) => `${(n / 1e3).toFixed(1)} kB`;

try {
  const started = performance.now();
  const bundle = await buildBundle({ root, outDir, groups: values.group ?? [] });
  console.log(
    `bundle   ${bundle.file}\n         groups ${bundle.groups.join(', ')}; ${bundle.files.length} files, ` +
      `${kb(bundle.rawSize)} raw, ${kb(bundle.tarSize)} tar, ${kb(bundle.size)} tar.gz\n         sha256 ${bundle.sha256}`,
  );
  let runtime;
  if (!values['no-runtime']) {
    runtime = await buildRuntime({
      nodeVersion: values['runtime-version'],
      cacheDir: join(root, 'bundle/.cache'),
      outDir,
      ...(values['no-strip'] ? { strip: false } : {}),
      log: (m) => console.log(`runtime  ${m}`),
    });
    console.log(
      `runtime  ${runtime.file}\n         node ${runtime.nodeVersion}; binary ${mb(runtime.originalSize)}` +
        `${runtime.stripped ? `, stripped ${mb(runtime.rawSize)}` : ' (not stripped)'}, tar.gz ${mb(runtime.size)}\n` +
        `         sha256 ${runtime.sha256}`,
    );
  }
  if (runtime !== undefined && !values['no-engine-layout']) {
    const layout = buildEngineLayout({ root, outDir, runtime, groups: values.group ?? [] });
    console.log(
      `engine   ${layout.dir}\n         entries ${layout.entries.join(', ')}; groups ${layout.groups.join(', ')}; ` +
        `${kb(layout.bundleSize)} and node ${layout.nodeVersion} (oVirt's BootstrapPackageDirectory, docs/bundle.md)`,
    );
  }
  const manifest = writeManifest(outDir, runtime === undefined ? { bundle } : { bundle, runtime });
  console.log(`manifest ${manifest} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
} catch (error) {
  if (isEngineError(error)) {
    console.error(`bundle: ${error.message}${error.hint ? `\n  ${error.hint}` : ''}`);
    process.exit(1);
  }
  throw error;
}
