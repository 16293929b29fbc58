/**
 * Webhook throughput and latency next to plain `client.workflow.start`.
 *
 *   npx tsx scripts/bench-webhooks.ts [--requests 2000] [--concurrency 32] [--max-seconds 60] [--reuse] [--json]
 *
 * By default it starts an in-memory Temporal dev server of its own (the same
 * binary `npm start` uses, found by resolveTemporalBinary), so the thousands
 * of workflows it starts vanish with it. --reuse benchmarks against the
 * server in TEMPORAL_ADDRESS instead (e.g. the one `npm start` runs) and
 * terminates what it started. Everything is on loopback; nothing runs the
 * started workflows (no worker polls the bench's task queue), so this
 * measures accepting and starting, which is what a webhook does.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../config';
import { createLogger } from '../platform/logger';
import { ensureSearchAttributes } from '../platform/search-attributes';
import { resolveTemporalBinary } from '../platform/temporal-binaries';
import { connectClient } from '../platform/temporal-connection';
import { postSigned, startWebhookServer } from '../webhooks';
import { aimoStartOptions } from '../platform/start-options';
import { AIMO_SEARCH_ATTRIBUTES, WORKFLOW_TYPES } from '../domain/rollout/definitions';

const LIMITS = { requests: 20_000, concurrency: 256, seconds: 600 };

interface Stats {
  readonly name: string;
  readonly attempted: number;
  readonly accepted: number;
  readonly errors: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly firstError?: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Runs `count` operations with `concurrency` in flight, stopping early at the deadline. */
