/**
 * How long the loops' warehouse work takes on embedded DuckDB, activity by
 * activity, on a simulated market with drift: the data path for a window,
 * training a version, scoring, the drift check, and the serving switches
 * (promote, canary, rollback). Temporal's own overhead is not in these
 * numbers; the workflows add a few milliseconds per activity.
 *
 *   npx tsx scripts/bench-loops.ts [--users N] [--seed N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import { PROPENSITY_DATA_PATH_LEVELS } from '../pipelines/propensity/models';
import { rolloutTablePrefix } from '../domain/naming';
import { checkPlan, type RolloutPlan } from '../domain/plan';
import type { RolloutContext } from '../domain/rollout/context';
import { generateDataset } from '../simulator';
import { DuckDbWarehouse } from '../warehouse/duckdb';
import demoPlan from '../plans/demo-paid-search-cac.json';
import { createSimulatedMarket } from '../simulator/market';

const { values } = parseArgs({ options: { users: { type: 'string', default: '100000' }, seed: { type: 'string', default: '7' } } });
const users = Number(values.users.replace(/_/g, ''));
const seed = Number(values.seed);
if (!Number.isInteger(users) || users < 1000) throw new Error(`--users must be a whole number of at least 1000, got ${values.users}`);

const timings: Array<{ step: string; ms: number; note: string }> = [];
async function timed<T>(step: string, run: () => Promise<T>, note: (result: T) => string = () => ''): Promise<T> {
  const started = process.hrtime.bigint();
  const result = await run();
  timings.push({ step, ms: Number(process.hrtime.bigint() - started) / 1e6, note: note(result) });
  // Progress on stderr, the table on stdout.
  process.stderr.write(`  done: ${step} (${(timings[timings.length - 1]!.ms / 1000).toFixed(1)} s)\n`);
  return result;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aimo-bench-loops-'));
  const warehouse = await DuckDbWarehouse.open(':memory:');
  try {
    await timed('simulate the market', () =>
      generateDataset(warehouse, { seed, users, drift: { fromDate: '2026-02-26', features: ['session_rate'], strength: 1 } }),
    );
    const activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: 'bench-salt-0123456789', dataDir });
    const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
    const env = new MockActivityEnvironment({ taskQueue: 'bench' }, { logger: quiet });
    const run = <T>(fn: () => Promise<T>) => env.run(fn) as Promise<T>;

    const planFor = (asOf: string): RolloutPlan => {
      const checked = checkPlan({ ...demoPlan, useCase: 'bench-loops', windows: { asOf, featureDays: 28, labelDays: 14 } });
      if (!checked.ok) throw new Error(checked.problems.join('\n'));
      if (checked.plan.kind !== 'propensity') throw new Error('expected a propensity plan');
      return checked.plan;
    };
    const contextFor = (workflowId: string): RolloutContext => ({ workflowId, useCase: 'bench-loops', tablePrefix: rolloutTablePrefix('bench-loops', workflowId) });
    const at = '2026-11-29T00:00:00.000Z';

    const dataPath = async (label: string, ctx: RolloutContext, plan: RolloutPlan) =>
      timed(`data path (${label})`, async () => {
        const runs = [];
        for (const level of PROPENSITY_DATA_PATH_LEVELS) runs.push(...(await Promise.all(level.map((model) => run(() => activities.runDataModel({ ctx, plan, model }))))));
        return runs;
      }, (runs) => `${runs.length} models, ${runs.find((r) => r.model === 'features')?.rows ?? '?'} feature rows`);

    const championCtx = contextFor('rollout-bench-loops-1');
    const championPlan = planFor('2026-02-11');
    await dataPath('champion window', championCtx, championPlan);
    const champion = await timed('train + holdout + score (champion)', () => run(() => activities.trainBaselineModel({ ctx: championCtx, plan: championPlan, registeredAt: at })), (m) => `AUC ${m.metrics.auc.toFixed(3)}`);
    await timed('promote (blue/green switch)', () => run(() => activities.promoteVersion({ useCase: 'bench-loops', versionId: champion.versionId, by: 'bench', reason: 'bench', at })));

    const driftCtx = contextFor('drift-bench-loops-1');
    const driftModels = await dataPath('recent window', driftCtx, planFor('2026-03-18'));
    const currentFeatures = driftModels.find((m) => m.model === 'features')!.table;
    const currentScores = await timed('score the recent window', () => run(() => activities.scoreWithVersion({ ctx: driftCtx, versionId: champion.versionId, featuresTable: currentFeatures, name: 'drift_scores' })));
    await timed('drift check (PSI, KS, JS, prediction)', () =>
      run(() =>
        activities.computeUseCaseDrift({
          ctx: driftCtx,
          championVersionId: champion.versionId,
          referenceFeatures: champion.featuresTable,
          currentFeatures,
          referenceScores: champion.scoresTable,
          currentScores,
          thresholds: {},
        }),
      ),
      (d) => `${d.features.length} features, drifted: ${d.driftedFeatures.join(', ') || 'none'}`,
    );

    const retrainCtx = contextFor('retrain-bench-loops-1');
    const retrainPlan = planFor('2026-03-04');
    await dataPath('retrain window', retrainCtx, retrainPlan);
    const challenger = await timed('train + holdout + score (challenger)', () => run(() => activities.trainBaselineModel({ ctx: retrainCtx, plan: retrainPlan, registeredAt: at })), (m) => `AUC ${m.metrics.auc.toFixed(3)}`);
    await timed('compare on the champion holdout', () => run(() => activities.compareWithChampion({ challenger, championVersionId: champion.versionId })), (c) => `${c.challengerAuc.toFixed(3)} vs ${c.championAuc.toFixed(3)}`);
    await timed('start canary (10 %)', () => run(() => activities.startCanaryServing({ useCase: 'bench-loops', championVersionId: champion.versionId, challengerVersionId: challenger.versionId, share: 0.1 })));
    await timed('canary health check', () =>
      run(() =>
        activities.canaryHealth({ ctx: retrainCtx, plan: retrainPlan, championVersionId: champion.versionId, challengerVersionId: challenger.versionId, share: 0.1, liveFrom: '2026-03-18', liveTo: '2026-04-01', maxAucDrop: 0.02 }),
      ),
      (h) => `${h.users} canary users`,
    );
    await timed('promote challenger', () => run(() => activities.promoteVersion({ useCase: 'bench-loops', versionId: challenger.versionId, by: 'bench', reason: 'bench', at })));
    await timed('rollback to previous', () => run(() => activities.rollbackServing({ useCase: 'bench-loops', by: 'bench', reason: 'bench', at })));
  } finally {
    await warehouse.close();
    rmSync(dataDir, { recursive: true, force: true });
  }

  console.log(`Loop activities on embedded DuckDB, ${users.toLocaleString('en')} simulated users, ${cpus().length} cores (Node ${process.version})`);
  const width = Math.max(...timings.map((t) => t.step.length));
  for (const t of timings) console.log(`  ${t.step.padEnd(width)}  ${(t.ms / 1000).toFixed(3).padStart(8)} s  ${t.note}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
