#!/usr/bin/env node
'use strict';
// `npx aimo …` answers in about a second by never type-checking or compiling
// the whole project on a call. In order:
//  1. dist/ (`npm run build`), when it is at least as new as every source file;
//  2. otherwise a per-file JavaScript cache in .cache/cli-js/<checkout>/: only the files
//     edited since the last call are transpiled again (esbuild, which tsx
//     brings; the project compiles with isolatedModules, so each file
//     transpiles on its own);
//  3. otherwise, or with AIMO_CLI_FROM_SOURCE=1, the TypeScript through tsx.
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');
const { createHash } = require('node:crypto');

const root = join(__dirname, '..');
// The folders tsconfig.build.json compiles: the CLI's code and everything it imports.
const SOURCE_DIRS = ['activities', 'analytics', 'cli', 'config', 'domain', 'pipelines', 'serving', 'store', 'platform', 'simulator', 'warehouse', 'webhooks', 'workers', 'workflows'];

function listSources(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listSources(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push({ path, mtimeMs: statSync(path).mtimeMs });
  }
  return out;
}

function fromDist(sources) {
  const compiled = join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(compiled)) return undefined;
  const built = statSync(compiled).mtimeMs;
  return sources.some((s) => s.mtimeMs > built) ? undefined : compiled;
}

function fromCache(sources) {
  let esbuild;
  // One cache per checkout: worktrees that share a linked .cache never run each other's code.
  const cacheRoot = join(root, '.cache', 'cli-js', createHash('sha256').update(root).digest('hex').slice(0, 12));
  for (const source of sources) {
    const target = join(cacheRoot, relative(root, source.path)).replace(/\.ts$/, '.js');
    if (existsSync(target) && statSync(target).mtimeMs >= source.mtimeMs) continue;
    // Loaded only when a file must be transpiled again.
    try {
      esbuild ??= require('esbuild');
    } catch {
      return undefined;
    }
    const { code } = esbuild.transformSync(readFileSync(source.path, 'utf8'), {
      loader: 'ts',
      format: 'cjs',
      target: 'es2022',
      platform: 'node',
      sourcemap: 'inline',
      sourcefile: source.path,
      // import() of a lazily loaded module becomes require(), as tsc emits it for CommonJS.
      supported: { 'dynamic-import': false },
    });
    mkdirSync(dirname(target), { recursive: true });
    // Write-then-rename: two calls at once never read half a file.
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, target);
  }
  return join(cacheRoot, 'cli', 'main.js');
}

function loadCli() {
  if (process.env.AIMO_CLI_FROM_SOURCE !== '1') {
    const sources = SOURCE_DIRS.flatMap((dir) => listSources(join(root, dir), []));
    const compiled = fromDist(sources) ?? fromCache(sources);
    if (compiled) return require(compiled).run;
  }
  require('tsx/cjs');
  return require('./main.ts').run;
}

let run;
try {
  run = loadCli();
} catch (err) {
  console.error(err);
  process.exit(1);
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
