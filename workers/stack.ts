import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { createActivities, type Activities } from '../activities';
import { ConfigError, loadConfig, type AimoConfig } from '../config';
import { openWarehouse } from '../warehouse/open';
import type { Warehouse } from '../warehouse/warehouse';
import { createSimulatedMarket } from '../simulator/market';
import { generateContentDataset } from '../simulator/products';
import { daysBetween } from '../simulator/calendar';
import { DEFAULT_START_DATE } from '../simulator/options';
import { addDaysIso } from '../domain/dates';
import { WORKFLOW_TYPES } from '../domain/rollout/definitions';
import { SCHEDULE_PREFIX, upsertSchedule, type ScheduleSpecInput } from '../platform/schedules';
import { createAimoWorker, createLlmWorker } from './create-worker';
import { seedWarehouse, type rollout } from '../workflows';
import { httpBaseUrl, loadWebhookConfig } from '../config/webhooks';
import { loadReport } from '../store/reports';
import { startWebhookServer } from '../webhooks';
import { createAimoMetrics } from '../store/metrics';
import { startContentDemoRollout, startDemoRollout, summariseContentDemo, summariseDemo } from './demo';
import { FreshRefused, moveEarlierDemoState } from './fresh-demo';
import { startLocalLlmServer } from './local-llm-server';
import { ensureDevServer, type DevServer } from '../platform/dev-server';
import { createLogger, describeError, type Logger } from '../platform/logger';
import { ensureSearchAttributes } from '../platform/search-attributes';
import { resolveTemporalBinary } from '../platform/temporal-binaries';
import { connectClient, connectWorker, payloadDataConverter } from '../platform/temporal-connection';
import { startPayloadCodecServer } from './codec-server';
import { installTemporalRuntime } from '../platform/temporal-runtime';

export interface StackOptions {
  /** serve: run until Ctrl-C; demo: run the demo to completion and exit */
  readonly mode: 'serve' | 'demo';
  /** --fresh: move the earlier demo's warehouse, Temporal history and reports aside first (workers/fresh-demo.ts) */
  readonly fresh?: boolean;
}

export interface Stack {
  readonly config: AimoConfig;
  readonly logger: Logger;
  readonly client: Client;
  readonly warehouse: Warehouse;
  readonly server: DevServer;
  /** aimo's HTTP server: reports and health always, signed webhooks when AIMO_WEBHOOK_SECRETS is set */
  readonly http: { readonly url: string; readonly reportsUrl: string; readonly webhooks: boolean };
  /** The codec server the UI and CLI decrypt payloads through, when payload encryption is on */
  readonly codecUrl?: string;
  /** Where content use cases send their prompts; `local` means the stand-in, not a model */
  readonly llm: { readonly baseURL: string; readonly local: boolean };
  shutdown(reason: string): Promise<void>;
}

/** Seed used for the embedded demo dataset, so every newcomer sees the same numbers. */
const DEMO_SEED = 42;

/** A stop that could not finish its part's work in time: what is left runs again under Temporal on the next start. */
class LeftToTemporal extends Error {
  constructor(readonly what: string) {
    super(what);
    this.name = 'LeftToTemporal';
  }
}

type Stop = (how: { interrupted: boolean }) => Promise<unknown>;

/**
 * Everything started so far, each with how to stop it. Stopping runs in
 * reverse order of starting (workers drain before their connection closes,
 * the server goes last), and a part that fails to stop does not keep the
 * others running.
 */
class StartedParts {
  private readonly stops: Array<[part: string, stop: Stop]> = [];

  constructor(private readonly logger: Logger) {}

  private closed = false;

  add(part: string, stop: Stop): void {
    // A part that finished starting after Ctrl-C stopped the others is stopped at once, not left running.
    if (this.closed) {
      void stop({ interrupted: true }).then(
        () => this.logger.info(`stopped the ${part}, which finished starting after the interrupt`),
        (err: unknown) => this.logger.warn({ part, error: describeError(err) }, `error while stopping the ${part}: ${describeError(err).message}`),
      );
      return;
    }
    this.stops.push([part, stop]);
  }