async function measure(name: string, count: number, concurrency: number, deadline: number, op: (i: number) => Promise<boolean>): Promise<Stats> {
  const latencies: number[] = [];
  let next = 0;
  let accepted = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const lane = async () => {
    for (let i = next++; i < count && Date.now() < deadline; i = next++) {
      const t0 = performance.now();
      try {
        if (await op(i)) accepted++;
        else errors++;
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    attempted: latencies.length,
    accepted,
    errors,
    seconds,
    perSecond: accepted / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    ...(firstError ? { firstError } : {}),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '32' },
      'max-seconds': { type: 'string', default: '60' },
      reuse: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const bounded = (text: string, name: string, max: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer from 1 to ${max}`);
    return n;
  };
  const requests = bounded(values.requests!, 'requests', LIMITS.requests);
  const concurrency = bounded(values.concurrency!, 'concurrency', LIMITS.concurrency);
  const maxSeconds = bounded(values['max-seconds']!, 'max-seconds', LIMITS.seconds);
  const say = (line: string) => {
    if (!values.json) process.stderr.write(`${line}\n`);
  };

  let client: Client;
  let stopTemporal: () => Promise<void>;
  let where: string;
  const config = values.reuse ? loadConfig() : undefined;
  if (config) {
    const connected = await connectClient(config.temporal);
    client = connected.client;
    await ensureSearchAttributes(connected.connection, config.temporal.namespace);
    stopTemporal = () => connected.connection.close();
    where = `${config.temporal.address} (reused; the bench's workflows are terminated afterwards)`;
  } else {
    const binary = resolveTemporalBinary('cli', { report: say });
    const env = await TestWorkflowEnvironment.createLocal({
      server: { executable: binary.executable, ip: '127.0.0.1', searchAttributes: [...AIMO_SEARCH_ATTRIBUTES], log: { format: 'json', level: 'error' } },
    });
    client = env.client;
    stopTemporal = () => env.teardown();
    where = `${env.address} (in-memory dev server started for the bench)`;
  }

  const secret = randomUUID() + randomUUID();
  const taskQueue = `bench-${randomUUID()}`;
  const namespace = config?.temporal.namespace ?? 'default';
  const server = await startWebhookServer({
    client,
    logger: createLogger({ level: 'silent', format: 'json' }),
    taskQueue,
    port: 0,
    host: '127.0.0.1',
    secrets: { bench: secret },
    uiBaseUrl: 'http://localhost:8233',
    namespace,
  });
  const run = randomUUID().slice(0, 8);
  const plan = {
    useCase: `bench-${run}`,
    kpi: { metric: 'cac', channel: 'paid_search', market: 'DE', targetChange: -0.15, deadline: '2026-06-30' },
    windows: { asOf: '2026-03-04' },
  };
  // Real senders send different events; identical bytes under new delivery ids are refused as replays.
  const planBody = (i: number, prefix: string) => JSON.stringify({ ...plan, owner: `bench ${prefix}-${i}` });
  const startedIds: string[] = [];

  const webhook = (prefix: string) => async (i: number) => {
    const res = await postSigned(server.url, '/v1/rollouts', planBody(i, prefix), { source: 'bench', secret, deliveryId: `${prefix}-${i}` });
    if (res.status !== 202) throw new Error(`HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 200)}`);
    startedIds.push((res.body as { workflowId: string }).workflowId);
    return true;
  };
  const direct = (prefix: string) => async (i: number) => {
    const workflowId = `bench-direct-${run}-${prefix}-${i}`;
    await client.workflow.start(WORKFLOW_TYPES.rollout, { taskQueue, workflowId, args: [plan] });
    startedIds.push(workflowId);
    return true;
  };
  // The start the webhook makes, without HTTP: splits the overhead into "Temporal options" and "HTTP layer".
  const directSameOptions = (prefix: string) => async (i: number) => {
    const workflowId = `bench-options-${run}-${prefix}-${i}`;
    const summary = `rollout of ${plan.useCase}: cac -15 % on paid_search/DE by 2026-06-30 (bench)`;
    await client.workflow.start(
      WORKFLOW_TYPES.rollout,
      aimoStartOptions({
        taskQueue,
        workflowId,
        args: [plan],
        useCase: plan.useCase,
        summary,
        trigger: { via: 'webhook', endpoint: 'rollouts', source: 'bench', deliveryId: `${prefix}-${i}` },
      }),
    );
    startedIds.push(workflowId);
    return true;
  };

  try {
    say(`Temporal: ${where}`);
    say(`webhook server: ${server.url}; ${requests} requests per run, ${concurrency} in flight, at most ${maxSeconds} s per run`);
    const warm = Math.min(200, requests);
    await measure('warm-up', warm, concurrency, Date.now() + 30_000, webhook('warm'));
    await measure('warm-up', warm, concurrency, Date.now() + 30_000, direct('warm'));
    await measure('warm-up', warm, concurrency, Date.now() + 30_000, directSameOptions('warm'));

    const results: Stats[] = [];
    // Alternate the two, twice, so neither profits from a warmer or emptier server.
    for (const round of [1, 2]) {
      results.push(await measure(`signed webhook #${round}`, Math.ceil(requests / 2), concurrency, Date.now() + (maxSeconds * 1000) / 2, webhook(`w${round}`)));
      results.push(await measure(`workflow.start #${round}`, Math.ceil(requests / 2), concurrency, Date.now() + (maxSeconds * 1000) / 2, direct(`d${round}`)));
      results.push(await measure(`start, aimo's options #${round}`, Math.ceil(requests / 2), concurrency, Date.now() + (maxSeconds * 1000) / 2, directSameOptions(`o${round}`)));
    }
    const combine = (name: string, parts: Stats[]): Stats => {
      const accepted = parts.reduce((s, p) => s + p.accepted, 0);
      const seconds = parts.reduce((s, p) => s + p.seconds, 0);
      const firstError = parts.find((p) => p.firstError)?.firstError;
      return {
        name,
        attempted: parts.reduce((s, p) => s + p.attempted, 0),
        accepted,
        errors: parts.reduce((s, p) => s + p.errors, 0),
        seconds,
        perSecond: accepted / seconds,
        // Percentiles of the runs weighted equally (each run has the same count).
        p50: parts.reduce((s, p) => s + p.p50, 0) / parts.length,
        p95: parts.reduce((s, p) => s + p.p95, 0) / parts.length,
        p99: Math.max(...parts.map((p) => p.p99)),
        ...(firstError ? { firstError } : {}),
      };
    };
    const hook = combine('signed webhook → rollout start', results.filter((r) => r.name.startsWith('signed')));
    const plain = combine('client.workflow.start', results.filter((r) => r.name.startsWith('workflow')));
    const sameOptions = combine("start with aimo's options", results.filter((r) => r.name.startsWith('start, aimo')));
    const ratio = hook.perSecond / plain.perSecond;
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ requests, concurrency, temporal: where, webhook: hook, direct: plain, directWithAimoOptions: sameOptions, throughputRatio: ratio, runs: results })}\n`);
    } else {
      const row = (s: Stats) =>
        `${s.name.padEnd(32)} ${s.perSecond.toFixed(0).padStart(7)} ${s.p50.toFixed(1).padStart(8)} ${s.p95.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)} ${String(s.accepted).padStart(8)} ${String(s.errors).padStart(6)}`;
      process.stdout.write(
        [
          '',
          `${'run'.padEnd(32)} ${'per s'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'accepted'.padStart(8)} ${'errors'.padStart(6)}`,
          ...results.map(row),
          '',
          row(hook),
          row(sameOptions),
          row(plain),
          '',
          `webhook throughput = ${(ratio * 100).toFixed(0)} % of plain starts (p50 ${hook.p50 - plain.p50 >= 0 ? '+' : ''}${(hook.p50 - plain.p50).toFixed(1)} ms)`,
          `  of which Temporal start options (conflict policy, search attributes, memo, summary): ${((sameOptions.perSecond / plain.perSecond) * 100).toFixed(0)} % of plain`,
          `  and the HTTP layer (HTTP, HMAC, JSON, zod): ${((hook.perSecond / sameOptions.perSecond) * 100).toFixed(0)} % of the same start without it`,
          ...(hook.firstError ? [`first webhook error: ${hook.firstError}`] : []),
          ...(plain.firstError ? [`first start error: ${plain.firstError}`] : []),
          '',
        ].join('\n'),
      );
    }
  } finally {
    await server.close();
    if (values.reuse) {
      say(`terminating the ${startedIds.length} workflows the bench started`);
      for (let i = 0; i < startedIds.length; i += 64) {
        await Promise.all(startedIds.slice(i, i + 64).map((id) => client.workflow.getHandle(id).terminate('bench finished').catch(() => undefined)));
      }
    }
    await stopTemporal();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
