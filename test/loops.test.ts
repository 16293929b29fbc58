import { createSimulatedMarket } from '../simulator/market';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { RolloutResult } from '../domain/rollout/result';
import { deleteSchedule, listSchedules } from '../platform/schedules';
import { getAlias, getVersion, servingView } from '../serving/registry';
import { generateDataset } from '../simulator';
import { DuckDbWarehouse } from '../warehouse/duckdb';
import { driftCheck, retrain, rollback, rollout } from '../workflows';
import { approvalUpdate } from '../domain/rollout/definitions';
import type { DriftResult } from '../domain/loops/results';
import type { RetrainResult } from '../domain/loops/results';
import { recordHistory } from './support/histories';
import { TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { connectToTestServer, createTestWorker, startTimeSkippingServer, uniqueTaskQueue } from './support/temporal';

/**
 * The loops on the time-skipping server, over simulated markets whose truth is
 * known. Champions are trained on windows that end before anything changes:
 *
 * - `raw`: from 2026-02-26 browse sessions double (session_rate drift) and new
 *   customers buy four times as often, for good (concept drift). The drift
 *   check must flag the session features and nothing else, start one retrain,
 *   and the retrained model — which learned the new buyers — must win.
 * - `raw_promo`: new customers buy six times as often only from 03-04 to
 *   03-18. A challenger trained on labels from inside the promotion beats the
 *   champion on its own holdout, then ranks live users worse once the
 *   promotion is over: its canary must fail and the champion serve again.
 *
 * Rollouts run with a Temporal client on the dev server, where the automation
 * step's schedules can live; the loops' client is the time-skipping server's,
 * so the retrain a drift check starts runs there with its timers skipped.
 */
describe('retrain, drift and rollback loops', () => {
  let env: TestWorkflowEnvironment;
  let devServer: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let slack: SlackReceiver;
  const rolloutQueue = uniqueTaskQueue('loops-rollout');
  const loopQueue = uniqueTaskQueue('loops');
  const workers: Worker[] = [];
  const running: Array<Promise<void>> = [];
  const champions: Record<string, string> = {};

  beforeAll(async () => {
    [env, devServer, warehouse, slack] = await Promise.all([startTimeSkippingServer(), connectToTestServer(), DuckDbWarehouse.open(':memory:'), startSlackReceiver()]);
    await generateDataset(warehouse, {
      seed: 7,
      users: 20_000,
      drift: { fromDate: '2026-02-26', features: ['session_rate'], strength: 1 },
      promotion: { fromDate: '2026-02-26', segment: 'new', hazardFactor: 4 },
    });
    await generateDataset(warehouse, {
      seed: 11,
      users: 20_000,
      schema: 'raw_promo',
      promotion: { fromDate: '2026-03-04', toDate: '2026-03-18', segment: 'new', hazardFactor: 6 },
    });
    const dataDir = tempDataDir();
    const base = { warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir };
    workers.push(
      await createTestWorker(env, createActivities({ ...base, temporalClient: devServer.client }), rolloutQueue),
      await createTestWorker(env, createActivities({ ...base, temporalClient: env.client }), loopQueue),
    );
    running.push(...workers.map((w) => w.run()));

    const plans = [
      loopPlan('lp-drift', 'raw', [{ kind: 'webhook', url: slack.url }]),
      // Its retrains ask a person before the canary and canary 30 % of users, unless a retrain's input says otherwise.
      { ...loopPlan('lp-promo', 'raw_promo', [{ kind: 'log' }]), automation: { alertRoutes: [{ kind: 'log' }], retrain: { approval: true, canary: { share: 0.3 } } } },
    ];
    // One at a time: the time-skipping server skips time for whichever result is awaited.
    for (const plan of plans) {
      const result: RolloutResult = await env.client.workflow.execute(rollout, { taskQueue: rolloutQueue, workflowId: `rollout-${plan.useCase}-1`, args: [plan] });
      expect({ useCase: plan.useCase, status: result.status, failure: result.failure }).toEqual({ useCase: plan.useCase, status: 'completed', failure: undefined });
      champions[plan.useCase] = result.model!.versionId;
    }
  }, 300_000);

  afterAll(async () => {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(running);
    for (const s of await listSchedules(devServer.client, 'aimo-lp-')) await deleteSchedule(devServer.client, s.scheduleId);
    await new Promise((resolve) => slack?.server.close(resolve));
    await warehouse?.close();
    await devServer?.teardown();
    await env?.teardown();
  });

  const check = (workflowId: string, asOf: string): Promise<DriftResult> =>
    env.client.workflow.execute(driftCheck, {
      taskQueue: loopQueue,
      workflowId,
      args: [{ useCase: 'lp-drift', asOf, retrainAsOf: '2026-03-11', thresholds: { driftedShare: 0.25 } }],
    });

  it('sees no drift in a window before anything changed, and alerts no one', async () => {
    const quiet = await check('drift-lp-drift-quiet', '2026-02-25');
    expect(quiet.features.filter((f) => f.drifted)).toEqual([]);
    expect(quiet.datasetDrift).toBe(false);
    expect(quiet.predictionDrift).toBe(false);
    expect(quiet.retrain).toBeUndefined();
    expect(slack.received).toHaveLength(0);
  });

  it('flags exactly the shifted features, alerts once and starts one retrain, which is promoted', async () => {
    const first = await check('drift-lp-drift-1', '2026-03-04');
    await recordHistory(env.client, 'drift-lp-drift-1', 'drift-check-drifted');
    // session_rate doubles browse sessions: their count, the pages they view and how recently a user came.
    expect(first.driftedFeatures.sort()).toEqual(['page_views_n', 'recency_days', 'sessions_n']);
    expect(first.features.filter((f) => f.drifted && f.kind !== 'prediction').map((f) => f.feature).sort()).toEqual(['page_views_n', 'recency_days', 'sessions_n']);
    expect(first.driftedShare).toBeCloseTo(3 / 12, 10);
    expect(first.datasetDrift).toBe(true);
    const retrainId = `retrain-lp-drift-incident-${champions['lp-drift']}`;
    expect(first.retrain).toEqual({ workflowId: retrainId, started: true });

    // The same drift reported again (the next day's schedule, say): same incident, no second retrain or alert.
    const again = await check('drift-lp-drift-2', '2026-03-04');
    expect(again.retrain).toEqual({ workflowId: retrainId, started: false });
    expect(slack.received).toHaveLength(1);
    const alert = slack.received[0]!;
    // Keyed by the incident and by what the route is, not by its place in the plan's list.
    expect(alert.headers['x-aimo-idempotency-key']).toMatch(new RegExp(`^drift-lp-drift-${champions['lp-drift']}:webhook-[0-9a-f]{16}$`));
    expect(JSON.stringify(alert.body)).toContain('sessions_n');

    const handle: WorkflowHandle<typeof retrain> = env.client.workflow.getHandle(retrainId);
    const result: RetrainResult = await handle.result();
    await recordHistory(env.client, retrainId, 'retrain-promoted');
    expect(result.outcome).toBe('promoted');
    expect(result.comparison!.challengerAuc).toBeGreaterThan(result.comparison!.championAuc);
    expect(result.canaryChecks.length).toBe(3);
    expect(result.canaryChecks.every((c) => c.healthy && c.users > 0)).toBe(true);

    const challenger = result.challenger!;
    expect(await getAlias(warehouse, 'lp-drift', 'champion')).toBe(challenger);
    expect(await getAlias(warehouse, 'lp-drift', 'previous')).toBe(champions['lp-drift']);
    expect(await servedVersions('lp-drift')).toEqual([challenger]);
    const audit = await warehouse.query<{ decision: string }>(`SELECT decision FROM aimo.audit_log WHERE workflow_id = '${retrainId}' ORDER BY seq`);
    expect(audit.map((a) => a.decision)).toEqual(['challenger-better', 'started', 'promoted']);
  });

  it('rolls a promoted version back to the previous one once, however often it is asked, and refuses unknown versions', async () => {
    const promoted = await getAlias(warehouse, 'lp-drift', 'champion');
    const previous = champions['lp-drift']!;
    expect(promoted).not.toBe(previous);
    const ask = (workflowId: string, toVersion?: string) =>
      env.client.workflow.execute(rollback, {
        taskQueue: loopQueue,
        workflowId,
        args: [{ useCase: 'lp-drift', reason: 'conversion dropped after the switch', by: 'ana@growth', ...(toVersion ? { toVersion } : {}) }],
      });

    expect(await ask('rollback-lp-drift-1')).toEqual({ useCase: 'lp-drift', from: promoted, to: previous, changed: true });
    await recordHistory(env.client, 'rollback-lp-drift-1', 'rollback-previous');
    expect(await ask('rollback-lp-drift-2')).toEqual({ useCase: 'lp-drift', to: previous, changed: false });
    expect(await servedVersions('lp-drift')).toEqual([previous]);
    expect((await getVersion(warehouse, promoted!))!.status).toBe('rolled_back');

    const refused = await ask('rollback-lp-drift-3', 'lp-drift-v-does-not-exist').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowFailedError);
    const cause = failureCause(refused);
    expect(cause.type).toBe('UnknownModelVersion');
    expect(cause.message).toContain('lp-drift-v-does-not-exist does not exist for use case lp-drift');
    expect(await getAlias(warehouse, 'lp-drift', 'champion')).toBe(previous);
    expect(await servedVersions('lp-drift')).toEqual([previous]);

    // Forward again, by name: the rolled-back version is still a good one.
    expect(await ask('rollback-lp-drift-4', promoted)).toEqual({ useCase: 'lp-drift', from: previous, to: promoted, changed: true });
    expect(await servedVersions('lp-drift')).toEqual([promoted]);
  });

  it('rolls back on its own when a challenger trained on a one-off promotion fails its canary', async () => {
    const champion = champions['lp-promo']!;
    const result: RetrainResult = await env.client.workflow.execute(retrain, {
      taskQueue: loopQueue,
      workflowId: 'retrain-lp-promo-1',
      args: [{ useCase: 'lp-promo', asOf: '2026-03-11', reason: 'weekly retrain', approval: false }],
    });
    await recordHistory(env.client, 'retrain-lp-promo-1', 'retrain-rolled-back');
    // Inside the promotion the challenger looks better...
    expect(result.comparison!.challengerAuc).toBeGreaterThan(result.comparison!.championAuc);
    // ...and on live outcomes after it, it ranks worse than the champion by more than the canary allows.
    expect(result.outcome).toBe('rolled-back');
    const failed = result.canaryChecks.at(-1)!;
    expect(failed.healthy).toBe(false);
    expect(failed.challengerAuc).toBeLessThan(failed.championAuc - 0.02);

    expect(await getAlias(warehouse, 'lp-promo', 'champion')).toBe(champion);
    expect(await servedVersions('lp-promo')).toEqual([champion]);
    expect((await getVersion(warehouse, result.challenger!))!.status).toBe('failed');
    const [started] = await warehouse.query<{ reason: string }>(`SELECT reason FROM aimo.audit_log WHERE workflow_id = 'retrain-lp-promo-1' AND decision = 'started'`);
    expect(started!.reason).toBe(`30 % of users served by ${result.challenger}`);
    const [alert] = await warehouse.query<{ n: number }>(`SELECT COUNT(*) AS n FROM aimo.alerts_sent WHERE incident_id = 'canary-${result.challenger}'`);
    expect(Number(alert!.n)).toBe(1);

    const refused = await env.client.workflow
      .execute(rollback, { taskQueue: loopQueue, workflowId: 'rollback-lp-promo-1', args: [{ useCase: 'lp-promo', toVersion: result.challenger, reason: 'try it anyway', by: 'bo' }] })
      .catch((e: unknown) => e);
    const cause = failureCause(refused);
    expect(cause.type).toBe('VersionFailedGates');
    expect(cause.message).toContain('failed its gates');
    expect(await servedVersions('lp-promo')).toEqual([champion]);
  });

  it('waits for a person before the canary when the plan asks, and keeps the champion when they reject', async () => {
    const champion = champions['lp-promo']!;
    const handle = await env.client.workflow.start(retrain, {
      taskQueue: loopQueue,
      workflowId: 'retrain-lp-promo-approval',
      args: [{ useCase: 'lp-promo', asOf: '2026-03-11', reason: 'weekly retrain' }],
    });
    const decision = { decision: 'reject' as const, by: 'ana@growth', reason: 'no canary during the sale', gate: 'canary' };
    // The validator refuses a decision until the workflow waits at the gate.
    for (;;) {
      const answer = await handle.executeUpdate(approvalUpdate, { args: [decision] }).catch((e: unknown) => e);
      if (!(answer instanceof Error)) break;
      expect((answer.cause as Error | undefined)?.message).toContain('not waiting for an approval');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const result = await handle.result();
    await recordHistory(env.client, 'retrain-lp-promo-approval', 'retrain-rejected-at-approval');
    expect(result.outcome).toBe('rejected');
    expect(result.reason).toBe('rejected by ana@growth: no canary during the sale');
    expect(result.canaryChecks).toEqual([]);
    expect((await getVersion(warehouse, result.challenger!))!.status).toBe('rejected');
    expect(await getAlias(warehouse, 'lp-promo', 'champion')).toBe(champion);
    expect(await servedVersions('lp-promo')).toEqual([champion]);
  });

  it('fails invalid loop input at once, naming every field', async () => {
    const error = await env.client.workflow
      .execute(rollback, { taskQueue: loopQueue, workflowId: 'rollback-invalid-1', args: [{ useCase: 'Bad Name', reason: 'x' }] })
      .catch((e: unknown) => e);
    const cause = failureCause(error);
    expect(cause.type).toBe('InvalidInput');
    expect(cause.nonRetryable).toBe(true);
    for (const field of ['useCase:', 'reason:', 'by:']) expect(cause.message).toContain(field);
  });

  /** The versions the use case's serving view hands out (one, unless a canary runs). */
  async function servedVersions(useCase: string): Promise<string[]> {
    const rows = await warehouse.query<{ version_id: string }>(`SELECT DISTINCT version_id FROM ${warehouse.dialect.table(servingView(useCase))} ORDER BY 1`);
    return rows.map((r) => r.version_id);
  }
});

/** A plan whose model windows end before the simulated changes begin. */
function loopPlan(useCase: string, schema: string, alertRoutes: unknown[]) {
  const plan = testPlan({ useCase, windows: { asOf: '2026-02-18', featureDays: 7, labelDays: 7 } });
  // Week-long windows leave small segment groups, so their AUCs spread more than the demo's limit allows.
  return { ...plan, sources: { schema }, guardrails: { ...plan.guardrails, maxFairnessGap: 0.25 }, automation: { ...plan.automation, alertRoutes } } as typeof plan;
}

function failureCause(error: unknown): Error & { type?: string; nonRetryable?: boolean } {
  expect(error).toBeInstanceOf(WorkflowFailedError);
  let cause = (error as WorkflowFailedError).cause as (Error & { type?: string; nonRetryable?: boolean; cause?: Error }) | undefined;
  // Activity failures wrap the application failure that carries the type.
  while (cause && !cause.type && cause.cause) cause = cause.cause as typeof cause;
  return cause!;
}

interface SlackReceiver {
  readonly server: Server;
  readonly url: string;
  readonly received: Array<{ headers: Record<string, string | string[] | undefined>; body: unknown }>;
}

/** An incoming-webhook endpoint, as Slack offers one: records what it is sent. */
async function startSlackReceiver(): Promise<SlackReceiver> {
  const received: SlackReceiver['received'] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(text) });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/XXXX`;
  return { server, url, received };
}
