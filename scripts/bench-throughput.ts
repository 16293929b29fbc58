/**
 * What aimo's worker costs per activity: a chain of short activities (each
 * returns its input + 1, one after the other) on a worker built by
 * createAimoWorker — aimo's own options and activity interceptors, no slot
 * cap — against a plain Worker.create with SDK defaults, each on its own task
 * queue of one in-memory Temporal dev server, runs interleaved after one
 * warm-up run each. Prints the workflow's wall time (start to result) and the
 * activities' schedule-to-start latency read from its history, and writes the
 * table into docs/benchmarks.md. Goal: aimo within 5 % of SDK defaults.
 *
 *   npm run bench:throughput [-- --activities 200 --runs 5]
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { createLogger } from '../platform/logger';
import { resolveTemporalBinary } from '../platform/temporal-binaries';
import { installTemporalRuntime } from '../platform/temporal-runtime';
import { createAimoWorker } from '../workers/create-worker';
import { writeBenchmarksDoc } from './benchmarks-doc';
import { createThroughputActivities } from './throughput/activities';
import type { shortActivityChain } from './throughput/workflow';

const ROOT = join(__dirname, '..');
const GOAL_RATIO = 1.05;

// Not strict: `npm run bench -- --users N` hands every bench the same flags.
const { values } = parseArgs({ options: { activities: { type: 'string', default: '200' }, runs: { type: 'string', default: '5' } }, strict: false });
const activities = Number(values.activities);
const runs = Number(values.runs);
if (!Number.isInteger(activities) || activities < 1 || activities > 10_000) throw new Error(`--activities must be a whole number from 1 to 10000, got ${values.activities}`);
if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new Error(`--runs must be a whole number from 1 to 100, got ${values.runs}`);

installTemporalRuntime(createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn', format: 'json' }));

interface Side {
  readonly name: string;
  readonly taskQueue: string;
  readonly wallMs: number[];
  /** Every activity's schedule-to-start of every timed run */
  readonly scheduleToStartMs: number[];
  /** Every workflow task's schedule-to-start of every timed run: the other wait in each link of the chain */
  readonly workflowTaskStartMs: number[];
  /** Every activity's start to completion: where the interceptors' cost per activity would show */
  readonly runMs: number[];
}

interface Run {
  readonly wallMs: number;
  readonly scheduleToStartMs: number[];
  readonly workflowTaskStartMs: number[];
  readonly runMs: number[];
}

const say = (line: string) => process.stderr.write(`${line}\n`);

