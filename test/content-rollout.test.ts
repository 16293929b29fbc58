import { readFileSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../activities';
import { ensureAimoTables } from '../store/aimo-tables';
import type { RolloutResult } from '../domain/rollout/result';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { contentBandit, rollout } from '../workflows';
import { approvalUpdate, statusQuery } from '../domain/rollout/definitions';
import { contentPlan, contentWarehouse, runContentWorkers, startLocalLlmServer, type LocalLlmServer } from './support/content-fixtures';
import { recordHistory } from './support/histories';
import { TEST_SALT, tempDataDir } from './support/rollout-fixtures';
import { startTimeSkippingServer } from './support/temporal';
import { createSimulatedMarket } from '../simulator/market';

/**
 * The content use case end to end on the time-skipping server: the real
 * `openai` client talks HTTP to the local OpenAI-compatible stand-in, the
 * warehouse is DuckDB, and the bandit's daily cadence passes in moments.
 */
describe('content rollout', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let llm: LocalLlmServer;
  let dataDir: string;

  beforeAll(async () => {
    [env, warehouse, llm] = await Promise.all([startTimeSkippingServer(), contentWarehouse(), startLocalLlmServer()]);
    dataDir = tempDataDir();
  });

  afterAll(async () => {
    await llm?.close();
    await warehouse?.close();
    await env?.teardown();
  });

  // Each test pays for its own answers: the prompt cache is shared by every job of a warehouse.
  beforeEach(async () => {
    llm.reset();
    await ensureAimoTables(warehouse);
    await warehouse.execute('DELETE FROM aimo.llm_cache');
  });

  const activities = (): Activities => createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir, llm: { baseURL: llm.baseURL, apiKey: 'test-key' } });

  it('completes all steps: grounded variants, a price claim caught, a fallback model, a bandit that finds the planted best arm', async () => {
    llm.script({ fault: { kind: 'wrong-price' }, productId: 'trail-runner' });
    llm.script({ fault: { kind: 'status', status: 500 }, model: 'primary-model', productId: 'rain-jacket' });
    const started = Date.now();
    const result: RolloutResult = await runContentWorkers(env, activities(), (taskQueue) =>
      env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-content-full-1', args: [contentPlan({ useCase: 'content-full' })] }),
    );
    await recordHistory(env.client, 'rollout-content-full-1', 'content-rollout');
    await recordHistory(env.client, 'rollout-content-full-1-content', 'content-generation');
    await recordHistory(env.client, 'rollout-content-full-1-bandit-trail-runner', 'content-bandit');
    expect(result.status).toBe('completed');
    expect(result.steps.map((s) => `${s.step}:${s.status}`)).toEqual([
      'kpi:passed', 'inventory:passed', 'data-path:skipped', 'baseline-model:passed', 'guardrails:passed', 'experiment:passed', 'automation:passed', 'scale:skipped',
    ]);
    // A step that does not apply to the use case says why, in the status and the report.
    expect(result.steps.find((s) => s.step === 'data-path')?.summary).toMatch(/product facts are the whole data path/);
    const c = result.content!;
    expect(c.baseline.baseline).toBeGreaterThan(0.015);
    expect(c.baseline.baseline).toBeLessThan(0.025);

    // The wrong price was rejected by the claim check and regenerated; the rejection is on record.
    const rejected = c.variants.filter((v) => v.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ productId: 'trail-runner', violations: [{ rule: 'price', detail: 'states the price 71.99, the catalogue says 89.99 EUR' }] });
    const rows = await warehouse.query<{ status: string; n: number }>(
      `SELECT status, COUNT(*) AS n FROM aimo.content_variants WHERE workflow_id = 'rollout-content-full-1' GROUP BY status ORDER BY status`,
    );
    expect(rows.map((r) => [r.status, Number(r.n)])).toEqual([['accepted', 6], ['rejected', 1]]);

    // The primary's 500 went to the fallback model; every paid call is booked once.
    const g = c.generation!;
    expect(g.fallbackCalls).toBe(1);
    expect(g.calls).toBe(3);
    expect(llm.billedCalls()).toBe(3);
    const [usage] = await warehouse.query<{ n: number; cost: number }>(`SELECT COUNT(*) AS n, SUM(cost) AS cost FROM aimo.llm_usage WHERE job_id = 'rollout-content-full-1-content'`);
    expect(Number(usage!.n)).toBe(3);
    expect(g.cost).toBeCloseTo(usage!.cost, 9);
    expect(c.costPerAcceptedAsset).toBeCloseTo(g.cost / 6, 6);

    // No PII reached the endpoint; catalogue text travelled only inside the data block.
    for (const r of llm.requests) expect(r.text).not.toMatch(/anna\.schmidt@example\.com|1234 5678/);

    // Each product's bandit found its planted best arm, losing fewer clicks than an even split.
    expect(c.experiments).toHaveLength(2);
    for (const e of c.experiments) {
      expect(Object.keys(e.regret!.trueRates).sort()).toEqual(e.arms.map((a) => a.armId).sort());
      expect(e.winner).toBe(e.regret!.bestArm);
      expect(e.regret!.bandit).toBeLessThan(e.regret!.evenSplit);
    }
    // Each product goes live with its bandit's winner, where activation reads it.
    expect(c.published).toEqual({ schema: 'aimo', name: 'content_full_creatives' });
    const live = await warehouse.query<{ product_id: string; variant_id: string; decided_by: string; headline: string }>(
      'SELECT product_id, variant_id, decided_by, headline FROM aimo.content_full_creatives ORDER BY product_id',
    );
    expect(live.map((r) => [r.product_id, r.variant_id, r.decided_by])).toEqual(
      [...c.experiments].sort((a, b) => a.productId.localeCompare(b.productId)).map((e) => [e.productId, e.winner, 'posterior']),
    );
    expect(live.every((r) => r.headline.length > 0)).toBe(true);
    const report = readFileSync(result.reportPath!, 'utf8');
    for (const part of ['## Creatives', 'Cost per accepted asset', 'states the price 71.99', '### Bandit trail-runner', 'Regret:']) expect(report).toContain(part);

    const lost = c.experiments.reduce((s, e) => s + e.regret!.bandit, 0);
    const even = c.experiments.reduce((s, e) => s + e.regret!.evenSplit, 0);
    process.stdout.write(
      `content rollout: ${g.calls} paid calls, ${g.promptTokens + g.completionTokens} tokens, cost ${g.cost.toFixed(6)}, cost per accepted asset ${c.costPerAcceptedAsset!.toFixed(6)}; ` +
        `bandit regret ${lost.toFixed(1)} clicks vs ${even.toFixed(1)} for an even split (ratio ${(lost / even).toFixed(3)}), rounds ${c.experiments.map((e) => e.rounds).join('/')}; ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  });

  it('stops the calls when the job\'s token budget runs out mid-job, and reports it', async () => {
    const plan = contentPlan({ useCase: 'content-budget', content: { products: ['trail-runner', 'rain-jacket', 'day-pack'], budgets: { tokensPerJob: 1000, tokensPerDay: 200_000 } } });
    const result: RolloutResult = await runContentWorkers(env, activities(), (taskQueue) =>
      env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-content-budget-1', args: [plan] }),
    );
    expect(result.status).toBe('failed');
    const g = result.content!.generation!;
    expect(g.budgetExhausted).toMatchObject({ scope: 'job', limit: 1000 });
    expect(g.budgetExhausted!.used + g.budgetExhausted!.needed).toBeGreaterThan(1000);
    expect(g.budgetExhausted!.productsSkipped.length).toBeGreaterThan(0);
    expect(llm.billedCalls()).toBe(g.calls);
    expect(g.calls).toBeLessThan(3);
    expect(result.failure).toMatch(/token budget per job exhausted: \d+ of 1000 tokens used/);
    expect(result.steps.find((s) => s.step === 'baseline-model')).toMatchObject({ status: 'failed', numbers: { budgetScope: 'job', budgetLimit: 1000 } });
  });

  it('makes no second paid call when a generation activity is retried after its call was paid', async () => {
    const acts = activities();
    const generate = acts.generateCreatives;
    let lost = 0;
    acts.generateCreatives = async (input) => {
      const answer = await generate(input);
      // The worker "dies" after the paid answer was cached, before Temporal heard of it.
      if (lost++ === 0) throw new Error('worker lost after the call');
      return answer;
    };
    const result: RolloutResult = await runContentWorkers(env, acts, (taskQueue) =>
      env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-content-retry-1', args: [contentPlan({ useCase: 'content-retry', content: { products: ['day-pack'] } })] }),
    );
    expect(result.status).toBe('completed');
    expect(lost).toBe(2);
    expect(llm.billedCalls()).toBe(1);
    // The paid call is reported although the answer that reached the workflow came from the cache.
    expect(result.content!.generation).toMatchObject({ calls: 1, cachedCalls: 1 });
    const [usage] = await warehouse.query<{ n: number }>(`SELECT COUNT(*) AS n FROM aimo.llm_usage WHERE job_id = 'rollout-content-retry-1-content'`);
    expect(Number(usage!.n)).toBe(1);
  });

  it('pays once when moderation fails after the paid answer: the retry takes the answer from the cache', async () => {
    llm.script({ fault: { kind: 'moderation-status', status: 503 } });
    const result: RolloutResult = await runContentWorkers(env, activities(), (taskQueue) =>
      env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-content-moderation-1', args: [contentPlan({ useCase: 'content-moderation', content: { products: ['day-pack'] } })] }),
    );
    expect(result.status).toBe('completed');
    expect(llm.billedCalls()).toBe(1);
    expect(llm.requests.filter((r) => r.path === '/v1/moderations').map((r) => r.status)).toEqual([503, 200]);
    expect(result.content!.generation).toMatchObject({ calls: 1, cachedCalls: 1, moderation: 'checked' });
    const [usage] = await warehouse.query<{ n: number }>(`SELECT COUNT(*) AS n FROM aimo.llm_usage WHERE job_id = 'rollout-content-moderation-1-content'`);
    expect(Number(usage!.n)).toBe(1);
  });

  it('sends what still fails after the regeneration cap to human review, and a rejection drops it', async () => {
    llm.script({ fault: { kind: 'too-long' }, productId: 'day-pack', times: 2 });
    const plan = contentPlan({ useCase: 'content-review', content: { products: ['day-pack'], maxRegenerations: 1 } });
    const result = await runContentWorkers(env, activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(rollout, { taskQueue, workflowId: 'rollout-content-review-1', args: [plan] });
      await waitFor(async () => (await handle.query(statusQuery)).state === 'waiting-approval');
      await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'reject', by: 'brand@team', reason: 'headline too long for the channel' }] });
      return handle.result();
    });
    await recordHistory(env.client, 'rollout-content-review-1', 'content-reviewed');
    expect(result.status).toBe('completed');
    const c = result.content!;
    expect(c.review).toEqual({ decision: 'reject', by: 'brand@team', reason: 'headline too long for the channel', variants: 1 });
    expect(c.variants.map((v) => v.status).sort()).toEqual(['accepted', 'accepted', 'rejected', 'rejected-by-reviewer']);
    expect(c.experiments[0]!.arms).toHaveLength(2);
  });
});

describe('content bandit loop', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;

  beforeAll(async () => {
    [env, warehouse] = await Promise.all([startTimeSkippingServer(), contentWarehouse()]);
  });

  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  it('keeps its state across continue-as-new and stops at the round cap when no arm is clearly best', async () => {
    const activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir() });
    const arms = ['a', 'b', 'c'];
    const readout = await runContentWorkers(env, activities, (taskQueue) =>
      env.client.workflow.execute(contentBandit, {
        taskQueue,
        workflowId: 'bandit-long-1',
        args: [{
          useCase: 'bandit-long', experimentId: 'bandit-long-exp', productId: 'p', arms, sourceSchema: 'raw', outcomesTable: 'content_outcomes', seed: 11,
          settings: { outcomeSource: 'simulator', cadence: '1 hour', burnInImpressions: 100, minShare: 0.1, winnerProbability: 0.9999, maxRounds: 25, impressionsPerRound: 60 },
        }],
      }),
    );
    expect(readout.rounds).toBe(25);
    expect(readout.decidedBy).toBe('max-rounds');
    expect(readout.arms.reduce((s, a) => s + a.impressions, 0)).toBe(25 * 60);
    expect(Math.min(...Object.values(readout.shares))).toBeGreaterThanOrEqual(0.1 - 1e-9);
    const runs = await warehouse.query<{ n: number }>(`SELECT COUNT(*) AS n FROM aimo.bandit_rounds WHERE experiment_id = 'bandit-long-exp'`);
    expect(Number(runs[0]!.n)).toBe(25);
    const history = await env.client.workflow.getHandle('bandit-long-1').describe();
    expect(history.runId).not.toBe(history.raw.workflowExecutionInfo?.firstRunId);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
