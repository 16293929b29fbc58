import type { GenerateInput, GenerateResult } from '../../domain/content/results';
import { createHash } from 'node:crypto';
import { Context, log } from '@temporalio/activity';
import OpenAI, { APIError } from 'openai';
import { buildPrompt, creativeJsonSchema, creativeSchema, scrubFacts, type CreativeVariant } from '../../domain/content/rules';
import { NonRetryableError } from '../../domain/errors';
import type { ActivityDependencies } from '../dependencies';
import { ensureAimoTables } from '../../store/aimo-tables';
import { llmLedger, type LlmLedger } from './llm-ledger';


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
  const ledger = llmLedger(warehouse);

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
      const request = buildRequest(input);
      const hit = await ledger.cached(request.promptHash);
      if (hit) {
        log.info('creatives answered from the prompt cache', { productId: input.facts.productId, promptHash: request.promptHash.slice(0, 12) });
        const moderation = await moderate(openai(), hit.variants);
        return { status: 'ok', promptHash: request.promptHash, model: hit.model, cached: true, usage: { promptTokens: 0, completionTokens: 0, cost: 0 }, variants: hit.variants, ...moderation, piiRemoved: request.piiRemoved };
      }
      const exhausted = await budgetStop(ledger, input, request);
      if (exhausted) return exhausted;
      return callModels(openai(), ledger, input, request);
    },
  };
}

interface LlmRequest {
  readonly messages: ReturnType<typeof buildPrompt>;
  /** The logical request, whichever model answers it */
  readonly promptHash: string;
  readonly piiRemoved: number;
  /** The worst case this call could cost, in tokens */
  readonly tokensNeeded: number;
}

function buildRequest(input: GenerateInput): LlmRequest {
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
  const promptHash = createHash('sha256')
    .update(JSON.stringify({ messages, schema: creativeJsonSchema, template: input.content.templateVersion, temperature: models.temperature, maxTokens: models.maxOutputTokens }))
    .digest('hex');
  return { messages, promptHash, piiRemoved: removed, tokensNeeded: estimateTokens(messages.map((m) => m.content).join('\n')) + models.maxOutputTokens };
}

/** Budgets are checked before the call, with the worst case this call could cost. */
async function budgetStop(ledger: LlmLedger, input: GenerateInput, request: LlmRequest): Promise<Extract<GenerateResult, { status: 'budget-exhausted' }> | undefined> {
  const needed = request.tokensNeeded;
  const budgets = input.content.budgets;
  const jobUsed = await ledger.tokensOfJob(input.jobId);
  if (jobUsed + needed > budgets.tokensPerJob) {
    log.warn('token budget of the job exhausted: no call made', { jobId: input.jobId, used: jobUsed, limit: budgets.tokensPerJob, needed });
    return { status: 'budget-exhausted', scope: 'job', used: jobUsed, limit: budgets.tokensPerJob, needed };
  }
  const dayUsed = await ledger.tokensOfDay(input.useCase, input.day);
  if (dayUsed + needed > budgets.tokensPerDay) {
    log.warn('token budget of the day exhausted: no call made', { useCase: input.useCase, day: input.day, used: dayUsed, limit: budgets.tokensPerDay, needed });
    return { status: 'budget-exhausted', scope: 'day', used: dayUsed, limit: budgets.tokensPerDay, needed };
  }
  return undefined;
}

/** The primary model, then the fallback on rate limits, server errors and unparseable answers; every paid answer booked and cached. */
async function callModels(client: OpenAI, ledger: LlmLedger, input: GenerateInput, request: LlmRequest): Promise<GenerateResult> {
  const models = input.content.models;
  let lastError: unknown;
  for (const model of [models.primary, ...(models.fallback ? [models.fallback] : [])]) {
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await client.chat.completions.create({
        model: model.name,
        messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
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
    const promptTokens = completion.usage?.prompt_tokens ?? 0;
    const completionTokens = completion.usage?.completion_tokens ?? 0;
    const cost = (promptTokens * model.inputPerMillion + completionTokens * model.outputPerMillion) / 1_000_000;
    const call = { promptHash: request.promptHash, useCase: input.useCase, jobId: input.jobId, day: input.day, model: model.name, attempt: Context.current().info.attempt, promptTokens, completionTokens, cost, at: input.at };
    // Paid for from here on: book it before anything else can fail, so the budget sees it.
    await ledger.book(call);
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
    await ledger.cache(call, input.content.templateVersion, variants);
    const moderation = await moderate(client, variants);
    log.info('creatives generated', { productId: input.facts.productId, model: model.name, variants: variants.length, tokens: promptTokens + completionTokens });
    return { status: 'ok', promptHash: request.promptHash, model: model.name, cached: false, usage: { promptTokens, completionTokens, cost }, variants, ...moderation, piiRemoved: request.piiRemoved };
  }
  // Every model failed: a plain error, so Temporal retries with backoff (the cache keeps paid answers).
  throw lastError instanceof Error ? new Error(`every model failed; last error: ${lastError.message}`) : new Error('every model failed');
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
