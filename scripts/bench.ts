import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** `npm run bench`: every benchmark in turn, each printing its own table. */
for (const script of ['bench-simulator.ts', 'bench-loops.ts', 'bench-webhooks.ts', 'bench-metrics.ts', 'bench-soak.ts']) {
  console.log(`\n=== ${script} ===`);
  const run = spawnSync(process.execPath, [require.resolve('tsx/cli'), join(__dirname, script), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
