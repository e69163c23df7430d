// The library's house rules, checked so that they stay true (docs/architecture.md): each layer
// imports only the layers below it, no import cycle, the protocol layer free of Nest, the core and
// the storage free of HTTP requests, and files small (none over 300 lines, median under 80).
// Usage: node scripts/check-architecture.mjs [--report] [root]   (exit 1 on any violation)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const args = process.argv.slice(2);
const report = args.includes('--report');
const root = resolve(args.find((arg) => !arg.startsWith('--')) ?? 'libs/tus/src');

/** Which layers each layer may import (itself included). Entry files (the package's entries) may import anything. */
const ALLOWED = {
  module: ['module', 'http', 'core', 'storage', 'protocol', 'errors'],
  http: ['http', 'core', 'storage', 'protocol', 'errors'],
  core: ['core', 'storage', 'protocol', 'errors'],
  storage: ['storage', 'protocol', 'errors'],
  protocol: ['protocol', 'errors'],
  errors: ['errors'],
};
/** Packages a layer must not import. */
const FORBIDDEN_PACKAGES = {
  protocol: [/^@nestjs\//, /^node:http$/, /^node:http2$/],
  core: [/^node:http$/, /^node:http2$/],
  storage: [/^node:http$/, /^node:http2$/],
  errors: [/^node:http$/],
};
const MAX_LINES = 300;
const MAX_MEDIAN = 80;

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const isTest = (file) => /\.spec\.ts$/.test(file) || file.split('/').includes('testing');
const layerOf = (file) => {
  const first = relative(root, file).split('/')[0];
  return first.endsWith('.ts') ? 'entry' : first;
};

const files = walk(root);
const problems = [];
const graph = new Map();
const pairCounts = new Map();
const importPattern = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/g;

for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const layer = layerOf(file);
  if (layer !== 'entry' && !(layer in ALLOWED)) problems.push(`${relative(root, file)}: outside every layer folder (${Object.keys(ALLOWED).join(', ')})`);
  const edges = [];
  for (const match of text.matchAll(importPattern)) {
    const specifier = match[1];
    if (specifier.startsWith('.')) {
      const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
      edges.push(target);
      const targetLayer = layerOf(target);
      if (!isTest(file)) pairCounts.set(`${layer} -> ${targetLayer}`, (pairCounts.get(`${layer} -> ${targetLayer}`) ?? 0) + 1);
      if (layer !== 'entry' && ALLOWED[layer] && !ALLOWED[layer].includes(targetLayer) && !isTest(file)) {
        problems.push(`${relative(root, file)}: the ${layer} layer imports ${relative(root, target)} (${targetLayer})`);
      }
    } else if (!isTest(file)) {
      for (const pattern of FORBIDDEN_PACKAGES[layer] ?? []) {
        if (pattern.test(specifier)) problems.push(`${relative(root, file)}: the ${layer} layer imports '${specifier}'`);
      }
    }
  }
  graph.set(file, edges);
}

// Import cycles: strongly connected components of more than one file (Tarjan).
let index = 0;
const stack = [];
const state = new Map();
const cycles = [];
function connect(file) {
  const node = { index, low: index, onStack: true };
  index++;
  state.set(file, node);
  stack.push(file);
  for (const target of graph.get(file) ?? []) {
    if (!graph.has(target)) continue;
    const seen = state.get(target);
    if (seen === undefined) {
      connect(target);
      node.low = Math.min(node.low, state.get(target).low);
    } else if (seen.onStack) node.low = Math.min(node.low, seen.index);
  }
  if (node.low === node.index) {
    const component = [];
    let member;
    do {
      member = stack.pop();
      state.get(member).onStack = false;
      component.push(member);
    } while (member !== file);
    if (component.length > 1) cycles.push(component);
  }
}
for (const file of graph.keys()) if (!state.has(file)) connect(file);
for (const cycle of cycles) problems.push(`import cycle: ${cycle.map((file) => relative(root, file)).join(' <-> ')}`);

// Sizes of the library's own source (tests aside).
const sizes = files
  .filter((file) => !isTest(file))
  .map((file) => ({ file: relative(root, file), lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
  .sort((a, b) => a.lines - b.lines);
const median = sizes.length % 2 ? sizes[(sizes.length - 1) / 2].lines : (sizes[sizes.length / 2 - 1].lines + sizes[sizes.length / 2].lines) / 2;
for (const { file, lines } of sizes) if (lines > MAX_LINES) problems.push(`${file}: ${lines} lines (at most ${MAX_LINES}: two concepts share it?)`);
if (median >= MAX_MEDIAN) problems.push(`median file size ${median} lines (under ${MAX_MEDIAN} expected)`);

const imports = [...graph.values()].reduce((sum, edges) => sum + edges.length, 0);
console.log(
  `architecture: ${sizes.length} source files (median ${median} lines, largest ${sizes.at(-1).lines}: ${sizes.at(-1).file}), ` +
    `${imports} relative imports, ${cycles.length} cycle(s), ${problems.length} problem(s)`,
);
if (report) {
  for (const [pair, count] of [...pairCounts].sort()) console.log(`  ${pair}: ${count}`);
  console.log(`  root files: ${files.filter((file) => layerOf(file) === 'entry').map((file) => relative(root, file)).join(', ')}`);
}
for (const problem of problems) console.error(`  ${problem}`);
process.exit(problems.length > 0 ? 1 : 0);
