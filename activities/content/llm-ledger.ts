import type { CreativeVariant } from '../../domain/content/rules';
import { aimoTable, stableJson, upsertAimoRow } from '../../store/aimo-tables';
import type { Warehouse } from '../../warehouse/warehouse';

/** An answer kept in aimo.llm_cache by prompt hash. */
export interface CachedAnswer {
  readonly model: string;
  readonly variants: CreativeVariant[];
}

/** A paid call as booked in aimo.llm_usage: one row per attempt, so a retry that paid again is counted, not overwritten. */
export interface BookedCall {
  readonly promptHash: string;
  readonly useCase: string;
  readonly jobId: string;
  readonly day: string;
  readonly model: string;
  readonly attempt: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cost: number;
  readonly at: string;
}

/** What LLM calls cost and what they answered, in aimo's own tables: the budgets, the prompt cache and the cost report read it. */
export function llmLedger(warehouse: Warehouse) {
  const d = warehouse.dialect;
  const q = (c: string) => d.quote(c);
  const usedTokens = async (where: string, params: Record<string, string>): Promise<number> => {
    const [row] = await warehouse.query<{ n: number | null }>(
      `SELECT SUM(${q('prompt_tokens')} + ${q('completion_tokens')}) AS n FROM ${d.table(aimoTable('llm_usage'))} WHERE ${where}`,
      params,
    );
    return Number(row?.n ?? 0);
  };
  return {
    tokensOfJob: (jobId: string) => usedTokens(`${q('job_id')} = @job`, { job: jobId }),
    tokensOfDay: (useCase: string, day: string) => usedTokens(`${q('use_case')} = @use_case AND ${q('day')} = @day`, { use_case: useCase, day }),

    async cached(promptHash: string): Promise<CachedAnswer | undefined> {
      const [hit] = await warehouse.query<{ model: string; response_json: string }>(
        `SELECT ${q('model')} AS model, ${q('response_json')} AS response_json FROM ${d.table(aimoTable('llm_cache'))} WHERE ${q('prompt_hash')} = @hash`,
        { hash: promptHash },
      );
      return hit ? { model: hit.model, variants: (JSON.parse(hit.response_json) as { variants: CreativeVariant[] }).variants } : undefined;
    },

    async book(call: BookedCall): Promise<void> {
      await upsertAimoRow(warehouse, 'llm_usage', {
        prompt_hash: call.promptHash, use_case: call.useCase, job_id: call.jobId, day: call.day, model: call.model, attempt: call.attempt,
        prompt_tokens: call.promptTokens, completion_tokens: call.completionTokens, cost: call.cost, recorded_at: call.at,
      });
    },

    async cache(call: BookedCall, templateVersion: string, variants: CreativeVariant[]): Promise<void> {
      await upsertAimoRow(warehouse, 'llm_cache', {
        prompt_hash: call.promptHash, model: call.model, template_version: templateVersion, response_json: stableJson({ variants }),
        prompt_tokens: call.promptTokens, completion_tokens: call.completionTokens, created_at: call.at,
      });
    },
  };
}

export type LlmLedger = ReturnType<typeof llmLedger>;
