import { addDaysIso } from '../domain/dates';
import type { DriftResult, RetrainResult } from '../domain/loops/results';
import { dataFreshness, loopWindow, sourceFreshness } from '../domain/loops/windows';
import { inCanary } from '../serving/canary';
import { servingView } from '../serving/registry';
import { driftCheck, retrain } from '../workflows';
import { recordHistory } from './support/histories';
import { failureCause, loopPlan, startLoopBench, type LoopBench } from './support/loop-fixtures';

/**
 * Loops on a market whose data ended long ago (2025-06-01 to 2025-07-30),
 * started without asOf: their windows end where the data does, not where the
 * clock is. Windows that reach past the data fail at once and say what is
 * stale by how much.
 */
describe('loop windows from the data', () => {
  let bench: LoopBench;
  /** The day of each source's newest row, read independently of the product's query */
  let newestRowDay: Record<'orders' | 'sessions' | 'events', string>;
  const useCase = 'lp-fresh';
  const promoUseCase = 'lp-fresh-promo';

  beforeAll(async () => {
    // The experiments' simulated outcomes land inside the data (mid-June), so they do not move its end; the
    // planted uplift is positive, so shipping on the point estimate gives every rollout a champion.
    const plan = (name: string, schema: string, asOf: string) => {
      const p = loopPlan(name, schema, { asOf });
      return { ...p, experiment: { ...p.experiment, startDate: '2025-06-10', shipRule: 'point_estimate_positive' as const } };
    };
    const period = { users: 20_000, startDate: '2025-06-01', days: 60 };
    bench = await startLoopBench(
      [
        { ...period, seed: 5, schema: 'raw_fresh' },
        // From 2025-07-20 to the end new customers buy six times as often: a retrain on later labels learns them.
        { ...period, seed: 11, schema: 'raw_fresh_promo', promotion: { fromDate: '2025-07-20', segment: 'new', hazardFactor: 6 } },
      ],
      [plan(useCase, 'raw_fresh', '2025-07-19'), plan(promoUseCase, 'raw_fresh_promo', '2025-07-12')],
    );
    const [row] = await bench.warehouse.query<Record<string, string>>(
      `SELECT CAST(CAST(MAX(order_ts) AS DATE) AS VARCHAR) AS orders,
              (SELECT CAST(CAST(MAX(started_at) AS DATE) AS VARCHAR) FROM raw_fresh.sessions) AS sessions,
              (SELECT CAST(CAST(MAX(event_ts) AS DATE) AS VARCHAR) FROM raw_fresh.events) AS events
       FROM raw_fresh.orders`,
    );
    newestRowDay = { orders: row!['orders']!, sessions: row!['sessions']!, events: row!['events']! };
  }, 300_000);

  afterAll(async () => {
    await bench?.teardown();
  });

  /** A day is complete once a later row landed; a window ends where every source it reads is complete. */
  const newestCompleteDay = () => addDaysIso(Object.values(newestRowDay).sort()[0]!, -1);

  it('checks drift over the week ending on the newest complete day, and finds none on a quiet market', async () => {
    const result: DriftResult = await bench.env.client.workflow.execute(driftCheck, { taskQueue: bench.loopQueue, workflowId: 'drift-lp-fresh-1', args: [{ useCase }] });
    await recordHistory(bench.env.client, 'drift-lp-fresh-1', 'drift-check-fresh-window');
    const last = newestCompleteDay();
    // The simulated days run to 2025-07-30, whose rows may still be loading as far as the loop can tell.
    expect(last).toBe('2025-07-29');
    expect(result.window).toMatchObject({ from: addDaysIso(last, -6), to: addDaysIso(last, 1), lastDay: last, endFrom: 'data' });
    expect(result.window.freshness!.newestCompleteDay).toBe(last);
    expect(result.window.freshness!.sources.map((s) => s.table).sort()).toEqual(['raw_fresh.ad_spend', 'raw_fresh.events', 'raw_fresh.orders', 'raw_fresh.sessions']);
    expect(result.currentRows).toBeGreaterThan(1000);
    expect(result.features.filter((f) => f.drifted)).toEqual([]);
    expect(result.datasetDrift).toBe(false);
    expect(result.predictionDrift).toBe(false);
    expect(result.retrain).toBeUndefined();
  });

  it('retrains on labels that end on the newest complete day: the cut-off is a label window before it', async () => {
    const result: RetrainResult = await bench.env.client.workflow.execute(retrain, { taskQueue: bench.loopQueue, workflowId: 'retrain-lp-fresh-1', args: [{ useCase, approval: false }] });
    const last = newestCompleteDay();
    expect(result.window).toMatchObject({ asOf: addDaysIso(last, -6), to: addDaysIso(last, 1), lastDay: last, endFrom: 'data' });
    // The challenger was trained on that cut-off, as its lineage says.
    const [lineage] = await bench.warehouse.query<{ lineage_json: string }>(`SELECT lineage_json FROM aimo.model_registry WHERE version_id = @version_id`, { version_id: result.challenger! });
    expect((JSON.parse(lineage!.lineage_json) as { plan: { windows: { asOf: string } } }).plan.windows.asOf).toBe(addDaysIso(last, -6));
    expect(result.comparison!.holdoutRows).toBeGreaterThan(100);
  });

  it('does not promote a better challenger whose canary finds no live outcomes yet', async () => {
    const champion = bench.champions[promoUseCase]!;
    // The live window starts on the newest row's day, which is still loading: here none of the canary users' orders of
    // that day has landed yet (the table still reaches it through other users' orders, so the window does not move).
    const share = 0.1;
    await bench.warehouse.execute(`DELETE FROM raw_fresh_promo.orders WHERE CAST(order_ts AS DATE) >= DATE '2025-07-30' AND ${inCanary(bench.warehouse, 'user_id', share)}`);
    const result: RetrainResult = await bench.env.client.workflow.execute(retrain, {
      taskQueue: bench.loopQueue,
      workflowId: 'retrain-lp-fresh-promo-1',
      args: [{ useCase: promoUseCase, reason: 'weekly retrain', approval: false, canary: { share, watch: '2 days', checkEvery: '1 day' } }],
    });
    await recordHistory(bench.env.client, 'retrain-lp-fresh-promo-1', 'retrain-fresh-window');
    expect(result.window).toMatchObject({ to: '2025-07-30', endFrom: 'data' });
    // Trained on labels inside the promotion, the challenger wins on its own holdout...
    expect(result.comparison!.challengerAuc).toBeGreaterThan(result.comparison!.championAuc);
    // ...but no canary user has a live outcome yet, so no check can judge it: no AUC, no verdict, no promotion.
    expect(result.canaryChecks).toEqual([]);
    expect(result.checksWithoutOutcomes).toBe(2);
    expect(result.outcome).toBe('kept-champion');
    expect(result.reason).toContain(`no live outcomes from ${result.window!.to}`);
    expect(await aliasOf(promoUseCase, 'champion')).toBe(champion);
    const served = await bench.warehouse.query<{ version_id: string }>(`SELECT DISTINCT version_id FROM ${bench.warehouse.dialect.table(servingView(promoUseCase))}`);
    expect(served.map((r) => r.version_id)).toEqual([champion]);
    const [status] = await bench.warehouse.query<{ status: string }>(`SELECT status FROM aimo.model_registry WHERE version_id = @version_id`, { version_id: result.challenger! });
    expect(status!.status).toBe('rejected');
    const audit = await bench.warehouse.query<{ decision: string }>(`SELECT decision FROM aimo.audit_log WHERE workflow_id = 'retrain-lp-fresh-promo-1' ORDER BY seq`);
    expect(audit.map((a) => a.decision)).toEqual(['challenger-better', 'started', 'no-live-outcomes']);
  });

  it('fails a drift check and a retrain at once when an explicit window lies far past the data, naming each table and the days', async () => {
    const stale = async (workflowId: string, workflow: typeof driftCheck | typeof retrain, asOf: string) => {
      const error = await bench.env.client.workflow.execute(workflow, { taskQueue: bench.loopQueue, workflowId, args: [{ useCase, asOf }] }).catch((e: unknown) => e);
      return failureCause(error);
    };
    // The drift window before 2026-01-15 ends on 2026-01-14; the retrain's labels from 2026-01-01 end on 2026-01-07.
    for (const [cause, lastDay] of [
      [await stale('drift-lp-fresh-stale', driftCheck, '2026-01-15'), '2026-01-14'],
      [await stale('retrain-lp-fresh-stale', retrain, '2026-01-01'), '2026-01-07'],
    ] as const) {
      expect(cause.type).toBe('StaleData');
      expect(cause.nonRetryable).toBe(true);
      for (const [source, day] of Object.entries(newestRowDay)) {
        const complete = addDaysIso(day, -1);
        const behind = Math.round((Date.parse(lastDay) - Date.parse(complete)) / 86_400_000);
        expect(cause.message).toContain(`raw_fresh.${source}' newest complete day, ${complete}, is ${behind} days before the window's last day, ${lastDay}`);
      }
      expect(cause.message).toContain('Load fresh data or pass an earlier asOf');
    }
    const [refused] = await bench.warehouse.query<{ decision: string; reason: string }>(`SELECT decision, reason FROM aimo.audit_log WHERE workflow_id = 'retrain-lp-fresh-stale'`);
    expect(refused!.decision).toBe('window-refused');
    expect(refused!.reason).toContain("The retrain's label window 2026-01-01 – 2026-01-07 reaches past the data");
  });

  it("waits for an incident retrain's labels up to waitForData, then refuses; other retrains defer to it while it is open", async () => {
    // Labels from five days before the newest complete day end one day past it.
    const asOf = addDaysIso(newestCompleteDay(), -5);
    const lastDay = addDaysIso(asOf, 6);
    const incident = await bench.env.client.workflow.start(retrain, {
      taskQueue: bench.loopQueue,
      workflowId: `retrain-${useCase}-incident-waits`,
      args: [{ useCase, asOf, waitForData: '6 hours', reason: 'drift incident test' }],
    });
    // It waits once its first audit row is there (the server's clock stands still until a result is awaited).
    for (let i = 0; i < 200 && (await auditOf(incident.workflowId)).length === 0; i++) await new Promise((r) => setTimeout(r, 100));

    const weekly = await bench.env.client.workflow.execute(retrain, { taskQueue: bench.loopQueue, workflowId: 'retrain-lp-fresh-deferred', args: [{ useCase }] });
    await recordHistory(bench.env.client, 'retrain-lp-fresh-deferred', 'retrain-deferred');
    expect(weekly).toMatchObject({ outcome: 'deferred', champion: bench.champions[useCase], canaryChecks: [] });
    expect(weekly.reason).toContain(incident.workflowId);
    expect(await auditOf('retrain-lp-fresh-deferred')).toEqual([{ decision: 'deferred', reason: weekly.reason }]);

    const cause = failureCause(await incident.result().catch((e: unknown) => e));
    await recordHistory(bench.env.client, incident.workflowId, 'retrain-waited-for-data');
    expect(cause).toMatchObject({ type: 'StaleData', nonRetryable: true });
    const audit = await auditOf(incident.workflowId);
    expect(audit.map((a) => a.decision)).toEqual(['waiting-for-data', 'window-refused']);
    expect(audit[0]!.reason).toMatch(new RegExp(`^The retrain's label window ${asOf} – ${lastDay} reaches past the data: .* 1 day before the window's last day, ${lastDay}; waiting up to 6 hours for it$`));
    // A look every hour: at the start and after each of the six, then the refusal.
    const polls = (await incident.fetchHistory()).events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'loopWindowReady');
    expect(polls).toHaveLength(7);
  });

  async function auditOf(workflowId: string): Promise<Array<{ decision: string; reason: string }>> {
    return bench.warehouse.query(`SELECT decision, reason FROM aimo.audit_log WHERE workflow_id = @workflow_id ORDER BY seq`, { workflow_id: workflowId });
  }

  async function aliasOf(name: string, alias: string): Promise<string | undefined> {
    const [row] = await bench.warehouse.query<{ version_id: string }>(`SELECT version_id FROM aimo.model_aliases WHERE use_case = @use_case AND alias = @alias`, { use_case: name, alias });
    return row?.version_id;
  }
});