  /**
   * Stops everything started so far; returns the parts that stopped, those
   * that left work to Temporal and those that failed to stop. After Ctrl-C
   * during start-up, a worker waits at most a second for its in-flight
   * activities (the first seed), which resume on the next start.
   */
  async stopAll(how: { interrupted: boolean } = { interrupted: false }): Promise<StopOutcome> {
    this.closed = true;
    const outcome: StopOutcome = { stopped: [], left: [], failed: [] };
    for (const [part, stop] of this.stops.splice(0).reverse()) {
      try {
        await stop(how);
        outcome.stopped.push(part);
      } catch (err) {
        if (err instanceof LeftToTemporal) {
          outcome.left.push(`${part} (${err.what})`);
          continue;
        }
        outcome.failed.push(part);
        const reason = describeError(err);
        this.logger.warn({ part, error: reason }, `error while stopping the ${part}: ${reason.type}: ${reason.message}`);
      }
    }
    return outcome;
  }
}

interface StopOutcome {
  stopped: string[];
  /** Parts stopped without their in-flight work, which Temporal retries on the next start */
  left: string[];
  failed: string[];
}

/**
 * The composition root of the embedded stack: config → logger → Temporal dev
 * server (+ UI) → search attributes → warehouse → LLM endpoint → workers →
 * seed data → webhooks. If any part fails to start, the ones already running
 * are stopped before the error is thrown.
 */
export async function startStack(options: { signal?: AbortSignal; fresh?: boolean } = {}): Promise<Stack> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  await installRuntimeOrExit(logger, config.env.AIMO_METRICS_PORT);
  if (options.fresh) await moveEarlierDemoStateOrExit(config, logger);
  mkdirSync(config.dataDir, { recursive: true });
  const parts = new StartedParts(logger);
  // Ctrl-C during start-up: the phase in progress is abandoned and what already runs is stopped.
  const phase = <T>(work: Promise<T>) => untilAborted(work, options.signal);
  try {
    // Before the dev server: its UI is started pointing at the codec server.
    const codec = await phase(startPayloadCodecServer(config, logger));
    if (codec) parts.add('codec server', () => codec.close());
    const codecUrl = codec?.url;
    const { server, client } = await phase(startTemporal(config, logger, parts, options.signal));
    const warehouse = await phase(openWarehouse(config.warehouse));
    parts.add('warehouse', () => warehouse.close());
    const llm = await phase(startLlmEndpoint(config, logger, parts));
    const activities = createActivities({
      warehouse,
      // The simulated market answers the demo's experiments; real warehouses get their outcomes from real traffic.
      ...(config.warehouse.kind === 'duckdb' ? { simulator: createSimulatedMarket(warehouse, { seed: DEMO_SEED }) } : {}),
      hashSalt: config.hashSalt,
      dataDir: config.dataDir,
      reportBaseUrl: httpBaseUrl(config),
      temporalClient: client,
      llm: { baseURL: llm.baseURL, apiKey: config.llm?.apiKey ?? 'local-stand-in' },
    });
    await phase(startWorkers(config, logger, parts, server.address, activities));
    if (config.warehouse.kind === 'duckdb') await phase(seedEmbeddedWarehouse(config, logger, client, warehouse, options.signal));
    const http = await phase(startHttpServer(config, logger, client, warehouse, parts));

    let stopping: Promise<void> | undefined;
    return {
      config,
      logger,
      client,
      warehouse,
      server,
      llm,
      http,
      ...(codecUrl ? { codecUrl } : {}),
      shutdown(reason: string) {
        stopping ??= (async () => {
          logger.info({ reason }, 'shutting down: draining the worker, then stopping the server');
          logStopped(logger, reason, await parts.stopAll());
        })();
        return stopping;
      },
    };
  } catch (err) {
    const interrupted = err instanceof StartInterrupted;
    if (interrupted) logger.info('interrupted during start-up: stopping what already runs');
    const outcome = await parts.stopAll({ interrupted });
    if (interrupted) logStopped(logger, 'interrupted during start-up', outcome);
    throw err;
  }
}

