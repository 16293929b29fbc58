/**
 * The layers of aimo, from the ground up. A module may import from its own
 * folder and from the layers below it, never from a layer above or from a
 * sibling on its own layer: contracts below, entry points above.
 * `npm test` checks it (npm run check:layers); `npm run graph` draws it.
 */
const LAYERS = [
  ['domain'],
  ['warehouse', 'platform', 'reports'],
  ['analytics', 'store', 'simulator'],
  ['pipelines', 'serving'],
  ['activities'],
  ['workflows'],
  ['config'],
  ['webhooks'],
  ['cli'],
  ['workers'],
  // Scripts drive the product from outside, as a person would: npm run screenshots starts the stack.
  ['scripts'],
];

const folders = LAYERS.flat();
const layerOf = (folder) => LAYERS.findIndex((layer) => layer.includes(folder));

const layerRules = folders.map((folder) => {
  const allowed = [folder, ...folders.filter((other) => layerOf(other) < layerOf(folder))];
  return {
    name: `layers: ${folder}/`,
    comment: `${folder}/ may import only from ${allowed.join(', ')}`,
    severity: 'error',
    from: { path: `^${folder}/` },
    to: { path: `^(${folders.filter((f) => !allowed.includes(f)).join('|')})/` },
  };
});

module.exports = {
  forbidden: [
    ...layerRules.filter((rule) => rule.to.path !== '^()/'),
    { name: 'no-circular', comment: 'modules that import each other in a circle', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|test|dist|data|\\.cache)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    reporterOptions: {
      dot: { collapsePattern: '^(domain|warehouse|platform|reports|analytics|store|simulator|pipelines|serving|activities|workflows|config|webhooks|cli|workers|scripts)/' },
      archi: { collapsePattern: '^(domain|warehouse|platform|reports|analytics|store|simulator|pipelines|serving|activities|workflows|config|webhooks|cli|workers|scripts)/' },
    },
  },
};

// Read by scripts/import-graph.ts to draw one row per layer; not an option of dependency-cruiser's.
Object.defineProperty(module.exports, 'LAYERS', { value: LAYERS, enumerable: false });