function timestampMs(t: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  if (!t) throw new Error('a history event without a time');
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

/**
 * Scheduled → Started of every activity (ActivityTaskScheduled → ActivityTaskStarted)
 * and of every workflow task (WorkflowTaskScheduled → WorkflowTaskStarted) in a run's
 * history, and every activity's Started → Completed.
 */
function latenciesOf(events: temporal.api.history.v1.IHistoryEvent[]): { activities: number[]; workflowTasks: number[]; runs: number[] } {
  const scheduledAt = new Map<string, number>();
  const activities: number[] = [];
  const workflowTasks: number[] = [];
  const runs: number[] = [];
  const since = (event: temporal.api.history.v1.IHistoryEvent, scheduledEventId: unknown) => {
    const scheduled = scheduledAt.get(String(scheduledEventId));
    if (scheduled === undefined) throw new Error(`event ${String(event.eventId)} names no scheduled event (${String(scheduledEventId)})`);
    return timestampMs(event.eventTime) - scheduled;
  };
  for (const event of events) {
    if (event.activityTaskScheduledEventAttributes || event.workflowTaskScheduledEventAttributes || event.activityTaskStartedEventAttributes) {
      scheduledAt.set(String(event.eventId), timestampMs(event.eventTime));
    }
    if (event.activityTaskStartedEventAttributes) activities.push(since(event, event.activityTaskStartedEventAttributes.scheduledEventId));
    if (event.workflowTaskStartedEventAttributes) workflowTasks.push(since(event, event.workflowTaskStartedEventAttributes.scheduledEventId));
    if (event.activityTaskCompletedEventAttributes) runs.push(since(event, event.activityTaskCompletedEventAttributes.startedEventId));
  }
  return { activities, workflowTasks, runs };
}

async function runChain(client: Client, taskQueue: string): Promise<Run> {
  const workflowId = `bench-throughput-${randomUUID()}`;
  const started = performance.now();
  const result = await client.workflow.execute<typeof shortActivityChain>('shortActivityChain', { taskQueue, workflowId, args: [activities] });
  const wallMs = performance.now() - started;
  if (result !== activities) throw new Error(`the chain on ${taskQueue} returned ${result}, expected ${activities}`);
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const latencies = latenciesOf(history.events ?? []);
  if (latencies.activities.length !== activities) throw new Error(`the history of ${workflowId} has ${latencies.activities.length} started activities, expected ${activities}`);
  return { wallMs, scheduleToStartMs: latencies.activities, workflowTaskStartMs: latencies.workflowTasks, runMs: latencies.runs };
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const median = (xs: number[]) => {
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (x: number) => x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2);

async function main(): Promise<void> {
  const load = loadavg();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load average ${load.map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min) at the start, shared with other work; Node ${process.version}; ${activities} activities per run, ${runs} interleaved runs per worker after one warm-up run each`;
  const binary = resolveTemporalBinary('cli', { projectRoot: ROOT, report: say });
  const env = await TestWorkflowEnvironment.createLocal({ server: { executable: binary.executable, ip: '127.0.0.1', log: { format: 'json', level: 'error' } } });
  const workers: Worker[] = [];
  const running: Array<Promise<void>> = [];
  try {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('./throughput/workflow'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
    });
    const namespace = env.namespace ?? 'default';
    const suffix = randomUUID().slice(0, 8);
    const aimo: Side = { name: 'aimo (createAimoWorker)', taskQueue: `bench-throughput-aimo-${suffix}`, wallMs: [], scheduleToStartMs: [], workflowTaskStartMs: [], runMs: [] };
    const sdk: Side = { name: 'SDK defaults (Worker.create)', taskQueue: `bench-throughput-sdk-${suffix}`, wallMs: [], scheduleToStartMs: [], workflowTaskStartMs: [], runMs: [] };
    workers.push(
      await createAimoWorker({ connection: env.nativeConnection, namespace, taskQueue: aimo.taskQueue, activities: createThroughputActivities(), workflowBundle: { code } }),
      await Worker.create({ connection: env.nativeConnection, namespace, taskQueue: sdk.taskQueue, workflowBundle: { code }, activities: createThroughputActivities() }),
    );
    running.push(...workers.map((w) => w.run()));
    const sides = [aimo, sdk];
    for (const side of sides) {
      const warm = await runChain(env.client, side.taskQueue);
      say(`  warm-up ${side.name}: ${ms(warm.wallMs)} ms`);
    }
    for (let r = 0; r < runs; r++) {
      for (const side of sides) {
        const run = await runChain(env.client, side.taskQueue);
        side.wallMs.push(run.wallMs);
        side.scheduleToStartMs.push(...run.scheduleToStartMs);
        side.workflowTaskStartMs.push(...run.workflowTaskStartMs);
        side.runMs.push(...run.runMs);
        say(`  [${r + 1}/${runs}] ${side.name}: ${ms(run.wallMs)} ms, schedule-to-start median ${ms(median(run.scheduleToStartMs))} ms`);
      }
    }
    const wallRatio = median(aimo.wallMs) / median(sdk.wallMs);
    const startRatio = median(aimo.scheduleToStartMs) / median(sdk.scheduleToStartMs);
    const runRatio = median(aimo.runMs) / median(sdk.runMs);
    const taskRatio = median(aimo.workflowTaskStartMs) / median(sdk.workflowTaskStartMs);
    const row = (s: Side) =>
      `| ${s.name} | ${ms(Math.min(...s.wallMs))} / ${ms(median(s.wallMs))} / ${ms(Math.max(...s.wallMs))} ms | ${(median(s.wallMs) / activities).toFixed(2)} ms | ${ms(median(s.scheduleToStartMs))} ms (p95 ${ms(quantile(s.scheduleToStartMs, 0.95))} ms) | ${ms(median(s.runMs))} ms | ${ms(median(s.workflowTaskStartMs))} ms |`;
    const table = [
      `| worker | wall time of ${activities} activities in a row (min / median / max) | per activity (median wall / ${activities}) | schedule-to-start per activity, median | activity start → completion, median | workflow task schedule-to-start, median |`,
      '|---|---|---|---|---|---|',
      row(aimo),
      row(sdk),
      `| **ratio aimo / SDK defaults** (medians; goal ≤ ${GOAL_RATIO.toFixed(2)}) | **${wallRatio.toFixed(3)}** | | ${startRatio.toFixed(3)} | ${runRatio.toFixed(3)} | ${taskRatio.toFixed(3)} |`,
    ].join('\n');
    console.log(`\n${machine}\n\n${table}\n`);
    console.log(wallRatio <= GOAL_RATIO ? `aimo's worker is within ${Math.round((GOAL_RATIO - 1) * 100)} % of SDK defaults` : `aimo's worker is ${((wallRatio - 1) * 100).toFixed(1)} % slower than SDK defaults: over the goal`);
    const args = process.argv.slice(2).join(' ');
    writeBenchmarksDoc('bench:throughput', `npm run bench:throughput${args ? ` -- ${args}` : ''}`, machine, table);
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(running);
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
