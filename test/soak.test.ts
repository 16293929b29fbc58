import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { getAlias, getVersion, servingView } from '../serving/registry';
import { runSoak, soakDay, SOAK_DAYS, SOAK_DRIFT_DAY, SOAK_PROMOTION_DAYS, SOAK_USE_CASE, type Soak } from './support/soak';
import { connectToTestServer, startTimeSkippingServer } from './support/temporal';

type AuditRow = {
  workflow_id: string;
  seq: number;
  step: string;
  decision: string;
  reason: string;
  details_json: string;
  recorded_at: string;
};

/**
 * 90 simulated days of a live propensity use case on the time-skipping
 * server (test/support/soak.ts): each day the market grows by a day and the
 * nightly drift check runs, each Monday the weekly retrain, all with the
 * types and arguments of the product's schedules. The market drifts from day
 * 30 and runs a one-off promotion from day 63 to day 70.
 */
describe('soak: 90 simulated days of a live use case', () => {
  let env: TestWorkflowEnvironment;
  let devServer: TestWorkflowEnvironment;
  let soak: Soak;
  let audit: AuditRow[];

  beforeAll(async () => {
    [env, devServer] = await Promise.all([startTimeSkippingServer(), connectToTestServer()]);
    soak = await runSoak({ env, schedulesClient: devServer.client });
    audit = await soak.warehouse.query<AuditRow>(
      `SELECT workflow_id, seq, step, decision, reason, details_json, recorded_at FROM aimo.audit_log WHERE use_case = '${SOAK_USE_CASE}' ORDER BY recorded_at, workflow_id, seq`,
    );
  }, 480_000);

  afterAll(async () => {
    await soak?.teardown();
    await devServer?.teardown();
    await env?.teardown();
  });

  const retrainOn = (day: number) => soak.weeklyRetrains.find((r) => r.at === `${soakDay(day)}T03:00:00.000Z`)!;
  const served = async () =>
    (await soak.warehouse.query<{ version_id: string }>(`SELECT DISTINCT version_id FROM ${soak.warehouse.dialect.table(servingView(SOAK_USE_CASE))} ORDER BY 1`)).map((r) => r.version_id);

  it('starts every scheduled run on its day, skips none and leaves none failed; the market grew to the last day', async () => {
    expect(soak.figures.runs).toEqual({ marketDay: SOAK_DAYS, driftCheck: SOAK_DAYS, retrain: 13, 'retrain (drift incident)': 1 });
    expect(soak.driver.skipped).toEqual([]);
    expect(soak.driver.failed).toEqual([]);
    expect([...soak.weeklyRetrains, ...soak.incidentRetrains].filter((r) => r.error)).toEqual([]);
    // The last market day (day 90, 00:05) appends up to the day before it.
    const [newest] = await soak.warehouse.query<{ day: string }>(`SELECT strftime(MAX(order_ts), '%Y-%m-%d') AS day FROM raw.orders`);
    expect(newest!.day).toBe(soakDay(SOAK_DAYS - 1));
  });

  it('keeps an audit log with no gap or overwrite: seq 1..N once each per workflow, in time order', () => {
    const byWorkflow = new Map<string, AuditRow[]>();
    for (const row of audit) byWorkflow.set(row.workflow_id, [...(byWorkflow.get(row.workflow_id) ?? []), row]);
    // The rollout, every retrain that got as far as a decision, and every drift check that found drift.
    expect(byWorkflow.size).toBeGreaterThan(14);
    // Rows are read in time order: seq 1..N in that order also says each workflow's decisions were recorded in the order they were taken.
    for (const [workflowId, rows] of byWorkflow) {
      const seqs = rows.map((r) => Number(r.seq));
      expect({ workflowId, seqs }).toEqual({ workflowId, seqs: seqs.map((_, i) => i + 1) });
    }
    // Every decision of every loop run was recorded at its simulated time, inside the soak's calendar.
    const loops = audit.filter((r) => !r.workflow_id.startsWith('rollout-'));
    expect(loops.every((r) => r.recorded_at >= `${soakDay(1)}T00:00:00` && r.recorded_at < `${soakDay(SOAK_DAYS + 1)}T00:00:00`)).toBe(true);
    // A retrain's story, in order: compared, canaried, then promoted or rolled back.
    for (const [workflowId, rows] of byWorkflow) {
      const decisions = rows.map((r) => r.decision);
      if (workflowId.startsWith('retrain-') && decisions.includes('started')) expect([['challenger-better', 'started', 'promoted'], ['challenger-better', 'started', 'rolled-back']]).toContainEqual(decisions);
    }
  });

  it('opens exactly one drift incident after day 30: one alert, one retrain, every later check finding that same retrain', async () => {
    const detected = audit.filter((r) => r.decision === 'drift-detected');
    expect(detected.length).toBeGreaterThan(0);
    expect(detected[0]!.recorded_at >= soakDay(SOAK_DRIFT_DAY)).toBe(true);
    // The planted session_rate drift shows in the session features.
    expect(detected.some((r) => r.reason.includes('sessions_n'))).toBe(true);
    const incidents = new Set(detected.map((r) => (JSON.parse(r.details_json) as { incidentId: string }).incidentId));
    expect(soak.figures.incidents).toBe(1);
    expect(incidents.size).toBe(1);
    expect(soak.figures.alerts).toBe(1);

    const started = audit.filter((r) => r.decision === 'retrain-started');
    expect(started).toHaveLength(1);
    const [incident] = soak.incidentRetrains;
    expect(incident!.workflowId).toBe(`retrain-${SOAK_USE_CASE}-incident-${JSON.parse(detected[0]!.details_json).incidentId.replace(`drift-${SOAK_USE_CASE}-`, '')}`);
    expect(started[0]!.reason).toBe(incident!.workflowId);
    // Each check that found the drift again, against the same champion, found the retrain already started.
    const again = audit.filter((r) => r.decision === 'retrain-already-started');
    expect(again).toHaveLength(detected.length - 1);
    expect(again.every((r) => r.reason === incident!.workflowId)).toBe(true);
  });

  it("resolves the drift: the incident's retrain trains on the window before the drift and keeps the champion; a later weekly retrain on drifted data is promoted and the checks fall quiet", async () => {
    const incident = soak.incidentRetrains[0]!.result!;
    // Its labels end on the newest complete day, so its features come from before the drift began.
    expect(incident.window!.from < soakDay(SOAK_DRIFT_DAY)).toBe(true);
    expect(incident.outcome).toBe('kept-champion');
    expect((await getVersion(soak.warehouse, incident.challenger!))!.status).toBe('rejected');

    const promoted = soak.weeklyRetrains.filter((r) => r.result?.outcome === 'promoted' && r.at > soakDay(SOAK_DRIFT_DAY));
    expect(promoted.length).toBeGreaterThan(0);
    const fix = promoted[0]!.result!;
    expect(fix.window!.from >= soakDay(SOAK_DRIFT_DAY)).toBe(true);
    expect(fix.canaryChecks.every((c) => c.healthy)).toBe(true);
    const lastDetected = audit.filter((r) => r.decision === 'drift-detected').at(-1)!;
    const promotedAt = audit.find((r) => r.workflow_id === promoted[0]!.workflowId && r.decision === 'promoted')!.recorded_at;
    expect(lastDetected.recorded_at < promotedAt).toBe(true);
  });

  it(`fails the canary of the challenger trained inside the one-off promotion (days ${SOAK_PROMOTION_DAYS.from}–${SOAK_PROMOTION_DAYS.to - 1}); the champion serves`, async () => {
    const anomaly = retrainOn(71).result!;
    expect(anomaly.window!.from >= soakDay(SOAK_PROMOTION_DAYS.from - 7)).toBe(true);
    // Inside the promotion the challenger looks better...
    expect(anomaly.comparison!.challengerAuc).toBeGreaterThan(anomaly.comparison!.championAuc);
    // ...and on live outcomes after it, it ranks worse than the canary allows.
    expect(anomaly.outcome).toBe('rolled-back');
    expect(anomaly.canaryChecks.at(-1)!.healthy).toBe(false);
    expect((await getVersion(soak.warehouse, anomaly.challenger!))!.status).toBe('failed');
    const [alert] = await soak.warehouse.query<{ n: number | bigint }>(`SELECT COUNT(*) AS n FROM aimo.alerts_sent WHERE incident_id = 'canary-${anomaly.challenger}'`);
    expect(Number(alert!.n)).toBe(1);

    const champion = await getAlias(soak.warehouse, SOAK_USE_CASE, 'champion');
    expect(champion).toBe(anomaly.champion);
    expect(await served()).toEqual([champion]);
  });

  it('leaves no half-done state: one version served, every version with its scores, the tables counted', async () => {
    const champion = (await getAlias(soak.warehouse, SOAK_USE_CASE, 'champion'))!;
    expect(await served()).toEqual([champion]);
    expect((await getVersion(soak.warehouse, champion))!.status).not.toMatch(/failed|rejected|rolled_back/);
    // Every challenger that reached a decision has one; none is left registered-only (trained but undecided).
    const versions = await soak.warehouse.query<{ version_id: string; status: string }>(`SELECT version_id, status FROM aimo.model_registry WHERE use_case = '${SOAK_USE_CASE}'`);
    const decided = [...soak.weeklyRetrains, ...soak.incidentRetrains].filter((r) => r.result?.challenger).length;
    expect(versions).toHaveLength(decided + 1);
    for (const v of versions) {
      const version = (await getVersion(soak.warehouse, v.version_id))!;
      expect({ version: v.version_id, scores: await soak.warehouse.tableExists(version.scoresTable!) }).toEqual({ version: v.version_id, scores: true });
    }
    // Retention does not run in this soak yet, so the loops' per-run tables are all still there (test/retention.test.ts bounds them).
    expect(soak.figures.aimoViews).toBe(1);
    expect(soak.figures.aimoTables).toBeGreaterThan(600);
  });
});
