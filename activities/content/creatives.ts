import type { CreativeChoice, VariantRecord } from '../../domain/content/results';
import { log } from '@temporalio/activity';
import { NonRetryableError } from '../../domain/errors';
import { AIMO_SCHEMA, useCaseIdentifier } from '../../domain/naming';
import type { RolloutContext } from '../../domain/rollout/context';
import { formatTable, tableRef, type TableRef } from '../../domain/table-ref';
import { aimoTable, ensureAimoTables, upsertAimoRow } from '../../store/aimo-tables';
import type { ActivityDependencies } from '../dependencies';

/** Where a content use case's live creatives are: aimo.<use case>_creatives. */
export function creativesTable(useCase: string): TableRef {
  return tableRef(`${useCaseIdentifier(useCase)}_creatives`, AIMO_SCHEMA);
}

/** The variants of a generation job, what they cost, and the creatives that go live. */
export function createCreativeActivities({ warehouse }: ActivityDependencies) {
  return {
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
  };
}
