import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { addDaysIso } from '../domain/dates';
import type { RetrainResult } from '../domain/loops/results';
import { longHash } from '../domain/naming';
import { DEFAULT_MAX_AGE_DAYS } from '../domain/retention';
import { tableRef } from '../domain/table-ref';
import { getAlias, getVersion, servingView, versionTables } from '../serving/registry';
import { listTables } from '../warehouse/warehouse';
import { runSoak, soakDay, SOAK_DAYS, SOAK_DRIFT_DAY, SOAK_PROMOTION_DAYS, SOAK_USE_CASE, type Soak } from './support/soak';
import { connectToTestServer, startTimeSkippingServer } from './support/temporal';

const DAY_MS = 86_400_000;

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
    expect(soak.figures.runs).toEqual({ marketDay: SOAK_DAYS, driftCheck: SOAK_DAYS, retrain: 13, retention: SOAK_DAYS, 'retrain (drift incident)': 1 });
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
    // A retrain's story, in order: (waited for its data,) compared, canaried, then promoted or rolled back.
    for (const [workflowId, rows] of byWorkflow) {
      const decisions = rows.map((r) => r.decision);
      if (!workflowId.startsWith('retrain-') || !decisions.includes('started')) continue;
      expect([['challenger-better', 'started', 'promoted'], ['challenger-better', 'started', 'rolled-back'], ['waiting-for-data', 'challenger-better', 'started', 'promoted']]).toContainEqual(decisions);
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

  it("resolves the drift: the incident's retrain waits for the labels after the drifted window, is canaried and promoted; the Monday retrains defer to it; the checks fall quiet", async () => {
    const [{ workflowId, result }] = soak.incidentRetrains as [{ workflowId: string; result: RetrainResult }];
    const detected = audit.filter((r) => r.decision === 'drift-detected');
    const [firstCheck] = detected;
    // Its features start where the window that showed the drift ends: all of them from the drifted market.
    expect(result.window!.from >= soakDay(SOAK_DRIFT_DAY)).toBe(true);
    // The first check that found the drift ran at 02:00, its window ending (exclusive) on the day before: the data was complete through the day before that.
    expect(result.window!.from).toBe(addDaysIso(String(firstCheck!.recorded_at).slice(0, 10), -1));
    const waited = audit.find((r) => r.workflow_id === workflowId && r.decision === 'waiting-for-data')!;
    expect(waited.reason).toMatch(/label window .* reaches past the data: .*; waiting up to \d+ days for it$/);
    expect(result.outcome).toBe('promoted');
    expect(result.canaryChecks.length).toBeGreaterThan(0);
    expect(result.canaryChecks.every((c) => c.healthy)).toBe(true);
    expect((await getVersion(soak.warehouse, result.challenger!))!.status).not.toMatch(/failed|rejected/);

    // Every Monday retrain while it was open deferred to it, and trained nothing.
    const promotedAt = audit.find((r) => r.workflow_id === workflowId && r.decision === 'promoted')!.recorded_at;
    const whileOpen = soak.weeklyRetrains.filter((r) => r.at > firstCheck!.recorded_at && r.at < promotedAt);
    expect(whileOpen.length).toBeGreaterThan(0);
    for (const r of whileOpen) expect({ at: r.at, outcome: r.result?.outcome, reason: r.result?.reason }).toEqual({ at: r.at, outcome: 'deferred', reason: expect.stringContaining(workflowId) });
    expect(soak.weeklyRetrains.filter((r) => r.result?.outcome === 'deferred')).toHaveLength(whileOpen.length);

    // No check found drift against the champion it left.
    expect(detected.at(-1)!.recorded_at < promotedAt).toBe(true);
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

    // Serving went back to the champion then; any later change of champion is a promotion after the rollback.
    const rolledBackAt = audit.find((r) => r.workflow_id === retrainOn(71).workflowId && r.decision === 'rolled-back')!.recorded_at;
    const champion = (await getAlias(soak.warehouse, SOAK_USE_CASE, 'champion'))!;
    expect(champion).not.toBe(anomaly.challenger);
    expect(await served()).toEqual([champion]);
    const promotedSince = audit.filter((r) => r.decision === 'promoted' && r.recorded_at > rolledBackAt);
    if (champion !== anomaly.champion) expect(promotedSince.at(-1)!.reason).toMatch(new RegExp(`^${champion} is champion`));
    else expect(promotedSince).toEqual([]);
  });

  it('leaves no half-done state: one version served, every version with its scores', async () => {
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
  });

  it(`bounds storage: the nightly retention leaves only per-run tables a version or the view refers to, or of runs from the last ${DEFAULT_MAX_AGE_DAYS} days`, async () => {
    const referenced = new Set((await versionTables(soak.warehouse)).map((t) => t.table.name));
    // Every version in the registry still has every table its lineage names.
    for (const name of referenced) expect({ table: name, exists: await soak.warehouse.tableExists(tableRef(name, 'aimo')) }).toEqual({ table: name, exists: true });
    // A run's tables carry the hash of its workflow id, whose scheduled time says how old the run is.
    const startedAt = new Map<string, string>();
    for (const s of soak.driver.started) startedAt.set(longHash(s.workflowId), s.at);
    const end = Date.parse(`${soakDay(SOAK_DAYS)}T23:59:59Z`);
    const stale = (await listTables(soak.warehouse, 'aimo'))
      .filter((t) => t.kind === 'table' && !referenced.has(t.name))
      .flatMap((t) => [...t.name.matchAll(/_([0-9a-f]{16})_/g)].map((m) => ({ table: t.name, at: startedAt.get(m[1]!) })))
      .filter((t) => t.at !== undefined && end - Date.parse(t.at) > (DEFAULT_MAX_AGE_DAYS + 2) * DAY_MS);
    // A table is first seen the night after its run (DuckDB keeps no creation time) and dropped 14 days later.
    expect(stale).toEqual([]);
    expect(soak.figures.aimoViews).toBe(1);
    expect(soak.figures.aimoTables).toBeLessThan(200);
    const dropped = audit.filter((r) => r.step === 'retention' && r.decision === 'dropped');
    expect(dropped.length).toBeGreaterThan(400);
  });
});