/** The last line of a run: what stopped, what was left to Temporal, and what did not stop. */
function logStopped(logger: Logger, reason: string, outcome: StopOutcome): void {
  const stopped = outcome.stopped.length ? outcome.stopped.join(', ') : 'nothing had finished starting (what was starting ends with the process)';
  const left = outcome.left.length ? `; stopped without waiting, its work resumes on the next start: ${outcome.left.join(', ')}` : '';
  const failed = outcome.failed.length ? `; failed to stop: ${outcome.failed.join(', ')}` : '';
  logger.info(outcome.failed.length ? { failed: outcome.failed } : {}, `aimo stopped (${reason}): ${stopped}${left}${failed}`);
}

/** Ctrl-C while the stack starts. */
export class StartInterrupted extends Error {
  constructor() {
    super('start-up interrupted');
    this.name = 'StartInterrupted';
  }
}

/** The work, or a StartInterrupted as soon as the signal fires; the work itself is left to the parts' stops. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new StartInterrupted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StartInterrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (err: unknown) => (signal.removeEventListener('abort', onAbort), reject(err)),
    );
  });
}

/** A port is taken, by another aimo or anything else: named with the variable that moves it, exit 2, no stack trace. */
export class PortInUse extends Error {
  constructor(
    readonly port: number,
    readonly variable: string,
    what: string,
  ) {
    super(`port ${port} (${what}) is already in use — is \`npm start\` or \`npm run demo\` already running? Stop it, or set ${variable} to a free port.`);
    this.name = 'PortInUse';
  }
}

async function installRuntimeOrExit(logger: Logger, metricsPort: number): Promise<void> {
  try {
    if (!(await portIsFree(metricsPort))) throw new PortInUse(metricsPort, 'AIMO_METRICS_PORT', "the worker's Prometheus metrics");
    installTemporalRuntime(logger, { metricsPort });
  } catch (err) {
    const inUse = err instanceof PortInUse || /address already in use/i.test(String(err));
    if (!inUse) throw err;
    console.error(`aimo cannot start: ${err instanceof PortInUse ? err.message : new PortInUse(metricsPort, 'AIMO_METRICS_PORT', "the worker's Prometheus metrics").message}`);
    process.exit(2);
  }
}

function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** --fresh that would have to stop a server aimo did not start: its reason, exit 2, nothing moved. */
async function moveEarlierDemoStateOrExit(config: AimoConfig, logger: Logger): Promise<void> {
  try {
    await moveEarlierDemoState(config, (line) => logger.info(line));
  } catch (err) {
    if (!(err instanceof FreshRefused)) throw err;
    console.error(`aimo cannot start: ${err.message}`);
    process.exit(2);
  }
}

/** A wrong environment is the user's to fix: its message (every problem, named) and exit code 2, no stack trace. */
function loadConfigOrExit(): AimoConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/** The dev server (or the running Temporal it finds), a client, and aimo's search attributes on the namespace. */
async function startTemporal(config: AimoConfig, logger: Logger, parts: StartedParts, signal?: AbortSignal): Promise<{ server: DevServer; client: Client }> {
  logger.info({ address: config.temporal.address }, 'starting Temporal: the running server at this address, or a dev server with its UI (a few seconds)');
  const server = await ensureDevServer(config.devServer, () => resolveTemporalBinary('cli', { report: (line) => logger.info(line) }), signal);
  parts.add('temporal dev server', () => server.stop());
  logger.info({ address: server.address, startedHere: server.startedHere, ...(server.pid ? { serverPid: server.pid } : {}) }, server.startedHere ? 'Temporal dev server started' : 'using the running Temporal server');
  if (config.temporal.codecServer && !server.startedHere) {
    logger.warn(
      { codecEndpoint: config.temporal.codecServer.endpoint },
      'payloads are encrypted: point the UI of this Temporal server at the codec endpoint (its --ui-codec-endpoint flag, or the UI\'s codec server setting) to read them',
    );
  }

  const { client, connection } = await connectClient(config.temporal, server.address);
  parts.add('temporal client', () => connection.close());
  const added = await ensureSearchAttributes(connection, config.temporal.namespace);
  if (added.length) logger.info({ added }, 'registered search attributes');
  return { server, client };
}

