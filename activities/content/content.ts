import type { ContentBaseline, ProductFactsReport, VariantRecord, CreativeChoice, BanditAllocationInput, BanditRoundInput, BanditRegret } from '../../domain/content/results';
import { log } from '@temporalio/activity';
import { regret, type ArmStats } from '../../domain/content/bandit';
import type { ProductFacts } from '../../domain/content/rules';
import { addDaysIso } from '../../domain/dates';
import { NonRetryableError } from '../../domain/errors';
import { AIMO_SCHEMA, useCaseIdentifier } from '../../domain/naming';
import type { ContentPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import { formatTable, tableRef, type TableRef } from '../../domain/table-ref';
import type { ActivityDependencies } from '../dependencies';
import { requireSimulator } from '../seed';
import { aimoTable, ensureAimoTables, stableJson, upsertAimoRow } from '../../store/aimo-tables';





/** Where a content use case's live creatives are: aimo.<use case>_creatives. */
export function creativesTable(useCase: string): TableRef {
  return tableRef(`${useCaseIdentifier(useCase)}_creatives`, AIMO_SCHEMA);
}






const REQUIRED_PRODUCT_COLUMNS = ['product_id', 'name', 'price', 'currency', 'margin', 'stock', 'allowed_claims', 'description'];

export function createContentActivities({ warehouse, simulator }: ActivityDependencies) {
  const d = warehouse.dialect;
  const q = (c: string) => d.quote(c);

  const ensureOutcomesTable = async (schema: string, table: string) => {
    await warehouse.execute(d.createSchemaIfNotExists(schema));
    await warehouse.execute(
      `CREATE TABLE IF NOT EXISTS ${d.table(tableRef(table, schema))} (${q('experiment_id')} ${d.type('string')}, ${q('arm_id')} ${d.type('string')}, ` +
        `${q('period')} ${d.type('int')}, ${q('impressions')} ${d.type('int')}, ${q('clicks')} ${d.type('int')})`,
    );
  };

  const armTotals = async (schema: string, table: string, experimentId: string, arms: string[]): Promise<ArmStats[]> => {
    const rows = await warehouse.query<{ arm_id: string; impressions: number; clicks: number }>(
      `SELECT ${q('arm_id')} AS arm_id, SUM(${q('impressions')}) AS impressions, SUM(${q('clicks')}) AS clicks
       FROM ${d.table(tableRef(table, schema))} WHERE ${q('experiment_id')} = @experiment_id GROUP BY ${q('arm_id')}`,
      { experiment_id: experimentId },
    );
    return arms.map((armId) => {
      const r = rows.find((x) => x.arm_id === armId);
      return { armId, impressions: Number(r?.impressions ?? 0), clicks: Number(r?.clicks ?? 0) };
    });
  };

  /** Round r's row of aimo.bandit_rounds, keyed by (experiment, round); its stats stay '{}' until the round's outcomes are read. */
  const writeBanditRound = (input: BanditAllocationInput, stats: ArmStats[] | null) =>
    upsertAimoRow(warehouse, 'bandit_rounds', {
      experiment_id: input.experimentId, round: input.round, use_case: input.useCase,
      allocation_json: stableJson({ shares: input.shares, impressions: input.impressions }), stats_json: stats ? stableJson(stats) : '{}',
    });

  /**
   * Before round r's traffic: the allocation the ad server serves during the
   * round, and the outcomes table it reports to. A retry rewrites the same row.
   */
  const publishBanditAllocation = async (input: BanditAllocationInput): Promise<void> => {
    await ensureOutcomesTable(input.sourceSchema, input.outcomesTable);
    await writeBanditRound(input, null);
  };

  /**
   * After round r's cadence: lets the simulator produce the round's
   * impressions and clicks when the plan asks for it (MERGE by experiment,
   * arm and period: a retry writes the same rows), keeps every arm's totals
   * read from the warehouse with the round, and returns them.
   */
  const readBanditRound = async (input: BanditRoundInput): Promise<ArmStats[]> => {
    if (input.simulate) {
      await requireSimulator(simulator).serveBanditRound({
        experimentId: input.experimentId,
        round: input.round,
        arms: input.arms,
        impressions: input.impressions,
        outcomesTable: tableRef(input.outcomesTable, input.sourceSchema),
        seed: input.seed,
      });
    }
    const stats = await armTotals(input.sourceSchema, input.outcomesTable, input.experimentId, input.arms);
    await writeBanditRound(input, stats);
    return stats;
  };

  return {
    /** Step 1 (content): the incumbent creative's click-through rate, measured from its history. */
    async measureContentBaseline({ ctx, plan }: { ctx: RolloutContext; plan: ContentPlan }): Promise<ContentBaseline> {
      const table = tableRef(plan.content.historyTable, plan.sources.schema);
      if (!(await warehouse.tableExists(table))) {
        log.warn('content baseline not measurable: history table missing', { table: formatTable(table) });
        return { metric: plan.kpi.metric, baseline: null, target: null, window: null, impressions: 0, clicks: 0 };
      }
      const [last] = await warehouse.query<{ last: string | Date | null }>(`SELECT MAX(${q('day')}) AS last FROM ${d.table(table)}`);
      if (!last?.last) return { metric: plan.kpi.metric, baseline: null, target: null, window: null, impressions: 0, clicks: 0 };
      const to = (last.last instanceof Date ? last.last.toISOString() : String(last.last)).slice(0, 10);
      const from = addDaysIso(to, -(plan.kpi.baselineDays - 1));
      const [row] = await warehouse.query<{ impressions: number | null; clicks: number | null }>(
        `SELECT SUM(${q('impressions')}) AS impressions, SUM(${q('clicks')}) AS clicks FROM ${d.table(table)}
         WHERE ${q('day')} BETWEEN ${d.cast('@from', 'date')} AND ${d.cast('@to', 'date')}`,
        { from, to },
      );
      const impressions = Number(row?.impressions ?? 0);
      const clicks = Number(row?.clicks ?? 0);
      const baseline = impressions > 0 ? clicks / impressions : null;
      const target = baseline === null ? null : baseline * (1 + plan.kpi.targetChange);
      await upsertAimoRow(warehouse, 'kpi_specs', {
        workflow_id: ctx.workflowId, use_case: ctx.useCase, metric: plan.kpi.metric, channel: plan.kpi.channel, market: plan.kpi.market,
        baseline, target, target_change: plan.kpi.targetChange, deadline: plan.kpi.deadline, window_from: from, window_to: to, spec_json: JSON.stringify(plan.kpi),
      });
      return { metric: plan.kpi.metric, baseline, target, window: { from, to }, impressions, clicks };
    },

    /**
     * Steps 2–3 (content): the product facts the creatives are grounded in,
     * read with bound parameters and kept per rollout (aimo.content_facts).
     * A missing table, column or product is a blocking gap; stock 0 a warning.
     */
    async loadProductFacts({ ctx, plan }: { ctx: RolloutContext; plan: ContentPlan }): Promise<ProductFactsReport> {
      const table = tableRef(plan.content.productsTable, plan.sources.schema);
      const where = formatTable(table);
      if (!(await warehouse.tableExists(table))) return { facts: [], blocking: [`products: table ${where} does not exist`], warnings: [] };
      const columns = (await warehouse.columns(table)).map((c) => c.name.toLowerCase());
      const missingColumns = REQUIRED_PRODUCT_COLUMNS.filter((c) => !columns.includes(c));
      if (missingColumns.length) return { facts: [], blocking: [`products: ${where} lacks column(s) ${missingColumns.join(', ')}`], warnings: [] };
      const params = Object.fromEntries(plan.content.products.map((id, i) => [`p${i}`, id]));
      const rows = await warehouse.query<{ product_id: string; name: string | null; price: number | null; currency: string | null; margin: number | null; stock: number | null; allowed_claims: string | null; description: string | null }>(
        `SELECT ${REQUIRED_PRODUCT_COLUMNS.map(q).join(', ')} FROM ${d.table(table)}
         WHERE ${q('product_id')} IN (${plan.content.products.map((_, i) => `@p${i}`).join(', ')}) ORDER BY ${q('product_id')}`,
        params,
      );
      const blocking: string[] = [];
      const warnings: string[] = [];
      const facts: ProductFacts[] = [];
      for (const id of plan.content.products) {
        const r = rows.find((x) => x.product_id === id);
        if (!r) {
          blocking.push(`products: product ${id} is not in ${where}`);
          continue;
        }
        if (r.name === null || r.price === null || r.currency === null || r.stock === null) {
          blocking.push(`products: product ${id} lacks a name, price, currency or stock`);
          continue;
        }
        if (Number(r.stock) <= 0) warnings.push(`products: ${id} is out of stock; its ads may not claim availability`);
        facts.push({
          productId: id,
          name: r.name,
          price: Number(r.price),
          currency: r.currency,
          margin: Number(r.margin ?? 0),
          stock: Number(r.stock),
          allowedClaims: (r.allowed_claims ?? '').split('|').map((c) => c.trim()).filter(Boolean),
          description: r.description ?? '',
        });
      }
      for (const f of facts) {
        await upsertAimoRow(warehouse, 'content_facts', { workflow_id: ctx.workflowId, product_id: f.productId, use_case: ctx.useCase, facts_json: stableJson(f) });
      }
      return { facts, blocking, warnings };
    },

    /**
     * What a generation job paid for, as booked in aimo.llm_usage: the truth
     * for cost reporting, including a call a lost worker paid for before its
     * answer reached the workflow.
     */
    async bookedLlmUsage({ jobId }: { jobId: string }): Promise<{ paidCalls: number; promptTokens: number; completionTokens: number; cost: number }> {
      await ensureAimoTables(warehouse);
      const d = warehouse.dialect;
      const q = (c: string) => d.quote(c);
      const [row] = await warehouse.query<Record<string, number | null>>(
        `SELECT COUNT(*) AS paid_calls, SUM(${q('prompt_tokens')}) AS prompt_tokens, SUM(${q('completion_tokens')}) AS completion_tokens, SUM(${q('cost')}) AS cost
         FROM ${d.table(aimoTable('llm_usage'))} WHERE ${q('job_id')} = @job_id`,
        { job_id: jobId },
      );
      const n = (key: string) => Number(row?.[key] ?? 0);
      return { paidCalls: n('paid_calls'), promptTokens: n('prompt_tokens'), completionTokens: n('completion_tokens'), cost: Number(n('cost').toPrecision(9)) };
    },

    /**
     * The creatives activation reads: per product, the bandit's winner (or,
     * without one, the arm most likely best), in aimo.<use case>_creatives.
     * One CREATE OR REPLACE, so the ad server never sees half a switch.
     */
    async publishCreatives({ ctx, choices }: { ctx: RolloutContext; choices: CreativeChoice[] }): Promise<{ table: TableRef; products: number }> {
      const d = warehouse.dialect;
      const q = (c: string) => d.quote(c);
      const target = creativesTable(ctx.useCase);
      if (choices.length === 0) throw new NonRetryableError('NothingToPublish', `no product of ${ctx.useCase} has a creative to publish`);
      const params: Record<string, string | number> = { workflow_id: ctx.workflowId };
      const rows = choices.map((c, i) => {
        Object.assign(params, { [`variant_${i}`]: c.variantId, [`decided_${i}`]: c.decidedBy, [`p_best_${i}`]: c.pBest });
        return `SELECT @variant_${i} AS ${q('variant_id')}, @decided_${i} AS ${q('decided_by')}, ${d.cast(`@p_best_${i}`, 'float')} AS ${q('p_best')}`;
      });
      await warehouse.createOrReplaceTableAs(
        target,
        `SELECT v.${q('product_id')}, v.${q('variant_id')}, v.${q('headline')}, v.${q('description')}, c.${q('decided_by')}, c.${q('p_best')}
         FROM ${d.table(aimoTable('content_variants'))} v
         JOIN (${rows.join(' UNION ALL ')}) c ON c.${q('variant_id')} = v.${q('variant_id')}
         WHERE v.${q('workflow_id')} = @workflow_id`,
        params,
      );
      log.info('creatives published', { table: formatTable(target), products: choices.length });
      return { table: target, products: choices.length };
    },

    /** Every variant with its checks and status, keyed by (workflow, variant): re-recording updates, never duplicates. */
    async recordContentVariants({ ctx, variants }: { ctx: RolloutContext; variants: VariantRecord[] }): Promise<void> {
      for (const v of variants) {
        await upsertAimoRow(warehouse, 'content_variants', {
          workflow_id: ctx.workflowId, variant_id: v.variantId, product_id: v.productId, use_case: ctx.useCase, headline: v.headline, description: v.description,
          status: v.status, attempt: v.attempt, violations_json: JSON.stringify(v.violations), model: v.model, prompt_hash: v.promptHash,
        });
      }
    },

    publishBanditAllocation,
    readBanditRound,

    /**
     * A bandit round as runs started before allocations were published ahead
     * of their round still take it: published and read at once, after the
     * cadence. Kept until no such run is left.
     */
    async recordBanditRound(input: BanditRoundInput): Promise<ArmStats[]> {
      await publishBanditAllocation(input);
      return readBanditRound(input);
    },

    /** Simulator only: expected clicks lost against the planted best arm, for the bandit and for an even split of the same traffic. */
    async banditRegret({ experimentId, arms, sourceSchema, outcomesTable, seed }: { experimentId: string; arms: string[]; sourceSchema: string; outcomesTable: string; seed: number }): Promise<BanditRegret> {
      const trueRates = requireSimulator(simulator).plantedClickRates(experimentId, arms, seed);
      const stats = await armTotals(sourceSchema, outcomesTable, experimentId, arms);
      const impressions = Object.fromEntries(stats.map((s) => [s.armId, s.impressions]));
      const bestArm = Object.keys(trueRates).reduce((b, id) => (trueRates[id]! > trueRates[b]! ? id : b));
      return { ...regret(impressions, trueRates), bestArm, trueRates, impressions };
    },
  };
}
