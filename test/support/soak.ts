import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { RETENTION_EVERY } from '../../activities/propensity/automation';
import { addDaysIso } from '../../domain/dates';
import type { RolloutResult } from '../../domain/rollout/result';
import type { RetrainResult } from '../../domain/loops/results';
import { deleteSchedule, listSchedules, scheduleIdFor } from '../../platform/schedules';
import { generateDataset } from '../../simulator';
import { createSimulatedMarket } from '../../simulator/market';
import { DuckDbWarehouse } from '../../warehouse/duckdb';
import { listTables } from '../../warehouse/warehouse';
import { marketDayScheduleSpec } from '../../workers/stack';
import { createAimoWorker } from '../../workers/create-worker';
import { soakTicksSignal, type SoakDriverResult, type SoakTick } from '../fixtures/soak/workflows';
import { TEST_SALT, tempDataDir, testPlan } from './rollout-fixtures';
import { uniqueTaskQueue } from './temporal';

/**
 * The 90-day soak: a simulated market that lives on day after day, a
 * propensity use case rolled out on it, and its schedules' work done at the
 * times the schedules would do it, on the time-skipping test server (which
 * has no schedules). test/soak.test.ts asserts on what it leaves behind;
 * scripts/bench-soak.ts prints its figures.
 *
 * The calendar is fixed, not taken from today: the server's clock is moved
 * to SOAK_START first, so the weekdays of the planted changes, the weekly
 * retrains and the data itself are the same on every run.
 */
export const SOAK_USE_CASE = 'soak-cac';
/** A Monday: day 1 of the soak, the day after the rollout */
export const SOAK_DAY_1 = '2030-01-07';
export const SOAK_DAYS = 90;
/** Noon of the day before day 1: the seeded market ends the day before that, "yesterday" */
const SOAK_START = Date.parse('2030-01-06T12:00:00Z');

/** The soak's day n (1-based) as an ISO date */
export const soakDay = (n: number): string => addDaysIso(SOAK_DAY_1, n - 1);

/**
 * What is planted, and when:
 * - from day 30 (a Tuesday) browse sessions and order values shift (drift
 *   in named features) and purchases follow different drivers (concept
 *   drift): the nightly check opens one incident and starts its retrain,
 *   which waits for the labels of the days after the window that showed
 *   the drift, trains on them and is promoted; the Monday retrains defer
 *   to it meanwhile, and the checks fall quiet against its champion;
 * - from day 63 to day 70 new customers buy eight times as often, a one-off
 *   promotion that ends: the Monday retrain of day 71 trains on labels from
 *   inside it, beats the champion on its own holdout and loses its canary on
 *   the live outcomes after it. (Day 63 rather than 60: the Monday retrain
 *   of day 64 must train on labels from before it, or it would canary the
 *   anomaly while it still runs.)
 */
export const SOAK_DRIFT_DAY = 30;
export const SOAK_PROMOTION_DAYS = { from: 63, to: 70 } as const;

export interface SoakOptions {
  readonly users?: number;
  readonly seed?: number;
  readonly days?: number;
}

export interface SoakServers {
  /** The time-skipping test server: every workflow of the soak runs there */
  readonly env: TestWorkflowEnvironment;
  /** A client of a server with schedules (the shared dev server), for the rollout's automation step */
  readonly schedulesClient: Client;
}

export interface Soak {
  readonly warehouse: DuckDbWarehouse;
  readonly env: TestWorkflowEnvironment;
  readonly rollout: RolloutResult;
  /** The champion the rollout left */
  readonly firstChampion: string;
  readonly driver: SoakDriverResult;
  /** Every retrain a drift check started, with its result (the driver does not wait for these) */
  readonly incidentRetrains: Array<{ workflowId: string; result?: RetrainResult; error?: string }>;
  /** Results of every retrain the weekly schedule started, by workflow id */
  readonly weeklyRetrains: Array<{ workflowId: string; at: string; result?: RetrainResult; error?: string }>;
  readonly wallMs: number;
  readonly figures: SoakFigures;
  /** Stops the workers, deletes the rollout's schedules and closes the warehouse (not the servers) */
  teardown(): Promise<void>;
}

export interface SoakFigures {
  readonly users: number;
  readonly days: number;
  readonly runs: Record<string, number>;
  readonly skippedTicks: number;
  readonly failedRuns: number;
  readonly incidents: number;
  readonly alerts: number;
  readonly promotions: number;
  readonly rollbacks: number;
  /** Retrains that deferred to the drift incident's open retrain */
  readonly deferred: number;
  /** Per-run tables the nightly retention dropped */
  readonly tablesDropped: number;
  readonly aimoTables: number;
  readonly aimoViews: number;
  readonly wallSeconds: number;
}

