import type { WorkflowHandle } from '@temporalio/client';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import type { ArmStats } from '../domain/content/bandit';
import type { ContentPlan } from '../domain/plan';
import { tableChecksums } from '../simulator';
import { ensureAimoTables } from '../store/aimo-tables';
import { createSimulatedMarket } from '../simulator/market';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { contentBandit } from '../workflows';
import { banditQuery } from '../workflows/content/bandit';
import { contentWarehouse, runContentWorkers } from './support/content-fixtures';
import { recordHistory } from './support/histories';
import { TEST_SALT, tempDataDir } from './support/rollout-fixtures';
import { startTimeSkippingServer } from './support/temporal';

type BanditSettings = ContentPlan['content']['bandit'];

/**
 * The ad server reads a round's allocation from aimo.bandit_rounds while the
 * round runs: the bandit publishes it before the round's cadence sleep and
 * reads the round's outcomes only after it.
 */
describe('content bandit publishes each allocation before its round', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;

  beforeAll(async () => {
    [env, warehouse] = await Promise.all([startTimeSkippingServer(), contentWarehouse()]);
    // The test reads aimo.bandit_rounds before the bandit's first write.
    await ensureAimoTables(warehouse);
  });

  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  const publishedRound = async (experimentId: string, round: number) => {
    const [row] = await warehouse.query<{ allocation_json: string; stats_json: string }>(
      'SELECT allocation_json, stats_json FROM aimo.bandit_rounds WHERE experiment_id = @experiment_id AND round = @round',
      { experiment_id: experimentId, round },
    );
    return row && { shares: (JSON.parse(row.allocation_json) as { shares: Record<string, number> }).shares, stats: JSON.parse(row.stats_json) as ArmStats[] | Record<string, never> };
  };

  it('shows round r\'s shares while round r has no outcomes, and reads what the ad server reported after the cadence', async () => {
    // No simulator: outcomes arrive only when this test, acting as the ad server, writes them.
    const activities = createActivities({ warehouse, hashSalt: TEST_SALT, dataDir: tempDataDir() });
    const experimentId = 'bandit-published-exp';
    const arms = ['a', 'b'];
    // Close rates: no arm can reach P(best) 0.9999 in three rounds, so every round runs.
    const clickRates: Record<string, number> = { a: 0.02, b: 0.025 };
    const settings: BanditSettings = { outcomeSource: 'warehouse', cadence: '1 day', burnInImpressions: 100, minShare: 0.1, winnerProbability: 0.9999, maxRounds: 3, impressionsPerRound: 1000 };
    const totals = new Map(arms.map((armId) => [armId, { armId, impressions: 0, clicks: 0 }]));

    /** Round r as the ad server lives it: read the allocation, serve it, report the outcomes; then the cadence passes. */
    const playRound = async (handle: WorkflowHandle<typeof contentBandit>, round: number) => {
      // Time is locked outside result() and env.sleep(): the workflow waits in round r's cadence sleep.
      const published = await waitFor(() => publishedRound(experimentId, round));
      expect(published.stats).toEqual({});
      expect(Object.keys(published.shares).sort()).toEqual(arms);
      const { allocation } = await handle.query(banditQuery);
      for (const arm of arms) expect(published.shares[arm]).toBeCloseTo(allocation!.shares[arm]!, 8);
      const [served] = await warehouse.query<{ n: number }>('SELECT COUNT(*) AS n FROM raw.content_outcomes WHERE experiment_id = @experiment_id AND period = @period', {
        experiment_id: experimentId,
        period: round,
      });
      expect(Number(served!.n)).toBe(0);

      for (const arm of arms) {
        const impressions = Math.round(published.shares[arm]! * 1000);
        const clicks = Math.round(impressions * clickRates[arm]!);
        await warehouse.execute('INSERT INTO raw.content_outcomes VALUES (@experiment_id, @arm_id, @period, @impressions, @clicks)', {
          experiment_id: experimentId, arm_id: arm, period: round, impressions, clicks,
        });
        const t = totals.get(arm)!;
        totals.set(arm, { armId: arm, impressions: t.impressions + impressions, clicks: t.clicks + clicks });
      }
      expect((await handle.query(banditQuery)).round).toBe(round - 1);

      await env.sleep('1 day');
      const read = await waitFor(async () => {
        const row = await publishedRound(experimentId, round);
        return Array.isArray(row?.stats) ? row.stats : undefined;
      });
      expect(read).toEqual([...totals.values()]);
    };

    const readout = await runContentWorkers(env, activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(contentBandit, {
        taskQueue,
        workflowId: 'bandit-published-1',
        args: [{ useCase: 'bandit-published', experimentId, productId: 'p', arms, sourceSchema: 'raw', outcomesTable: 'content_outcomes', seed: 5, settings }],
      });
      try {
        for (let round = 1; round <= settings.maxRounds; round++) await playRound(handle, round);
      } catch (e) {
        // A failed expectation must not leave the bandit asleep on the shared server.
        await handle.terminate('test failed');
        throw e;
      }
      return handle.result();
    });
    expect(readout).toMatchObject({ rounds: settings.maxRounds, decidedBy: 'max-rounds', arms: [...totals.values()] });
  });

  it('in simulator mode keeps every round\'s stats with its allocation and still finds the planted best arm', async () => {
    const activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir() });
    const experimentId = 'bandit-simulated-exp';
    const settings: BanditSettings = { outcomeSource: 'simulator', cadence: '1 day', burnInImpressions: 500, minShare: 0.05, winnerProbability: 0.95, maxRounds: 19, impressionsPerRound: 1500 };
    const readout = await runContentWorkers(env, activities, (taskQueue) =>
      env.client.workflow.execute(contentBandit, {
        taskQueue,
        workflowId: 'bandit-simulated-1',
        args: [{ useCase: 'bandit-simulated', experimentId, productId: 'p', arms: ['x', 'y', 'z'], sourceSchema: 'raw', outcomesTable: 'content_outcomes', seed: 5, settings }],
      }),
    );
    await recordHistory(env.client, 'bandit-simulated-1', 'content-bandit-published-first');
    expect(readout.decidedBy).toBe('posterior');
    expect(readout.winner).toBe(readout.regret!.bestArm);

    // Round r's row carries the totals read after round r: the simulated traffic of periods 1..r.
    const rows = await warehouse.query<{ round: number; stats_json: string; impressions: number }>(
      `SELECT r.round, r.stats_json, (SELECT SUM(o.impressions) FROM raw.content_outcomes o WHERE o.experiment_id = r.experiment_id AND o.period <= r.round) AS impressions
       FROM aimo.bandit_rounds r WHERE r.experiment_id = @experiment_id ORDER BY r.round`,
      { experiment_id: experimentId },
    );
    expect(rows.map((r) => Number(r.round))).toEqual(Array.from({ length: readout.rounds }, (_, i) => i + 1));
    for (const r of rows) {
      expect((JSON.parse(r.stats_json) as ArmStats[]).reduce((s, a) => s + a.impressions, 0)).toBe(Number(r.impressions));
    }
    expect(JSON.parse(rows.at(-1)!.stats_json)).toEqual(readout.arms);
  });
});

describe('bandit round activities are idempotent', () => {
  it('publishing and reading a round twice leave the warehouse as once', async () => {
    const warehouse = await contentWarehouse();
    try {
      const activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir() });
      const env = new MockActivityEnvironment({ taskQueue: 'bandit-idempotency' });
      const state = async () => ({ aimo: await tableChecksums(warehouse, 'aimo'), raw: await tableChecksums(warehouse, 'raw') });
      const round = { useCase: 'bandit-idem', experimentId: 'idem-exp', round: 1, arms: ['v0', 'v1'], shares: { v0: 0.6, v1: 0.4 }, impressions: { v0: 600, v1: 400 }, sourceSchema: 'raw', outcomesTable: 'content_outcomes', simulate: true, seed: 3 };
      for (const run of [() => activities.publishBanditAllocation(round), () => activities.readBanditRound(round)]) {
        await env.run(run);
        const once = await state();
        await env.run(run);
        expect(await state()).toEqual(once);
      }
      const stats = (await env.run(() => activities.readBanditRound(round))) as ArmStats[];
      expect(stats.map((s) => s.impressions)).toEqual([600, 400]);
    } finally {
      await warehouse.close();
    }
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
