import { createHash } from 'node:crypto';
import { Context, log } from '@temporalio/activity';
import OpenAI, { APIError } from 'openai';
import {
  buildPrompt,
  creativeJsonSchema,
  creativeSchema,
  scrubFacts,
  type CreativeVariant,
  type ProductFacts,
} from '../../domain/content/rules';
import { NonRetryableError } from '../../domain/errors';
import type { ContentPlan } from '../../domain/plan';
import type { ActivityDependencies } from '../dependencies';
import { aimoTable, ensureAimoTables, stableJson, upsertAimoRow } from '../../store/aimo-tables';

export interface GenerateInput {
  readonly useCase: string;
  /** The generation job (its workflow id): the per-job budget's key */
  readonly jobId: string;
  /** UTC day of the call, from the workflow clock: the per-day budget's key */
  readonly day: string;
  readonly at: string;
  readonly market: string;
  readonly facts: ProductFacts;
  readonly count: number;
  readonly feedback: string[];
  readonly content: Pick<ContentPlan['content'], 'format' | 'templateVersion' | 'bannedTerms' | 'brandRules' | 'models' | 'budgets'>;
}

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cost: number;
}

export type GenerateResult =
  | {
      readonly status: 'ok';
      readonly promptHash: string;
      readonly model: string;
      /** Answered from the cache: nobody paid for this call */
      readonly cached: boolean;
      readonly usage: Usage;
      readonly variants: CreativeVariant[];
      /** Per variant: flagged by the provider's moderation (false where it offers none) */
      readonly flagged: boolean[];
      readonly moderation: 'checked' | 'unavailable';
      readonly piiRemoved: number;
    }
  | {
      readonly status: 'budget-exhausted';
      readonly scope: 'job' | 'day';
      readonly used: number;
      readonly limit: number;
      readonly needed: number;
    };

interface CachedAnswer {
  variants: CreativeVariant[];
}

const estimateTokens = (text: string) => Math.ceil(text.length / 4);

/** Errors worth another model: rate limits, server errors, timeouts, unparseable output. */
function worthFallback(err: unknown): boolean {
  if (err instanceof APIError) return err.status === undefined || err.status === 429 || err.status >= 500;
  return err instanceof SyntaxError || (err instanceof Error && err.name === 'ZodError');
}

