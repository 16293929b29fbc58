import { mkdirSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { ConfigError, loadConfig, type AimoConfig } from '../config';
import { openWarehouse } from '../warehouse/open';
import type { Warehouse } from '../warehouse/warehouse';
import { createSimulatedMarket } from '../simulator/market';
import { generateContentDataset } from '../simulator/products';
import { createAimoWorker, createLlmWorker } from './create-worker';
import { seedWarehouse, type rollout } from '../workflows';
import { loadWebhookConfig } from '../config/webhooks';
import { startWebhookServer } from '../webhooks';
import { startContentDemoRollout, startDemoRollout, summariseContentDemo, summariseDemo } from './demo';
import { startLocalLlmServer } from './local-llm-server';
import { ensureDevServer, type DevServer } from '../platform/dev-server';
import { createLogger, type Logger } from '../platform/logger';
import { ensureSearchAttributes } from '../platform/search-attributes';
import { resolveTemporalBinary } from '../platform/temporal-binaries';
import { connectClient, connectWorker } from '../platform/temporal-connection';
import { installTemporalRuntime } from '../platform/temporal-runtime';

export interface StackOptions {
  /** serve: run until Ctrl-C; demo: run the demo to completion and exit */
  readonly mode: 'serve' | 'demo';
}

export interface Stack {
  readonly config: AimoConfig;
  readonly logger: Logger;
  readonly client: Client;
  readonly warehouse: Warehouse;
  readonly server: DevServer;
  readonly webhookUrl?: string;
  /** Where content use cases send their prompts; `local` means the stand-in, not a model */
  readonly llm: { readonly baseURL: string; readonly local: boolean };
  shutdown(reason: string): Promise<void>;
}

/** Seed used for the embedded demo dataset, so every newcomer sees the same numbers. */
const DEMO_SEED = 42;

/**
 * The composition root of the embedded stack: config → logger → Temporal dev
 * server (+ UI) → search attributes → warehouse → worker → seed data. Each
 * part is stopped in reverse order on shutdown, so nothing is left running.
 */
export async function startStack(): Promise<Stack> {
  let config: AimoConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  installTemporalRuntime(logger, { metricsPort: config.env.AIMO_METRICS_PORT });
  mkdirSync(config.dataDir, { recursive: true });

  const stops: Array<[string, () => Promise<unknown>]> = [];
  const stopAll = async () => {
    for (const [name, stop] of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.warn({ err, part: name }, 'error while stopping');
      }
    }
  };

  try {
    const server = await ensureDevServer(config, () =>
      resolveTemporalBinary('cli', { report: (line) => logger.info(line) }),
    );
    stops.push(['temporal dev server', () => server.stop()]);
    logger.info({ address: server.address, startedHere: server.startedHere }, server.startedHere ? 'Temporal dev server started' : 'using the running Temporal server');

    const { client, connection: clientConnection } = await connectClient(config, server.address);
    stops.push(['temporal client', () => clientConnection.close()]);
    const added = await ensureSearchAttributes(clientConnection, config.temporal.namespace);
    if (added.length) logger.info({ added }, 'registered search attributes');

    const warehouse = await openWarehouse(config);
    stops.push(['warehouse', () => warehouse.close()]);

    // Content use cases talk to an OpenAI-compatible endpoint; without a key, to a local stand-in that says so.
    let llm: Stack['llm'];
    if (config.llm) {
      llm = { baseURL: config.llm.baseURL, local: false };
      logger.info({ baseURL: config.llm.baseURL }, 'content use cases call the configured LLM endpoint');
    } else {
      const local = await startLocalLlmServer();
      stops.push(['local LLM stand-in', () => local.close()]);
      llm = { baseURL: local.baseURL, local: true };
      // The demo shows the claim check at work: the stand-in gets one price wrong on purpose.
      local.script({ fault: { kind: 'wrong-price' }, productId: 'trail-runner' });
      logger.warn(
        { baseURL: local.baseURL },
        'no AIMO_LLM_API_KEY set: content use cases use a local stand-in that writes templated ads, NOT a real model (set AIMO_LLM_BASE_URL and AIMO_LLM_API_KEY to use one)',
      );
    }
    const activities = createActivities({
      warehouse,
      // The simulated market answers the demo's experiments; real warehouses get their outcomes from real traffic.
      ...(config.warehouse === 'duckdb' ? { simulator: createSimulatedMarket(warehouse, { seed: DEMO_SEED }) } : {}),
      hashSalt: config.hashSalt,
      dataDir: config.dataDir,
      temporalClient: client,
      llm: { baseURL: llm.baseURL, apiKey: config.llm?.apiKey ?? 'local-stand-in' },
    });

    const connection: NativeConnection = await connectWorker(config, server.address);
    stops.push(['worker connection', () => connection.close()]);
    const worker: Worker = await createAimoWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.taskQueues.main,
      activities,
    });
    stops.push(['worker', runUntilStopped(worker)]);
    logger.info({ taskQueue: config.taskQueues.main }, 'worker running');
    const llmWorker = await createLlmWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.taskQueues.llm,
      activities,
      requestsPerSecond: config.llmRequestsPerSecond,
    });
    stops.push(['LLM worker', runUntilStopped(llmWorker)]);
    logger.info({ taskQueue: config.taskQueues.llm, requestsPerSecond: config.llmRequestsPerSecond }, 'LLM worker running (rate-limited task queue)');
    if (config.taskQueues.llm !== `${config.taskQueues.main}-llm`) {
      logger.warn({ llmTaskQueue: config.taskQueues.llm }, 'content plans must name this queue in content.llmTaskQueue: their default is the main queue + "-llm"');
    }

    if (config.warehouse === 'duckdb') {
      const seeded = await client.workflow.execute(seedWarehouse, {
        taskQueue: config.taskQueues.main,
        workflowId: 'aimo-seed-warehouse',
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{ seed: DEMO_SEED, users: config.env.AIMO_SIMULATOR_USERS }],
      });
      logger.info(seeded.seeded ? 'simulated dataset seeded into DuckDB' : 'DuckDB warehouse already has data');
      const content = await generateContentDataset(warehouse, { seed: DEMO_SEED });
      logger.info(content, 'simulated products and incumbent ad history in DuckDB');
    }

    // Webhooks need signing secrets; without them there is nothing that may be served.
    let webhookUrl: string | undefined;
    if (process.env['AIMO_WEBHOOK_SECRETS']) {
      const webhooks = await startWebhookServer({ client, logger, ...loadWebhookConfig(config) });
      stops.push(['webhook server', () => webhooks.close()]);
      webhookUrl = webhooks.url;
    }

    let stopping: Promise<void> | undefined;
    return {
      config,
      logger,
      client,
      warehouse,
      server,
      llm,
      ...(webhookUrl ? { webhookUrl } : {}),
      shutdown(reason: string) {
        stopping ??= (async () => {
          logger.info({ reason }, 'shutting down: draining the worker, then stopping the server');
          await stopAll();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export async function runStack(options: StackOptions): Promise<void> {
  const stack = await startStack();
  const { config, server } = stack;
  const lines = [
    '',
    'aimo is running',
    `  Temporal UI:   ${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows`,
    `  Temporal:      ${server.address}${server.startedHere ? ` (dev server, history in ${config.dataDir}/temporal.sqlite)` : ''}`,
    `  Worker:        task queue "${config.taskQueues.main}"`,
    `  Warehouse:     ${config.warehouse}${config.warehouse === 'duckdb' ? ` (${config.duckdbPath})` : ''}`,
    `  Metrics:       http://127.0.0.1:${config.env.AIMO_METRICS_PORT}/metrics`,
    `  Webhooks:      ${stack.webhookUrl ? `${stack.webhookUrl} (OpenAPI at /openapi.json)` : 'off (set AIMO_WEBHOOK_SECRETS to serve them)'}`,
    `  LLM:           ${stack.llm.local ? `local stand-in at ${stack.llm.baseURL}: templated ads, not a real model (set AIMO_LLM_BASE_URL and AIMO_LLM_API_KEY)` : stack.llm.baseURL}; queue "${config.taskQueues.llm}", ${config.llmRequestsPerSecond} request(s)/s`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (config.warehouse === 'duckdb') {
    const demo = await startDemoRollout(stack.client, config.taskQueues.main);
    const contentDemo = await startContentDemoRollout(stack.client, config.taskQueues.main);
    for (const d of [demo, contentDemo]) {
      process.stdout.write(`Demo rollout ${d.workflowId} ${d.started ? 'started' : 'already ran'}: ${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${d.workflowId}\n`);
    }
    if (options.mode === 'demo') {
      try {
        const [result, contentResult] = await Promise.all([
          stack.client.workflow.getHandle<typeof rollout>(demo.workflowId).result(),
          stack.client.workflow.getHandle<typeof rollout>(contentDemo.workflowId).result(),
        ]);
        const summary = await summariseDemo(result, stack.warehouse);
        const content = summariseContentDemo(contentResult, stack.llm.local);
        process.stdout.write(`\n${summary.lines.join('\n')}\n\n${content.lines.join('\n')}\n`);
        process.exitCode = summary.ok && content.ok ? 0 : 1;
      } finally {
        await stack.shutdown('demo finished');
      }
      return;
    }
  }
  if (options.mode === 'demo') {
    await stack.shutdown('the demo runs on the embedded DuckDB warehouse only');
    process.exitCode = 1;
    return;
  }
  process.stdout.write('Press Ctrl-C to stop.\n');
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      void stack.shutdown(signal).then(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

/** Starts a worker; the returned stop drains it (in-flight tasks finish) and waits until it has stopped. */
function runUntilStopped(worker: Worker): () => Promise<void> {
  const running = worker.run();
  return async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  };
}
