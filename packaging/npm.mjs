#!/usr/bin/env node
// `npm run pack`: the CLI as an npm package a user installs with `npm install -g`, from the build
// output (run `npm run build` first). Writes packaging/dist/ (or --out DIR):
//   otopi-ts/               the package folder: bin/ (otopi, ovirt-host-deploy, the manager's
//                           front ends in bin/manager/), plugins/ (the plugin groups), man/ (man
//                           pages made from each command's --help), completion/otopi.bash, and
//                           node_modules/ with what it bundles: @otopi/core (zod and pino inlined)
//                           and ssh2 with its pure-JavaScript dependencies
//   otopi-ts-<version>.tgz  what `npm pack` made of it
// Everything it needs is in the tarball (bundleDependencies), so installing it fetches nothing
// and brings no dev dependency. ssh2's optional native binding is not built: it uses Node's crypto.
// Usage: node packaging/npm.mjs [--out DIR]
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const outDir = resolve(values.out ?? join(root, 'packaging/dist'));
const pkgDir = join(outDir, 'otopi-ts');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

if (!existsSync(join(root, 'packages/cli/dist/manager/deploy.js'))) {
  console.error('pack: packages/cli/dist is missing; run `npm run build` first');
  process.exit(1);
}
rmSync(pkgDir, { recursive: true, force: true });
mkdirSync(pkgDir, { recursive: true });

// The same layout as a host bundle (bin/ beside plugins/, @otopi/core in node_modules), which
// the CLI already finds its plugin groups in; plus the manager's front ends.
cpSync(join(root, 'packages/cli/dist'), join(pkgDir, 'bin'), { recursive: true });
for (const group of ['otopi', 'host-deploy']) {
  cpSync(join(root, 'plugins', group, 'dist'), join(pkgDir, 'plugins', group), { recursive: true });
  // A group's engine program (docs/plugins.md), which otopi deploy finds in the group's folder:
  // in _engine/, which neither the plugin loader nor a bundle made from the folder takes.
  const program = join(root, 'plugins', group, 'engine/dist/program.js');
  if (existsSync(program)) {
    cpSync(program, join(pkgDir, 'plugins', group, '_engine/program.js'));
    writeFileSync(
      join(pkgDir, 'plugins', group, 'package.json'),
      `${JSON.stringify({ type: 'module', otopi: { engineProgram: './_engine/program.js' } }, null, 2)}\n`,
    );
  }
}
const core = join(pkgDir, 'node_modules/@otopi/core');
mkdirSync(core, { recursive: true });
cpSync(join(root, 'packages/core/dist/index.js'), join(core, 'index.js'));
writeFileSync(
  join(core, 'package.json'),
  `${JSON.stringify({ name: '@otopi/core', version: rootPkg.version, type: 'module', exports: { '.': './index.js' } }, null, 2)}\n`,
);
// ssh2 (the manager's SSH) and what it needs, without its install script (the optional
// native binding, never built here either: package.json's allowScripts).
const ssh2Deps = ['ssh2', 'asn1', 'bcrypt-pbkdf', 'safer-buffer', 'tweetnacl'];
for (const dep of ssh2Deps) {
  const to = join(pkgDir, 'node_modules', dep);
  cpSync(join(root, 'node_modules', dep), to, {
    recursive: true,
    filter: (src) => !/\/(test|examples)(\/|$)/.test(src),
  });
  const manifest = JSON.parse(readFileSync(join(to, 'package.json'), 'utf8'));
  delete manifest.scripts;
  delete manifest.devDependencies;
  delete manifest.optionalDependencies;
  writeFileSync(join(to, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}
const versionOf = (dep) => JSON.parse(readFileSync(join(root, 'node_modules', dep, 'package.json'), 'utf8')).version;

// Man pages and bash completion, made from the commands' own --help.
const help = (args) =>
  execFileSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } });
const otopi = join(pkgDir, 'bin/otopi.js');
const pages = {
  otopi: { summary: 'run otopi plugin groups, and deploy to hosts over SSH', help: help([otopi, '--help']) },
  'ovirt-host-deploy': {
    summary: 'make this machine a virtualization host an oVirt engine manages',
    help: help([join(pkgDir, 'bin/ovirt-host-deploy.js'), '--help']),
  },
  'otopi-deploy': { summary: 'deploy plugin groups to many hosts over SSH', help: help([otopi, 'deploy', '--help']) },
};
const roff = (text) => text.replace(/\\/g, '\\e').replace(/^([.'])/gm, '\\&$1');
mkdirSync(join(pkgDir, 'man'), { recursive: true });
for (const [name, page] of Object.entries(pages)) {
  writeFileSync(
    join(pkgDir, 'man', `${name}.1`),
    [
      `.TH ${name.toUpperCase()} 1 "" "otopi-ts ${rootPkg.version}" "User Commands"`,
      '.SH NAME',
      `${name} \\- ${page.summary}`,
      '.SH DESCRIPTION',
      '.nf',
      roff(page.help.trimEnd()),
      '.fi',
      '.SH SEE ALSO',
      Object.keys(pages)
        .filter((n) => n !== name)
        .map((n) => `.BR ${n} (1)`)
        .join(',\n'),
      '',
    ].join('\n'),
  );
}
const optionsOf = (text) => [...new Set(text.match(/--[a-z][a-z-]*/g) ?? [])].sort().join(' ');
mkdirSync(join(pkgDir, 'completion'), { recursive: true });
writeFileSync(
  join(pkgDir, 'completion/otopi.bash'),
  `# bash completion for otopi and ovirt-host-deploy (made from their --help by packaging/npm.mjs).
# Load it with: source "$(npm root -g)/otopi-ts/completion/otopi.bash"
_otopi() {
  local cur=\${COMP_WORDS[COMP_CWORD]} words
  if [ "\${COMP_WORDS[0]##*/}" = otopi ] && [ "$COMP_CWORD" = 1 ] && [[ $cur != -* ]]; then
    words="deploy ca config-query env-doc"
  elif [ "\${COMP_WORDS[1]}" = deploy ]; then
    words="${optionsOf(pages['otopi-deploy'].help)}"
  elif [ "\${COMP_WORDS[0]##*/}" = ovirt-host-deploy ]; then
    words="${optionsOf(pages['ovirt-host-deploy'].help)}"
  else
    words="${optionsOf(pages.otopi.help)}"
  fi
  case $cur in
    -*|'') COMPREPLY=($(compgen -W "$words" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}
complete -F _otopi otopi ovirt-host-deploy
`,
);
for (const bin of ['otopi.js', 'ovirt-host-deploy.js', 'config-query.js']) chmodSync(join(pkgDir, 'bin', bin), 0o755);

writeFileSync(
  join(pkgDir, 'package.json'),
  `${JSON.stringify(
    {
      name: 'otopi-ts',
      version: rootPkg.version,
      description: rootPkg.description,
      license: rootPkg.license,
      type: 'module',
      engines: rootPkg.engines,
      bin: {
        otopi: './bin/otopi.js',
        'ovirt-host-deploy': './bin/ovirt-host-deploy.js',
        'otopi-config-query': './bin/config-query.js',
      },
      man: Object.keys(pages).map((n) => `./man/${n}.1`),
      files: ['bin', 'plugins', 'man', 'completion'],
      dependencies: Object.fromEntries([
        ['@otopi/core', rootPkg.version],
        ['ssh2', versionOf('ssh2')],
      ]),
      bundleDependencies: ['@otopi/core', ...ssh2Deps],
    },
    null,
    2,
  )}\n`,
);
const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', outDir], {
  cwd: pkgDir,
  encoding: 'utf8',
}).trim();
console.log(join(outDir, tarball.split('\n').at(-1)));