/** The scenario's dataset: small, the simulator's seed fixed, the changes planted at fixed days */
export function soakDataset(users: number, seed: number) {
  return {
    seed,
    users,
    // A market this small needs a large planted uplift for the rollout's experiment to ship.
    upliftAbsolute: 0.12,
    endDate: addDaysIso(SOAK_DAY_1, -2),
    days: 42,
    drift: { fromDate: soakDay(SOAK_DRIFT_DAY), features: ['session_rate', 'order_value'] as Array<'session_rate' | 'order_value'>, strength: 1 },
    conceptDrift: { fromDate: soakDay(SOAK_DRIFT_DAY), strength: 1 },
    promotion: { fromDate: soakDay(SOAK_PROMOTION_DAYS.from), toDate: soakDay(SOAK_PROMOTION_DAYS.to), segment: 'new' as const, hazardFactor: 8 },
  };
}

/** The rollout's plan: week-long windows ending before day 1, a short experiment, a canary watch of two daily checks. */
export function soakPlan() {
  const plan = testPlan({ useCase: SOAK_USE_CASE, windows: { asOf: addDaysIso(SOAK_DAY_1, -9), featureDays: 7, labelDays: 7 } });
  return {
    ...plan,
    kpi: { ...plan.kpi, deadline: '2030-06-30' },
    // Week-long windows leave small segment groups, so their AUCs spread more than the demo's limit allows.
    guardrails: { ...plan.guardrails, maxFairnessGap: 0.35 },
    // Inside the seeded history, so the orders it answers with never lie after the market's newest day.
    experiment: { ...plan.experiment, startDate: addDaysIso(SOAK_DAY_1, -20), measureDays: 14, duration: '2 hours', checkEvery: '1 hour' },
    automation: {
      ...plan.automation,
      alertRoutes: [{ kind: 'log' as const }],
      // Half the users in the canary, so two days of live outcomes judge it; two daily checks, so a watch ends before the next Monday's retrain.
      retrain: { canary: { share: 0.5, watch: '2 days', checkEvery: '1 day', liveDays: 7, maxAucDrop: 0.03 } },
    },
  };
}

/** When a cron of the form "M H * * *" or "M H * * D" fires on a day, or undefined */
function cronTime(cron: string, day: string): string | undefined {
  const m = /^(\d+) (\d+) \* \* (\*|\d)$/.exec(cron.trim());
  if (!m) throw new Error(`the soak's driver reads crons of the form "M H * * D" only, not "${cron}"`);
  const [, minute, hour, dow] = m;
  if (dow !== '*' && new Date(`${day}T00:00:00Z`).getUTCDay() !== Number(dow)) return undefined;
  return new Date(Date.parse(`${day}T00:00:00Z`) + (Number(hour) * 60 + Number(minute)) * 60_000).toISOString();
}

/**
 * The ticks of the product's schedules over the soak: the action (workflow
 * type, id and arguments) read back from the schedules the rollout created,
 * and from the embedded stack's market-day spec; the times from their crons.
 */
