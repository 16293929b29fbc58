import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Draws aimo's import graph folder by folder, one row per layer of
 * .dependency-cruiser.cjs (the rule file `npm test` checks), into
 * docs/import-graph.md as a Mermaid chart. Arrows point from the importer
 * down to what it imports, labelled with the number of imports.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LAYERS } = require('../.dependency-cruiser.cjs') as { LAYERS: string[][] };

interface CruiseResult {
  modules: Array<{ source: string; dependencies: Array<{ resolved: string; coreModule: boolean; couldNotResolve: boolean }> }>;
}

const root = join(__dirname, '..');
const folders = LAYERS.flat();
const json = execFileSync(join(root, 'node_modules', '.bin', 'depcruise'), ['--config', '.dependency-cruiser.cjs', '-T', 'json', ...folders], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
const cruise = JSON.parse(json) as CruiseResult;

const folderOf = (path: string) => path.split('/')[0] ?? '';
const edges = new Map<string, number>();
for (const mod of cruise.modules) {
  const from = folderOf(mod.source);
  for (const dep of mod.dependencies) {
    const to = folderOf(dep.resolved);
    if (dep.coreModule || dep.couldNotResolve || from === to || !folders.includes(from) || !folders.includes(to)) continue;
    edges.set(`${from} --> ${to}`, (edges.get(`${from} --> ${to}`) ?? 0) + 1);
  }
}

const lines = ['flowchart TB'];
[...LAYERS].reverse().forEach((layer, i) => {
  lines.push(`  subgraph L${LAYERS.length - 1 - i}["layer ${LAYERS.length - 1 - i}"]`, '    direction LR', ...layer.map((f) => `    ${f}["${f}/"]`), '  end');
});
for (const [edge, count] of [...edges.entries()].sort()) {
  const [from, to] = edge.split(' --> ');
  lines.push(`  ${from} -->|${count}| ${to}`);
}
const doc = [
  '# Import graph',
  '',
  'Drawn by `npm run graph` from the code\'s own imports (type-only imports included), folder by folder, one row per',
  'layer of `.dependency-cruiser.cjs`. Every arrow runs from a folder to one on a lower layer; `npm test` fails on any',
  'import that runs up or sideways, and on circular imports.',
  '',
  '```mermaid',
  ...lines,
  '```',
  '',
].join('\n');
writeFileSync(join(root, 'docs', 'import-graph.md'), doc);
process.stdout.write(`docs/import-graph.md: ${folders.length} folders, ${edges.size} folder-to-folder arrows\n`);