describe('loopWindow', () => {
  const freshness = dataFreshness([
    sourceFreshness('orders', 'raw.orders', '2026-03-31'),
    sourceFreshness('sessions', 'raw.sessions', '2026-04-02'),
    sourceFreshness('events', 'raw.events', '2026-04-02'),
    // Spend is reported, but no loop window reads it.
    sourceFreshness('spend', 'raw.ad_spend', '2026-01-10'),
  ]);
  const request = { featureDays: 56, labelDays: 14 } as const;

  it('ends a window from the data on the newest day every source it reads has complete', () => {
    expect(freshness.newestCompleteDay).toBe('2026-03-30');
    expect(loopWindow({ ...request, loop: 'drift' }, freshness)).toMatchObject({ ok: true, window: { from: '2026-02-03', asOf: '2026-03-31', to: '2026-03-31', lastDay: '2026-03-30', endFrom: 'data' } });
    expect(loopWindow({ ...request, loop: 'retrain' }, freshness)).toMatchObject({ ok: true, window: { asOf: '2026-03-17', to: '2026-03-31', lastDay: '2026-03-30', endFrom: 'data' } });
  });

  it('refuses an explicit window that reads days a source has not delivered, by table and days', () => {
    expect(loopWindow({ ...request, loop: 'drift', asOf: '2026-03-31' }, freshness)).toMatchObject({ ok: true });
    const refused = loopWindow({ ...request, loop: 'retrain', asOf: '2026-11-17' }, freshness);
    expect(refused).toEqual({
      ok: false,
      problem:
        "The retrain's label window 2026-11-17 – 2026-11-30 reaches past the data: raw.orders' newest complete day, 2026-03-30, is 245 days before the window's last day, 2026-11-30; " +
        "raw.sessions' newest complete day, 2026-04-01, is 243 days before the window's last day, 2026-11-30; " +
        "raw.events' newest complete day, 2026-04-01, is 243 days before the window's last day, 2026-11-30. Load fresh data or pass an earlier asOf",
    });
  });
});
