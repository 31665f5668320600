#!/usr/bin/env node
// Fails when TypeScript modules import each other in a cycle, printing each cycle's path.
// Every `import` and `export … from` counts, `import type` too: a cycle of types still ties the
// modules into one. Dynamic `import()` does not: it is how a module loads another on demand.
// Workspace packages (`@otopi/core`) stand for their `src/index.ts`.
//
//   node .ci/import-cycles.mjs [folder …]     (default: the folders tsconfig.json covers)
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const folders = process.argv.length > 2 ? process.argv.slice(2) : defaultFolders();

/** The workspace packages' names, each mapped to its entry module. */
const packages = new Map();
for (const group of ['packages', 'plugins']) {
  for (const name of readdirSync(join(root, group))) {
    const manifest = join(root, group, name, 'package.json');
    const entry = join(root, group, name, 'src', 'index.ts');
    if (existsSync(manifest) && existsSync(entry)) packages.set(JSON.parse(readFileSync(manifest, 'utf8')).name, entry);
  }
}

const files = folders.flatMap((f) => sources(resolve(root, f)));
const edges = new Map(files.map((file) => [file, imports(file)]));
const cycles = stronglyConnected(edges).filter((c) => c.length > 1 || (edges.get(c[0]) ?? []).includes(c[0]));
for (const component of cycles) console.log(`import cycle: ${cyclePath(component, edges).map(shown).join(' → ')}`);
if (cycles.length > 0) {
  console.log(`${cycles.length} import cycle(s); move what both sides need into a module of its own.`);
  process.exit(1);
}

function defaultFolders() {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile).config;
  return (config.include ?? []).flatMap((pattern) => {
    const [group, star, ...rest] = pattern.split('/');
    if (star !== '*') return [pattern];
    return existsSync(join(root, group)) ? readdirSync(join(root, group)).map((n) => join(group, n, ...rest)) : [];
  });
}

function sources(path) {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return /\.(m|c)?ts$/.test(path) && !path.endsWith('.d.ts') ? [path] : [];
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) return [];
  return readdirSync(path).flatMap((entry) => sources(join(path, entry)));
}

/** The project's modules a file imports statically. */
function imports(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out = [];
  for (const statement of source.statements) {
    const specifier =
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
      statement.moduleSpecifier !== undefined &&
      ts.isStringLiteral(statement.moduleSpecifier)
        ? statement.moduleSpecifier.text
        : undefined;
    const target = specifier === undefined ? undefined : resolveSpecifier(file, specifier);
    if (target !== undefined && !out.includes(target)) out.push(target);
  }
  return out;
}

function resolveSpecifier(from, specifier) {
  if (packages.has(specifier)) return packages.get(specifier);
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.(m|c)?js$/, '.$1ts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => /\.(m|c)?ts$/.test(c) && existsSync(c) && statSync(c).isFile());
}

/** Tarjan's algorithm: the groups of modules that reach each other. */
function stronglyConnected(graph) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    // Iterative, so a deep import chain cannot overflow the call stack.
    const work = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const targets = graph.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next++];
        if (!graph.has(target)) continue;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node), index.get(target)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent), low.get(frame.node)));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/** One cycle through a component, found by a breadth-first search back to its first module. */
function cyclePath(component, graph) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const previous = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const target of graph.get(node) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at = node; at !== start; at = previous.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

function shown(file) {
  return relative(root, file);
}