/** Content use cases talk to an OpenAI-compatible endpoint; without a key, to a local stand-in that says so. */
async function startLlmEndpoint(config: AimoConfig, logger: Logger, parts: StartedParts): Promise<Stack['llm']> {
  if (config.llm) {
    logger.info({ baseURL: config.llm.baseURL }, 'content use cases call the configured LLM endpoint');
    return { baseURL: config.llm.baseURL, local: false };
  }
  const local = await startLocalLlmServer();
  parts.add('local LLM stand-in', () => local.close());
  // The demo shows the claim check at work: the stand-in gets one price wrong on purpose.
  local.script({ fault: { kind: 'wrong-price' }, productId: 'trail-runner' });
  logger.warn(
    { baseURL: local.baseURL },
    'no AIMO_LLM_API_KEY set: content use cases use a local stand-in that writes templated ads, NOT a real model (set AIMO_LLM_BASE_URL and AIMO_LLM_API_KEY to use one)',
  );
  return { baseURL: local.baseURL, local: true };
}

/** aimo's worker and the rate-limited LLM worker, on one connection. */
async function startWorkers(config: AimoConfig, logger: Logger, parts: StartedParts, address: string, activities: Activities): Promise<void> {
  const connection = await connectWorker(config.temporal, address);
  // A worker stopped without its in-flight activities still holds the connection: it closes with the process.
  let abandoned = false;
  parts.add('worker connection', () => (abandoned ? Promise.resolve() : connection.close()));
  const untilStopped = (worker: Worker) => runUntilStopped(worker, () => (abandoned = true));
  const dataConverter = payloadDataConverter(config.temporal);
  logger.info({ taskQueue: config.taskQueues.main }, 'starting the worker: bundling the workflow code (5–20 s on a laptop)');
  const worker = await createAimoWorker({
    connection,
    ...(dataConverter ? { dataConverter } : {}),
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueues.main,
    activities,
  });
  parts.add('worker', untilStopped(worker));
  logger.info({ taskQueue: config.taskQueues.main }, 'worker running');
  const llmWorker = await createLlmWorker({
    connection,
    ...(dataConverter ? { dataConverter } : {}),
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueues.llm,
    activities,
    requestsPerSecond: config.llmRequestsPerSecond,
  });
  parts.add('LLM worker', untilStopped(llmWorker));
  logger.info({ taskQueue: config.taskQueues.llm, requestsPerSecond: config.llmRequestsPerSecond }, 'LLM worker running (rate-limited task queue)');
  if (config.taskQueues.llm !== `${config.taskQueues.main}-llm`) {
    logger.warn({ llmTaskQueue: config.taskQueues.llm }, 'content plans must name this queue in content.llmTaskQueue: their default is the main queue + "-llm"');
  }
}

/**
 * The simulated market (generated once per warehouse file, through a
 * workflow whose activity logs its progress), the schedule that grows it by
 * a day every night, and the content use case's products.
 */