export function createContentGenerationActivities({ warehouse, llm }: ActivityDependencies) {
  let client: OpenAI | undefined;
  const openai = (): OpenAI => {
    if (!llm) throw new NonRetryableError('LlmNotConfigured', 'no LLM endpoint is configured: set AIMO_LLM_BASE_URL and AIMO_LLM_API_KEY (npm start uses a local stand-in without them)');
    // Temporal retries the activity; the client itself does not, so a retry is always visible in history.
    client ??= new OpenAI({ baseURL: llm.baseURL, apiKey: llm.apiKey, maxRetries: 0, timeout: llm.timeoutMs ?? 60_000 });
    return client;
  };
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
    /**
     * Writes creative variants for one product through an OpenAI-compatible
     * endpoint. In order: scrub PII from the facts; build the versioned
     * prompt (catalogue text as data); answer from the cache when this exact
     * request was answered before (a retried activity never pays twice);
     * check the per-job and per-day token budgets before calling; call the
     * primary model, then the fallback; parse with the zod schema; moderate
     * the output where the provider offers it; cache and book the usage.
     */
    async generateCreatives(input: GenerateInput): Promise<GenerateResult> {
      await ensureAimoTables(warehouse);
      const { facts, removed } = scrubFacts(input.facts);
      const messages = buildPrompt({
        templateVersion: input.content.templateVersion,
        format: input.content.format,
        facts,
        variants: input.count,
        bannedTerms: input.content.bannedTerms,
        market: input.market,
        feedback: input.feedback,
        ...(input.content.brandRules.brandName ? { brandName: input.content.brandRules.brandName } : {}),
      });
      const models = input.content.models;
      // The logical request, whichever model answers it.
      const promptHash = createHash('sha256')
        .update(JSON.stringify({ messages, schema: creativeJsonSchema, template: input.content.templateVersion, temperature: models.temperature, maxTokens: models.maxOutputTokens }))
        .digest('hex');

      const [hit] = await warehouse.query<{ model: string; response_json: string; prompt_tokens: number; completion_tokens: number }>(
        `SELECT ${q('model')} AS model, ${q('response_json')} AS response_json, ${q('prompt_tokens')} AS prompt_tokens, ${q('completion_tokens')} AS completion_tokens
         FROM ${d.table(aimoTable('llm_cache'))} WHERE ${q('prompt_hash')} = @hash`,
        { hash: promptHash },
      );
      if (hit) {
        const { variants } = JSON.parse(hit.response_json) as CachedAnswer;
        log.info('creatives answered from the prompt cache', { productId: facts.productId, promptHash: promptHash.slice(0, 12) });
        const moderation = await moderate(openai(), variants);
        return { status: 'ok', promptHash, model: hit.model, cached: true, usage: { promptTokens: 0, completionTokens: 0, cost: 0 }, variants, ...moderation, piiRemoved: removed };
      }

      // Budgets: checked before the call, with the worst case this call could cost.
      const needed = estimateTokens(messages.map((m) => m.content).join('\n')) + models.maxOutputTokens;
      const jobUsed = await usedTokens(`${q('job_id')} = @job`, { job: input.jobId });
      if (jobUsed + needed > input.content.budgets.tokensPerJob) {
        log.warn('token budget of the job exhausted: no call made', { jobId: input.jobId, used: jobUsed, limit: input.content.budgets.tokensPerJob, needed });
        return { status: 'budget-exhausted', scope: 'job', used: jobUsed, limit: input.content.budgets.tokensPerJob, needed };
      }
      const dayUsed = await usedTokens(`${q('use_case')} = @use_case AND ${q('day')} = @day`, { use_case: input.useCase, day: input.day });
      if (dayUsed + needed > input.content.budgets.tokensPerDay) {
        log.warn('token budget of the day exhausted: no call made', { useCase: input.useCase, day: input.day, used: dayUsed, limit: input.content.budgets.tokensPerDay, needed });
        return { status: 'budget-exhausted', scope: 'day', used: dayUsed, limit: input.content.budgets.tokensPerDay, needed };
      }

      const candidates = [models.primary, ...(models.fallback ? [models.fallback] : [])];
      let lastError: unknown;
      for (const model of candidates) {
        let completion: OpenAI.Chat.Completions.ChatCompletion;
        try {
          completion = await openai().chat.completions.create({
            model: model.name,
            messages: messages.map((m) => ({ role: m.role, content: m.content })),
            response_format: { type: 'json_schema', json_schema: { name: 'search_ad_variants', strict: true, schema: creativeJsonSchema as unknown as Record<string, unknown> } },
            max_completion_tokens: models.maxOutputTokens,
            temperature: models.temperature,
          });
        } catch (err) {
          lastError = err;
          if (!worthFallback(err)) throw err instanceof APIError && err.status !== undefined && err.status < 500 && err.status !== 429 ? new NonRetryableError('LlmRequestRejected', `the LLM endpoint refused the request (${err.status}): ${err.message}`) : err;
          log.warn('model call failed; trying the next model', { model: model.name, error: err instanceof Error ? err.message : String(err) });
          continue;
        }
        const usage = {
          promptTokens: completion.usage?.prompt_tokens ?? 0,
          completionTokens: completion.usage?.completion_tokens ?? 0,
        };
        const cost = (usage.promptTokens * model.inputPerMillion + usage.completionTokens * model.outputPerMillion) / 1_000_000;
        // Paid for from here on: book it before anything else can fail, so the budget sees it.
        // One row per attempt: a retry that had to pay again is counted, not overwritten.
        await upsertAimoRow(warehouse, 'llm_usage', {
          prompt_hash: promptHash, use_case: input.useCase, job_id: input.jobId, day: input.day, model: model.name, attempt: Context.current().info.attempt,
          prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, cost, recorded_at: input.at,
        });
        let variants: CreativeVariant[];
        try {
          variants = creativeSchema.parse(JSON.parse(completion.choices[0]?.message.content ?? '')).variants;
        } catch (err) {
          lastError = err;
          log.warn('model answer did not match the schema; trying the next model', { model: model.name });
          continue;
        }
        // Cached before moderation (free, and asked again on every hit): a moderation outage
        // must not make the retry pay for the answer a second time.
        const answer: CachedAnswer = { variants };
        await upsertAimoRow(warehouse, 'llm_cache', {
          prompt_hash: promptHash, model: model.name, template_version: input.content.templateVersion, response_json: stableJson(answer),
          prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, created_at: input.at,
        });
        const moderation = await moderate(openai(), variants);
        log.info('creatives generated', { productId: facts.productId, model: model.name, variants: variants.length, tokens: usage.promptTokens + usage.completionTokens });
        return { status: 'ok', promptHash, model: model.name, cached: false, usage: { ...usage, cost }, variants, ...moderation, piiRemoved: removed };
      }
      // Every model failed: a plain error, so Temporal retries with backoff (the cache keeps paid answers).
      throw lastError instanceof Error ? new Error(`every model failed; last error: ${lastError.message}`) : new Error('every model failed');
    },
  };
}

/** The provider's moderation endpoint, where there is one; a 404 means it offers none. */
async function moderate(client: OpenAI, variants: CreativeVariant[]): Promise<{ flagged: boolean[]; moderation: 'checked' | 'unavailable' }> {
  try {
    const result = await client.moderations.create({ input: variants.map((v) => `${v.headline}\n${v.description}`) });
    return { flagged: variants.map((_, i) => result.results[i]?.flagged ?? false), moderation: 'checked' };
  } catch (err) {
    if (err instanceof APIError && (err.status === 404 || err.status === 405 || err.status === 501)) {
      return { flagged: variants.map(() => false), moderation: 'unavailable' };
    }
    throw err;
  }
}
