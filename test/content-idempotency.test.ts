import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../activities';
import { rolloutTablePrefix } from '../domain/naming';
import { checkPlan, type ContentPlan } from '../domain/plan';
import type { RolloutContext } from '../domain/rollout/context';
import { tableChecksums } from '../simulator';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { contentPlan, contentWarehouse, startLocalLlmServer, type LocalLlmServer } from './support/content-fixtures';
import { TEST_SALT, tempDataDir } from './support/rollout-fixtures';
import { createSimulatedMarket } from '../simulator/market';

/**
 * Every content activity, run twice with the same input, leaves the warehouse
 * as one run does — and the generation activity pays for one call, not two.
 */
describe('content activities are idempotent', () => {
  let warehouse: DuckDbWarehouse;
  let llm: LocalLlmServer;
  let activities: Activities;
  let plan: ContentPlan;
  let ctx: RolloutContext;
  const env = new MockActivityEnvironment({ taskQueue: 'content-idempotency' });
  const workflowId = 'rollout-content-idem-1';

  beforeAll(async () => {
    [warehouse, llm] = await Promise.all([contentWarehouse(), startLocalLlmServer()]);
    activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir(), llm: { baseURL: llm.baseURL, apiKey: 'test-key' } });
    const checked = checkPlan(contentPlan({ useCase: 'content-idem' }));
    if (!checked.ok || checked.plan.kind !== 'content') throw new Error('expected a valid content plan');
    plan = checked.plan;
    ctx = { workflowId, useCase: plan.useCase, tablePrefix: rolloutTablePrefix(plan.useCase, workflowId) };
  });

  afterAll(async () => {
    await llm?.close();
    await warehouse?.close();
  });

  const state = async () => ({ aimo: await tableChecksums(warehouse, 'aimo'), raw: await tableChecksums(warehouse, 'raw') });

  async function twice<T>(name: string, run: () => Promise<T>): Promise<T> {
    const first = (await env.run(run)) as T;
    const afterFirst = await state();
    const second = (await env.run(run)) as T;
    expect([name, await state()]).toEqual([name, afterFirst]);
    return name === 'generateCreatives' ? first : second;
  }

  it('holds for every content step, in order', async () => {
    const at = '2026-11-28T10:00:00.000Z';
    await twice('measureContentBaseline', () => activities.measureContentBaseline({ ctx, plan }));
    const facts = await twice('loadProductFacts', () => activities.loadProductFacts({ ctx, plan }));
    expect(facts.facts.map((f) => f.productId)).toEqual(['trail-runner', 'rain-jacket']);
    const c = plan.content;
    const generated = await twice('generateCreatives', () =>
      activities.generateCreatives({ useCase: ctx.useCase, jobId: `${workflowId}-content`, day: '2026-11-28', at, market: 'DE', facts: facts.facts[0]!, count: 3, feedback: [], content: { format: c.format, templateVersion: c.templateVersion, bannedTerms: c.bannedTerms, brandRules: c.brandRules, models: c.models, budgets: c.budgets } }),
    );
    expect(llm.billedCalls()).toBe(1);
    if (generated.status !== 'ok') throw new Error('expected creatives');
    const variants = generated.variants.map((v, i) => ({ variantId: `v${i}`, productId: 'trail-runner', headline: v.headline, description: v.description, status: 'accepted' as const, attempt: 0, violations: [], model: generated.model, promptHash: generated.promptHash }));
    await twice('recordContentVariants', () => activities.recordContentVariants({ ctx, variants }));
    const arms = variants.map((v) => v.variantId);
    const round = { useCase: ctx.useCase, experimentId: 'idem-exp', round: 1, arms, shares: { v0: 0.4, v1: 0.3, v2: 0.3 }, impressions: { v0: 400, v1: 300, v2: 300 }, sourceSchema: 'raw', outcomesTable: 'content_outcomes', simulate: true, seed: 3 };
    const stats = await twice('recordBanditRound', () => activities.recordBanditRound(round));
    expect(stats.map((s) => s.impressions)).toEqual([400, 300, 300]);
    const published = await twice('publishCreatives', () => activities.publishCreatives({ ctx, choices: [{ variantId: 'v1', decidedBy: 'posterior', pBest: 0.97 }] }));
    expect(published).toEqual({ table: { schema: 'aimo', name: 'content_idem_creatives' }, products: 1 });
    await twice('banditRegret', () => activities.banditRegret({ experimentId: 'idem-exp', arms, sourceSchema: 'raw', outcomesTable: 'content_outcomes', seed: 3 }));
  });

  it('refuses a call the day\'s token budget cannot cover, across jobs, before paying for it', async () => {
    const c = plan.content;
    const [usedToday] = await warehouse.query<{ n: number }>(`SELECT SUM(prompt_tokens + completion_tokens) AS n FROM aimo.llm_usage WHERE use_case = 'content-idem' AND day = '2026-11-28'`);
    expect(Number(usedToday!.n)).toBeGreaterThan(0);
    const before = llm.billedCalls();
    const facts = (await activities.loadProductFacts({ ctx, plan })).facts[1]!;
    const result = await env.run(() =>
      activities.generateCreatives({ useCase: ctx.useCase, jobId: 'another-job', day: '2026-11-28', at: '2026-11-28T11:00:00.000Z', market: 'DE', facts, count: 3, feedback: [], content: { format: c.format, templateVersion: c.templateVersion, bannedTerms: c.bannedTerms, brandRules: c.brandRules, models: c.models, budgets: { tokensPerJob: 100_000, tokensPerDay: Number(usedToday!.n) + 100 } } }),
    );
    expect(result).toMatchObject({ status: 'budget-exhausted', scope: 'day', used: Number(usedToday!.n) });
    expect(llm.billedCalls()).toBe(before);
  });
});