async function seedEmbeddedWarehouse(config: AimoConfig, logger: Logger, client: Client, warehouse: Warehouse, signal?: AbortSignal): Promise<void> {
  const calendar = seedCalendar(new Date());
  const users = config.env.AIMO_SIMULATOR_USERS;
  logger.info({ users, ...calendar }, 'simulated market: generated on the first start (progress follows), otherwise kept and grown to yesterday');
  const execute = () =>
    client.workflow.execute(seedWarehouse, {
      taskQueue: config.taskQueues.main,
      workflowId: 'aimo-seed-warehouse',
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [{ seed: DEMO_SEED, users, ...calendar }],
    });
  // Ctrl-C cancels the wait for the result (not the seeding, which resumes on the next start) before the client closes.
  const seeded = await (signal ? client.withAbortSignal(signal, execute) : execute());
  if (seeded.newestDay === undefined) {
    logger.warn(`the DuckDB warehouse holds simulated data from before the market grew by the day, so it stays as it is: delete ${config.dataDir}/warehouse.duckdb and restart to seed a living market`);
  } else {
    logger.info({ newestDay: seeded.newestDay, rowCounts: seeded.summary?.rowCounts }, seeded.seeded ? 'simulated dataset seeded into DuckDB' : 'DuckDB warehouse already has data');
    await scheduleMarketDays(config, logger, client, seeded.newestDay < calendar.endDate);
  }
  const content = await generateContentDataset(warehouse, { seed: DEMO_SEED, endDate: calendar.endDate });
  logger.info(content, 'simulated products and incumbent ad history in DuckDB');
}

/** The longest first seed: two years of days */
const MAX_SEED_DAYS = 730;

/**
 * A first start simulates the days from the simulator's first day (where
 * the demo plans' windows lie) to yesterday in UTC, between 90 days and two
 * years. Computed here, at the edge: the simulator itself never reads the
 * clock, so the same seed and end date always give the same tables.
 */
export function seedCalendar(now: Date): { endDate: string; days: number } {
  const endDate = addDaysIso(now.toISOString().slice(0, 10), -1);
  return { endDate, days: Math.min(MAX_SEED_DAYS, Math.max(90, daysBetween(DEFAULT_START_DATE, endDate) + 1)) };
}

/** The schedule that runs the marketDay workflow shortly after midnight UTC, on the stack's task queue. */
export function marketDayScheduleSpec(taskQueue: string): ScheduleSpecInput {
  return {
    scheduleId: `${SCHEDULE_PREFIX}market-day`,
    workflowType: WORKFLOW_TYPES.marketDay,
    workflowId: 'aimo-market-day',
    taskQueue,
    args: [{ schema: 'raw' }],
    cron: '5 0 * * *',
    timezone: 'UTC',
    // Each run appends every missing day itself: after an outage, one catch-up run is enough.
    catchupWindow: '1 day',
    overlap: 'SKIP',
    managedBy: 'stack',
    memo: { summary: 'the simulated market grows by every day missing up to yesterday' },
  };
}

/** Creates or updates the market-day schedule; a market behind yesterday (the stack was off) catches up now rather than tonight. */
async function scheduleMarketDays(config: AimoConfig, logger: Logger, client: Client, behind: boolean): Promise<void> {
  const spec = marketDayScheduleSpec(config.taskQueues.main);
  const outcome = await upsertSchedule(client, spec);
  logger.info({ scheduleId: spec.scheduleId, outcome }, 'the simulated market grows by a day every night, at 00:05 UTC');
  if (!behind) return;
  await client.schedule.getHandle(spec.scheduleId).trigger();
  logger.info({ scheduleId: spec.scheduleId }, 'simulated market behind yesterday: catching up the missing days now');
}

/**
 * aimo's HTTP server, always: report pages (from aimo.reports), aimo's
 * Prometheus metrics (read from the warehouse at each scrape) and health.
 * The signed webhook routes join them only when AIMO_WEBHOOK_SECRETS is set.
 */