async function scheduleTicks(client: Client, loopQueue: string, days: number): Promise<SoakTick[]> {
  const plan = soakPlan();
  const market = marketDayScheduleSpec(loopQueue);
  const schedules: Array<Omit<SoakTick, 'at'> & { cron: string }> = [
    { scheduleId: market.scheduleId, cron: String(market.cron), workflowType: market.workflowType, workflowId: market.workflowId, args: market.args },
  ];
  const loops = [['drift', plan.automation.driftEvery], ['retrain', plan.automation.retrainEvery], ['retention', RETENTION_EVERY]] as const;
  for (const [kind, cron] of loops) {
    const scheduleId = scheduleIdFor(SOAK_USE_CASE, kind);
    const { action } = await client.schedule.getHandle(scheduleId).describe();
    if (action.type !== 'startWorkflow') throw new Error(`${scheduleId} does not start a workflow`);
    schedules.push({ scheduleId, cron: cron ?? '', workflowType: action.workflowType, workflowId: action.workflowId, args: [...(action.args ?? [])] });
  }
  const ticks: SoakTick[] = [];
  for (let n = 1; n <= days; n++) {
    for (const s of schedules) {
      const at = cronTime(s.cron, soakDay(n));
      if (at) ticks.push({ at, scheduleId: s.scheduleId, workflowType: s.workflowType, workflowId: s.workflowId, args: s.args });
    }
  }
  return ticks.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

/** The soak's workflow bundle: the product's workflows and the schedules' stand-in. */
export async function soakBundle(): Promise<string> {
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../fixtures/soak/workflows'), logger: quiet });
  return code;
}

export async function runSoak(servers: SoakServers, options: SoakOptions = {}): Promise<Soak> {
  const started = Date.now();
  const users = options.users ?? 6000;
  const days = options.days ?? SOAK_DAYS;
  const { env, schedulesClient } = servers;
  const [code, warehouse] = await Promise.all([soakBundle(), DuckDbWarehouse.open(':memory:')]);
  const now = await env.currentTimeMs();
  if (now > SOAK_START) throw new Error(`the soak's calendar starts on ${new Date(SOAK_START).toISOString()}, before the test server's clock`);
  await env.sleep(SOAK_START - now);
  await generateDataset(warehouse, soakDataset(users, options.seed ?? 7));

  const rolloutQueue = uniqueTaskQueue('soak-rollout');
  const loopQueue = uniqueTaskQueue('soak');
  const base = { warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir() };
  const worker = (taskQueue: string, temporalClient: Client): Promise<Worker> =>
    createAimoWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, activities: createActivities({ ...base, temporalClient }), workflowBundle: { code } });
  // The rollout's automation step creates its schedules where they can live; the loops start retrains on the time-skipping server.
  const workers = [await worker(rolloutQueue, schedulesClient), await worker(loopQueue, env.client)];
  const running = workers.map((w) => w.run());
  const teardown = async () => {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(running);
    for (const s of await listSchedules(schedulesClient, `aimo-${SOAK_USE_CASE}-`)) await deleteSchedule(schedulesClient, s.scheduleId);
    await warehouse.close();
  };
  try {
    const plan = soakPlan();
    const driverHandle = await env.client.workflow.start('soakDriver', { taskQueue: loopQueue, workflowId: `soak-driver-${loopQueue}`, args: [] });
    const rollout: RolloutResult = await env.client.workflow.execute('rollout', { taskQueue: rolloutQueue, workflowId: `rollout-${SOAK_USE_CASE}-1`, args: [plan] });
    if (rollout.status !== 'completed' || !rollout.model || !rollout.steps.some((s) => s.step === 'automation' && s.status === 'passed')) throw new Error(`the soak's rollout ended ${rollout.status}: ${JSON.stringify(rollout.failure ?? rollout.steps.at(-1))}`);

    const ticks = await scheduleTicks(schedulesClient, loopQueue, days);
    await driverHandle.signal(soakTicksSignal, ticks);
    const driver = (await driverHandle.result()) as SoakDriverResult;

    // Retrains a drift check started are nobody's children: wait for each, so the soak ends with every loop settled.
    const incidentIds = await warehouse.query<{ reason: string }>(
      `SELECT reason FROM aimo.audit_log WHERE use_case = '${SOAK_USE_CASE}' AND decision = 'retrain-started' ORDER BY recorded_at, workflow_id`,
    );
    const settle = async (workflowId: string) => {
      try {
        return { workflowId, result: (await env.client.workflow.getHandle(workflowId).result()) as RetrainResult };
      } catch (err) {
        return { workflowId, error: err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err) };
      }
    };
    const incidentRetrains = [];
    for (const { reason } of incidentIds) incidentRetrains.push(await settle(reason));
    const weeklyRetrains = [];
    for (const s of driver.started.filter((r) => r.workflowType === 'retrain')) weeklyRetrains.push({ ...(await settle(s.workflowId)), at: s.at });

    const wallMs = Date.now() - started;
    const figures = await soakFigures(warehouse, users, days, driver, incidentRetrains.length, wallMs);
    return { warehouse, env, rollout, firstChampion: rollout.model.versionId, driver, incidentRetrains, weeklyRetrains, wallMs, figures, teardown };
  } catch (err) {
    await teardown();
    throw err;
  }
}

async function soakFigures(warehouse: DuckDbWarehouse, users: number, days: number, driver: SoakDriverResult, incidentRetrains: number, wallMs: number): Promise<SoakFigures> {
  const runs: Record<string, number> = {};
  for (const s of driver.started) runs[s.workflowType] = (runs[s.workflowType] ?? 0) + 1;
  runs['retrain (drift incident)'] = incidentRetrains;
  const count = async (where: string) =>
    Number((await warehouse.query<{ n: number | bigint }>(`SELECT COUNT(*) AS n FROM aimo.audit_log WHERE use_case = '${SOAK_USE_CASE}' AND ${where}`))[0]!.n);
  const [alerts] = await warehouse.query<{ n: number | bigint }>(`SELECT COUNT(*) AS n FROM aimo.alerts_sent WHERE use_case = '${SOAK_USE_CASE}' AND incident_id LIKE 'drift-%'`);
  const listed = await listTables(warehouse, 'aimo');
  return {
    users,
    days,
    runs,
    skippedTicks: driver.skipped.length,
    failedRuns: driver.failed.length,
    incidents: Number((await warehouse.query<{ n: number | bigint }>(
      `SELECT COUNT(DISTINCT json_extract_string(details_json, '$.incidentId')) AS n FROM aimo.audit_log WHERE use_case = '${SOAK_USE_CASE}' AND decision = 'drift-detected'`,
    ))[0]!.n),
    alerts: Number(alerts!.n),
    promotions: await count(`decision = 'promoted'`),
    rollbacks: await count(`decision = 'rolled-back'`),
    deferred: await count(`decision = 'deferred'`),
    tablesDropped: await count(`step = 'retention' AND decision = 'dropped'`),
    aimoTables: listed.filter((t) => t.kind === 'table').length,
    aimoViews: listed.filter((t) => t.kind === 'view').length,
    wallSeconds: Math.round(wallMs / 100) / 10,
  };
}