async function startHttpServer(config: AimoConfig, logger: Logger, client: Client, warehouse: Warehouse, parts: StartedParts): Promise<Stack['http']> {
  const settings = loadWebhookConfig(config, process.env, { requireSecrets: false });
  const reports = { load: (workflowId: string, format: 'html' | 'md' | 'json') => loadReport(warehouse, workflowId, format) };
  const metrics = createAimoMetrics(warehouse, logger);
  const server = await startWebhookServer({ client, logger, ...settings, reports, metrics: metrics.registry }).catch((err: unknown) => {
    metrics.close();
    throw /address already in use/i.test(String(err)) ? new PortInUse(settings.port, 'AIMO_WEBHOOK_PORT', "aimo's HTTP server: reports, metrics and webhooks") : err;
  });
  parts.add('HTTP server', async () => {
    await server.close();
    metrics.close();
  });
  const base = httpBaseUrl(config);
  return { url: server.url, reportsUrl: `${base}/reports`, webhooks: Object.keys(settings.secrets).length > 0 };
}

/** The signals that stop aimo: Ctrl-C, a stop from the system, the terminal closing. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * A second stop signal while aimo stops exits at once (the dev server is
 * killed with the process): there is always a listener, so no signal ends
 * the process without its exit hooks.
 */
function exitOnSecondSignal(): void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++received < 2) return;
    process.stderr.write(`aimo: second ${signal} while stopping: exiting now\n`);
    process.exit(130);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
}

export async function runStack(options: StackOptions): Promise<void> {
  exitOnSecondSignal();
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
  let stack: Stack;
  try {
    stack = await startStack({ signal: interrupt.signal, ...(options.fresh ? { fresh: true } : {}) });
  } catch (err) {
    // What was still starting (a worker being bundled, the seeding activity) dies with the process; Temporal retries the activity on the next start.
    if (err instanceof StartInterrupted) process.exit(130);
    if (err instanceof PortInUse) {
      console.error(`aimo cannot start: ${err.message}`);
      process.exit(2);
    }
    throw err;
  } finally {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
  }
  printSummary(stack);
  const demos = stack.config.warehouse.kind === 'duckdb' ? await startDemos(stack) : undefined;
  if (options.mode === 'serve') return serveUntilSignal(stack);
  // The demo waits for its rollouts: Ctrl-C stops the stack (the rollouts stay in Temporal's history, to resume on the next start).
  for (const signal of STOP_SIGNALS) process.once(signal, () => void stack.shutdown(signal).then(() => process.exit(130)));
  if (!demos) {
    await stack.shutdown('the demo runs on the embedded DuckDB warehouse only');
    process.exitCode = 1;
    return;
  }
  if (!demos.propensity.started || !demos.content.started) {
    process.stdout.write(
      `\nThe demo already ran in ${stack.config.dataDir}: what follows are the results of that earlier run, not a new one.\n` +
        'To run it anew: npm run demo -- --fresh (moves the warehouse, the Temporal history and the reports aside first)\n',
    );
  }
  await finishDemos(stack, demos);
}

function printSummary({ config, server, http, codecUrl, llm }: Stack): void {
  const { warehouse } = config;
  const lines = [
    '',
    'aimo is running',
    `  Temporal UI:   ${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows`,
    `  Temporal:      ${server.address}${server.startedHere ? ` (dev server, history in ${config.dataDir}/temporal.sqlite${server.logFile ? `, its log in ${server.logFile}` : ''})` : ''}`,
    `  Worker:        task queue "${config.taskQueues.main}"`,
    `  Warehouse:     ${warehouse.kind}${warehouse.kind === 'duckdb' ? ` (${warehouse.path})` : ''}`,
    `  Metrics:       aimo's at ${http.url}/metrics, the Temporal SDK's at http://127.0.0.1:${config.env.AIMO_METRICS_PORT}/metrics`,
    `  Reports:       ${http.reportsUrl}/<workflowId> (HTML with charts; .md and .json too)`,
    `  Webhooks:      ${http.webhooks ? `${http.url} (OpenAPI at /openapi.json)` : 'off (set AIMO_WEBHOOK_SECRETS to serve them)'}`,
    `  Payloads:      ${codecUrl ? `encrypted (key "${config.temporal.payloadKeys![0]!.id}"); the UI and \`temporal workflow show --codec-endpoint ${codecUrl}\` read them through the codec server` : 'plain JSON in Temporal history (set AIMO_PAYLOAD_KEYS to encrypt them; docs/security.md)'}`,
    `  LLM:           ${llm.local ? `local stand-in at ${llm.baseURL}: templated ads, not a real model (set AIMO_LLM_BASE_URL and AIMO_LLM_API_KEY)` : llm.baseURL}; queue "${config.taskQueues.llm}", ${config.llmRequestsPerSecond} request(s)/s`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

interface StartedDemos {
  readonly propensity: { readonly workflowId: string; readonly started: boolean };
  readonly content: { readonly workflowId: string; readonly started: boolean };
}

/** The two demo rollouts on the embedded warehouse, each started once per Temporal history, with their UI links. */
async function startDemos({ client, config, server }: Stack): Promise<StartedDemos> {
  const propensity = await startDemoRollout(client, config.taskQueues.main);
  const content = await startContentDemoRollout(client, config.taskQueues.main);
  for (const d of [propensity, content]) {
    process.stdout.write(`Demo rollout ${d.workflowId} ${d.started ? 'started' : 'already ran'}: ${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${d.workflowId}\n`);
  }
  return { propensity, content };
}

/** `npm run demo`: waits for both rollouts, prints what they found, exits 0 only when both came out as expected. */
async function finishDemos(stack: Stack, demos: StartedDemos): Promise<void> {
  try {
    const [result, contentResult] = await Promise.all([
      stack.client.workflow.getHandle<typeof rollout>(demos.propensity.workflowId).result(),
      stack.client.workflow.getHandle<typeof rollout>(demos.content.workflowId).result(),
    ]);
    const summary = await summariseDemo(result, stack.warehouse);
    const content = summariseContentDemo(contentResult, stack.llm.local);
    process.stdout.write(`\n${summary.lines.join('\n')}\n\n${content.lines.join('\n')}\n`);
    process.exitCode = summary.ok && content.ok ? 0 : 1;
  } finally {
    await stack.shutdown('demo finished');
  }
}

/** Runs until Ctrl-C or SIGTERM, then shuts the stack down. */
async function serveUntilSignal(stack: Stack): Promise<void> {
  process.stdout.write('Press Ctrl-C to stop.\n');
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      void stack.shutdown(signal).then(resolve);
    };
    for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
  });
}

/** How long a stop waits for a worker's in-flight tasks (a long seeding or training activity) before leaving them to Temporal. */
const DRAIN_LIMIT_MS = 10_000;
/** The same after Ctrl-C during start-up: whatever is in flight then (the first seeding) resumes on the next start. */
const INTERRUPTED_DRAIN_LIMIT_MS = 1_000;

/**
 * Starts a worker; the returned stop drains it (in-flight tasks finish) and
 * waits until it has stopped, at most DRAIN_LIMIT_MS: an activity still
 * running then is retried by Temporal after the stack starts again, which
 * every aimo activity is built to survive.
 */
function runUntilStopped(worker: Worker, onAbandoned: () => void): Stop {
  const running = worker.run();
  return async ({ interrupted }) => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    const limitMs = interrupted ? INTERRUPTED_DRAIN_LIMIT_MS : DRAIN_LIMIT_MS;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), limitMs);
      timer.unref();
    });
    const outcome = await Promise.race([running.then(() => 'drained' as const), limit]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      onAbandoned();
      throw new LeftToTemporal(`its in-flight activities, still running after ${limitMs / 1000} s`);
    }
  };
}
