import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import { DefaultLogger, type Worker } from '@temporalio/worker';
import { createActivities, type Activities } from '../activities';
import { AIMO_SCHEMA, rolloutTablePrefix } from '../domain/naming';
import { decideRetention, parseRunTable, type KeepReason, type RetentionResult, type RetentionRun } from '../domain/retention';
import { WORKFLOW_TYPES } from '../domain/rollout/definitions';
import { tableRef, type TableRef } from '../domain/table-ref';
import { getAlias, getVersion, promote, servingView } from '../serving/registry';
import { aimoTable, ensureAimoTables, upsertAimoRow } from '../store/aimo-tables';
import { DuckDbWarehouse } from '../warehouse/duckdb';
import { listTables, type Warehouse } from '../warehouse/warehouse';
import { openBigQueryEmulator, openSnowflakeEmulator, type OpenedWarehouse } from './support/emulators/targets';
import { TEST_SALT, tempDataDir } from './support/rollout-fixtures';
import { connectToTestServer, createTestWorker, uniqueTaskQueue } from './support/temporal';

/**
 * A month and more of one use case's life, as its per-run tables: a rollout,
 * two retrains (one champion, one rejected), a retrain still waiting at its
 * approval, another use case whose serving view reads an old run's scores,
 * and a drift check every night, most of them without drift and so without
 * any audit row. DuckDB keeps no creation time, so ages come from the runs'
 * audit rows and registered versions, or from when an earlier retention run
 * first saw a table. Retention with the default 14 days must leave exactly
 * what is referenced, running or younger, and nothing else.
 */
const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.now();
const iso = (daysAgo: number, hours = 0) => new Date(NOW - daysAgo * DAY + hours * 3_600_000).toISOString();

const USE_CASE = 'ret-demo';
const SIDE = 'ret-side';
const STAGING = ['stg_users', 'stg_sessions', 'stg_events', 'stg_orders'];
const DRIFT_TABLES = [...STAGING, 'features', 'drift_scores'];
const DRIFT_NIGHTS = 30;
const MAX_AGE_DAYS = 14;

interface Fixture {
  readonly drop: string[];
  readonly keep: Record<KeepReason, string[]>;
  readonly untouched: string[];
  readonly champion: { readonly versionId: string; readonly tables: string[] };
}

describe('per-run table names', () => {
  const known = new Set(['paid_search_cac', 'paid_search', 'promo_deadbeef', 'x_1a2b3c4d']);

  it('takes <use case>_<hash>_<name> apart, a known use case over a shorter one', () => {
    expect(parseRunTable('paid_search_cac_1a2b3c4d_stg_users', known)).toEqual({
      useCaseId: 'paid_search_cac',
      hashes: ['1a2b3c4d'],
      prefixes: ['paid_search_cac_1a2b3c4d'],
    });
    // A scaled use case whose name ends in a hash: either 8-hex segment may be the workflow's.
    expect(parseRunTable('x_1a2b3c4d_5e6f7a8b_features', known)).toEqual({
      useCaseId: 'x_1a2b3c4d',
      hashes: ['1a2b3c4d', '5e6f7a8b'],
      prefixes: ['x_1a2b3c4d', 'x_1a2b3c4d_5e6f7a8b'],
    });
    expect(parseRunTable('unknown_uc_0badcafe_scores', new Set())).toMatchObject({ useCaseId: 'unknown_uc', hashes: ['0badcafe'] });
    // Runs named since names took 64 bits carry 16 hex digits; both kinds are a run's.
    expect(parseRunTable('paid_search_cac_1a2b3c4d5e6f7a8b_stg_users', known)).toEqual({
      useCaseId: 'paid_search_cac',
      hashes: ['1a2b3c4d5e6f7a8b'],
      prefixes: ['paid_search_cac_1a2b3c4d5e6f7a8b'],
    });
    expect(parseRunTable('x_1a2b3c4d_0123456789abcdef_features', known)).toMatchObject({ useCaseId: 'x_1a2b3c4d', hashes: ['1a2b3c4d', '0123456789abcdef'] });
  });

  it('leaves a use case\'s own tables and aimo\'s bookkeeping alone', () => {
    for (const name of ['promo_deadbeef_creatives', 'paid_search_cac_serving', 'audit_log', 'llm_usage', 'Paid_1a2b3c4d_x', 'a_1a2b3c4_x']) {
      expect([name, parseRunTable(name, known)]).toEqual([name, undefined]);
    }
  });
});

describe('the retention decision', () => {
  it('drops at most maxDrops tables a run, the oldest first, and leaves the rest for the next run', () => {
    const table = (name: string, daysAgo: number) => ({ name: `uc_0badcafe_${name}`, kind: 'table' as const, createdAt: iso(daysAgo) });
    const plan = decideRetention({
      listed: [table('a', 20), table('b', 40), table('c', 30), table('d', 2)],
      bookkeeping: new Set(),
      versionTables: new Set(),
      runningHashes: new Set(),
      runRecords: [],
      firstSeen: new Map(),
      cutoff: iso(MAX_AGE_DAYS),
      nextSeq: 5,
      maxDrops: 2,
    });
    expect(plan.drop.map((t) => [t.seq, t.table, t.ageFrom])).toEqual([
      [5, 'uc_0badcafe_b', 'created'],
      [6, 'uc_0badcafe_c', 'created'],
    ]);
    expect(plan).toMatchObject({ runTables: 4, deferred: 1, kept: { referenced: 0, running: 0, young: 1, 'first-seen': 0 } });
  });

  it("of one use case's schedule considers only that use case's tables, even one whose name starts like another's", () => {
    const table = (name: string) => ({ name, kind: 'table' as const, createdAt: iso(40) });
    const facts = {
      listed: [table('ret_demo_0badcafe_features'), table('ret_demo_x_1a2b3c4d_features'), table('ret_side_0badcafe_scores')],
      bookkeeping: new Set<string>(),
      versionTables: new Set<string>(),
      runningHashes: new Set<string>(),
      runRecords: [{ workflowId: 'retrain-ret-demo-x-1', useCase: 'ret-demo-x', at: iso(40) }],
      firstSeen: new Map<string, string>(),
      cutoff: iso(MAX_AGE_DAYS),
      nextSeq: 1,
      maxDrops: 100,
    };
    const plan = decideRetention({ ...facts, useCase: USE_CASE });
    expect(plan.drop.map((t) => [t.table, t.useCase])).toEqual([['ret_demo_0badcafe_features', USE_CASE]]);
    expect(plan.runTables).toBe(1);
    expect(decideRetention(facts).drop.map((t) => t.table)).toEqual(['ret_demo_0badcafe_features', 'ret_demo_x_1a2b3c4d_features', 'ret_side_0badcafe_scores']);
  });
});

describe('retention of per-run tables', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let worker: Worker;
  let working: Promise<void>;
  let fixture: Fixture;
  const taskQueue = uniqueTaskQueue('retention');
  // A retrain waiting at its approval for 25 days: a workflow that stays running, on a queue no worker serves.
  const waiting = `retrain-${USE_CASE}-waiting-${taskQueue}`;

  beforeAll(async () => {
    env = await connectToTestServer();
    await env.client.workflow.start(WORKFLOW_TYPES.retrain, { taskQueue: uniqueTaskQueue('nobody'), workflowId: waiting, args: [{ useCase: USE_CASE }] });
    await untilRunningIsVisible(env, waiting);
    warehouse = await DuckDbWarehouse.open(':memory:');
    fixture = await buildFixture(warehouse, waiting);
    worker = await createTestWorker(env, activitiesFor(warehouse, env), taskQueue);
    working = worker.run();
  });

  afterAll(async () => {
    await env?.client.workflow.getHandle(waiting).terminate('test over').catch(() => undefined);
    worker?.shutdown();
    await working;
    await warehouse?.close();
    await env?.teardown();
  });

  const retention = (input: unknown, id = `retention-${randomUUID()}`) =>
    env.client.workflow.execute(WORKFLOW_TYPES.retention, { taskQueue, workflowId: id, args: [input] }) as Promise<RetentionResult>;

  it('a dry run reports what it would drop and changes nothing', async () => {
    const before = await state(warehouse);
    const id = `retention-dry-${taskQueue}`;
    const result = await retention({ dryRun: true }, id);
    expect(result).toMatchObject({ dryRun: true, maxAgeDays: MAX_AGE_DAYS, dropped: [], deferred: 0, runTablesBefore: 208, runTablesAfter: 208 });
    expect([...result.wouldDrop].sort()).toEqual([...fixture.drop].sort());
    expect(await state(warehouse)).toEqual(before);
    expect(await auditRows(warehouse, id)).toEqual([]);
  });

  it('drops what is old and unreferenced, keeps the rest, and writes every drop to the audit log', async () => {
    const id = `retention-${taskQueue}`;
    const result = await retention({}, id);
    expect(result).toMatchObject({ dryRun: false, maxAgeDays: MAX_AGE_DAYS, runTablesBefore: 208, runTablesAfter: 102, wouldDrop: [], deferred: 0 });
    expect(result.kept).toEqual({ referenced: 7, running: 5, young: 84, 'first-seen': 6 });
    expect([...result.dropped].sort()).toEqual([...fixture.drop].sort());

    // Bounded by the settings: two tables per registered version, what views read, running work and 15 nights of drift checks.
    const kept = Object.values(fixture.keep).flat().sort();
    expect(await runTables(warehouse)).toEqual(kept);
    expect(kept.length).toBe(3 * 2 + 1 + 5 + (MAX_AGE_DAYS + 1) * DRIFT_TABLES.length);
    const names = (await listTables(warehouse, AIMO_SCHEMA)).map((t) => t.name);
    for (const untouched of [...fixture.untouched, ...fixture.champion.tables]) expect(names).toContain(untouched);
    const [served] = await warehouse.query<{ n: number }>(`SELECT count(*) AS n FROM ${warehouse.dialect.table(servingView(USE_CASE))}`);
    expect(served!.n).toBe(1);
    expect(await getAlias(warehouse, USE_CASE, 'champion')).toBe(fixture.champion.versionId);

    const rows = await auditRows(warehouse, id);
    const drops = rows.filter((r) => r.decision === 'dropped');
    expect(drops.map((r) => r.table).sort()).toEqual(fixture.drop.map((t) => `aimo.${t}`).sort());
    expect(rows.filter((r) => r.decision === 'first-seen').map((r) => r.table).sort()).toEqual(fixture.keep['first-seen'].map((t) => `aimo.${t}`).sort());
    expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length);
    expect(drops.find((r) => r.table.includes('ret_side'))).toMatchObject({ use_case: SIDE, step: 'retention', reason: expect.stringMatching(/older than 14 days/) });

    // Run again: nothing left to drop, nothing new to record.
    const total = (await warehouse.query<{ n: number }>(`SELECT count(*) AS n FROM ${warehouse.dialect.table(aimoTable('audit_log'))}`))[0]!.n;
    const again = await retention({}, `${id}-again`);
    expect(again).toMatchObject({ dropped: [], runTablesBefore: 102, runTablesAfter: 102 });
    expect(again.kept).toEqual({ ...result.kept, 'first-seen': 0, young: 90 });
    expect(await auditRows(warehouse, `${id}-again`)).toEqual([]);
    expect((await warehouse.query<{ n: number }>(`SELECT count(*) AS n FROM ${warehouse.dialect.table(aimoTable('audit_log'))}`))[0]!.n).toBe(total);
  });

  it.each([
    [{ maxAgeDays: 0 }, /maxAgeDays: keep per-run tables at least 1 day/],
    [{ maxAgeDays: 2.5 }, /maxAgeDays: use a whole number of days/],
    [{ dryRun: 'yes' }, /dryRun: use true or false/],
    [{ maxAge: 30 }, /maxAge/],
  ])('refuses %j without retrying, naming the field', async (input, message) => {
    const before = await state(warehouse);
    const error = await retention(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as Error & { type?: string; nonRetryable?: boolean };
    expect(cause).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(cause.message).toMatch(message);
    expect(await state(warehouse)).toEqual(before);
  });
});

describe('a retried retention activity', () => {
  let env: TestWorkflowEnvironment;
  const waiting = `retrain-${USE_CASE}-waiting-${randomUUID()}`;
  const run: RetentionRun = { workflowId: 'retention-crash', maxAgeDays: MAX_AGE_DAYS, at: iso(0) };

  beforeAll(async () => {
    env = await connectToTestServer();
    await env.client.workflow.start(WORKFLOW_TYPES.retrain, { taskQueue: uniqueTaskQueue('nobody'), workflowId: waiting, args: [{ useCase: USE_CASE }] });
    await untilRunningIsVisible(env, waiting);
  });

  afterAll(async () => {
    await env?.client.workflow.getHandle(waiting).terminate('test over').catch(() => undefined);
    await env?.teardown();
  });

  it('cut off after any write, then retried from its last heartbeat, leaves the state of one clean run', async () => {
    const clean = await withFixture(env, waiting, async (wh, activities) => {
      const plan = await inActivity(() => activities.planRetention(run));
      await inActivity(() => activities.retireRunTables({ run, plan }));
      return { plan, after: await state(wh) };
    });
    // Table creation for the schema, the first-seen rows, then a DROP and an audit row per table.
    const writes = 16 + clean.plan.firstSeen.length + 2 * clean.plan.drop.length;
    for (const k of [0, 17, 22, 23, 24, 123, writes - 1]) {
      const after = await withFixture(env, waiting, async (wh, activities) => {
        const beats: unknown[] = [];
        const lost = activitiesFor(losingWorkerAfter(wh, k), env);
        await expect(inActivity(() => lost.retireRunTables({ run, plan: clean.plan }), {}, beats)).rejects.toThrow(`worker lost after write ${k}`);
        await inActivity(() => activities.retireRunTables({ run, plan: clean.plan }), beats.length ? { heartbeatDetails: beats.at(-1) } : {});
        return state(wh);
      });
      expect([k, after]).toEqual([k, clean.after]);
    }
  });
});

describe.each<[string, () => Promise<OpenedWarehouse>]>([
  ['BigQuery (bqemulator)', openBigQueryEmulator],
  ['Snowflake (fakesnow)', openSnowflakeEmulator],
])('retention on %s', (_name, open) => {
  let env: TestWorkflowEnvironment;
  let opened: OpenedWarehouse;
  const waiting = `retrain-ret-emu-waiting-${randomUUID()}`;

  beforeAll(async () => {
    [env, opened] = await Promise.all([connectToTestServer(), open()]);
    await env.client.workflow.start(WORKFLOW_TYPES.retrain, { taskQueue: uniqueTaskQueue('nobody'), workflowId: waiting, args: [{ useCase: 'ret-emu' }] });
    await untilRunningIsVisible(env, waiting);
  });

  afterAll(async () => {
    await env?.client.workflow.getHandle(waiting).terminate('test over').catch(() => undefined);
    await opened?.close();
    await env?.teardown();
  });

  it('ages tables by the warehouse\'s creation time and drops only the unreferenced ones', async () => {
    const wh = opened.warehouse;
    await ensureAimoTables(wh);
    const trained = await runTablesOf(wh, 'ret-emu', 'rollout-ret-emu-1', ['stg_users', 'features', 'scores']);
    await register(wh, 'ret-emu-v1', 'ret-emu', 'rollout-ret-emu-1', trained, iso(0), 'typed');
    const side = await runTablesOf(wh, 'ret-emu', 'retrain-ret-emu-2', ['stg_users', 'scores']);
    const d = wh.dialect;
    await wh.execute(d.createOrReplaceView(tableRef('ret_emu_canary', AIMO_SCHEMA), `SELECT ${d.quote('user_id')} FROM ${d.table(side['scores']!)}`));
    const running = await runTablesOf(wh, 'ret-emu', waiting, ['stg_users']);

    // Thirty days from now every table is old: only references and the running retrain keep one.
    const later: RetentionRun = { workflowId: `retention-emu-${randomUUID()}`, maxAgeDays: MAX_AGE_DAYS, at: new Date(NOW + 30 * DAY).toISOString() };
    const activities = activitiesFor(wh, env);
    const plan = await inActivity(() => activities.planRetention(later));
    expect(plan.drop.map((t) => [t.table, t.ageFrom])).toEqual([
      [trained['stg_users']!.name, 'created'],
      [side['stg_users']!.name, 'created'],
    ].sort());
    expect(plan.kept).toEqual({ referenced: 3, running: 1, young: 0, 'first-seen': 0 });
    await inActivity(() => activities.retireRunTables({ run: later, plan }));

    expect(await runTables(wh)).toEqual([trained['features']!.name, trained['scores']!.name, side['scores']!.name, running['stg_users']!.name].sort());
    expect((await auditRows(wh, later.workflowId)).map((r) => [r.decision, r.table])).toEqual(plan.drop.map((t) => ['dropped', `aimo.${t.table}`]));
    const again = await inActivity(() => activities.planRetention({ ...later, workflowId: `${later.workflowId}-again` }));
    expect(again.drop).toEqual([]);
  });
});

/** Runs an activity as a worker would, heartbeats collected, its INFO lines kept out of the test output. */
function inActivity<T>(fn: () => Promise<T>, info: Partial<Info> = {}, heartbeats: unknown[] = []): Promise<T> {
  const activity = new MockActivityEnvironment(info, { logger: new DefaultLogger('WARN') });
  activity.on('heartbeat', (details: unknown) => heartbeats.push(details));
  return activity.run(fn);
}

function activitiesFor(warehouse: Warehouse, env: TestWorkflowEnvironment): Activities {
  return createActivities({ warehouse, hashSalt: TEST_SALT, dataDir: tempDataDir(), temporalClient: env.client });
}

/** A fresh warehouse with the fixture, for one attempt of the crash test. */
async function withFixture<T>(env: TestWorkflowEnvironment, waiting: string, body: (wh: DuckDbWarehouse, activities: Activities) => Promise<T>): Promise<T> {
  const wh = await DuckDbWarehouse.open(':memory:');
  try {
    await buildFixture(wh, waiting);
    return await body(wh, activitiesFor(wh, env));
  } finally {
    await wh.close();
  }
}

/**
 * The per-run tables of a month, each run's expected fate named where it is
 * made. 208 per-run tables: 106 to drop, 7 referenced, 5 running, 84 young,
 * 6 whose age only this run learns.
 */
async function buildFixture(wh: Warehouse, waiting: string): Promise<Fixture> {
  await ensureAimoTables(wh);
  const drop: string[] = [];
  const keep: Record<KeepReason, string[]> = { referenced: [], running: [], young: [], 'first-seen': [] };
  const fate = (tables: Record<string, TableRef>, kept: string[], reason: KeepReason = 'referenced') => {
    for (const [name, ref] of Object.entries(tables)) (kept.includes(name) ? keep[reason] : drop).push(ref.name);
  };

  // The rollout, 40 days ago: its version (lineage in the older schema.name text) is `previous` now.
  const rollout = await runTablesOf(wh, USE_CASE, `rollout-${USE_CASE}-1`, [...STAGING, 'features', 'scores', 'assignment', 'activation']);
  await audit(wh, `rollout-${USE_CASE}-1`, USE_CASE, iso(40));
  await register(wh, `${USE_CASE}-v0`, USE_CASE, `rollout-${USE_CASE}-1`, rollout, iso(40), 'legacy');
  fate(rollout, ['features', 'scores']);
  // A retrain 30 days ago whose challenger won its canary: the champion, served by the view.
  const promoted = await runTablesOf(wh, USE_CASE, `retrain-${USE_CASE}-2`, [...STAGING, 'features', 'scores', 'canary_outcomes']);
  await audit(wh, `retrain-${USE_CASE}-2`, USE_CASE, iso(30));
  await register(wh, `${USE_CASE}-v1`, USE_CASE, `retrain-${USE_CASE}-2`, promoted, iso(30), 'typed');
  await promote(wh, { useCase: USE_CASE, versionId: `${USE_CASE}-v0`, by: 'rollout', reason: 'first champion', at: iso(40) });
  await promote(wh, { useCase: USE_CASE, versionId: `${USE_CASE}-v1`, by: 'retrain', reason: 'canary healthy', at: iso(29) });
  fate(promoted, ['features', 'scores']);
  // A retrain 20 days ago whose challenger lost: rejected, still registered.
  const rejected = await runTablesOf(wh, USE_CASE, `retrain-${USE_CASE}-3`, [...STAGING, 'features', 'scores']);
  await audit(wh, `retrain-${USE_CASE}-3`, USE_CASE, iso(20));
  await register(wh, `${USE_CASE}-v2`, USE_CASE, `retrain-${USE_CASE}-3`, rejected, iso(20), 'typed', 'rejected');
  fate(rejected, ['features', 'scores']);
  // The retrain still waiting at its approval since 25 days ago.
  const running = await runTablesOf(wh, USE_CASE, waiting, [...STAGING, 'features']);
  await audit(wh, waiting, USE_CASE, iso(25));
  fate(running, Object.keys(running), 'running');
  // Another use case's serving view reads scores of a run 35 days ago that registered nothing.
  const side = await runTablesOf(wh, SIDE, `rollout-${SIDE}-1`, ['stg_users', 'scores']);
  await audit(wh, `rollout-${SIDE}-1`, SIDE, iso(35));
  await wh.execute(wh.dialect.createOrReplaceView(servingView(SIDE), `SELECT "user_id", "score", "version_id" FROM ${wh.dialect.table(side['scores']!)}`));
  fate(side, ['scores']);
  await driftNights(wh, drop, keep);

  // Not per-run tables: a content use case's creatives (its name ends in 8 hex digits) and a table made by hand.
  await audit(wh, 'rollout-promo-deadbeef-1', 'promo-deadbeef', iso(50));
  await wh.execute(`CREATE TABLE aimo.promo_deadbeef_creatives AS SELECT 1 AS x`);
  await wh.execute(`CREATE TABLE aimo.notes_by_hand AS SELECT 1 AS x`);
  return {
    drop,
    keep,
    untouched: ['promo_deadbeef_creatives', 'notes_by_hand', 'audit_log', 'model_registry', 'model_aliases', 'llm_usage'],
    champion: { versionId: `${USE_CASE}-v1`, tables: [promoted['features']!.name, promoted['scores']!.name] },
  };
}

/**
 * A drift check every night for 30 nights. Most found no drift and wrote no
 * audit row; an earlier nightly retention run saw each one's tables a few
 * hours later. Tonight's has not been seen yet.
 */
async function driftNights(wh: Warehouse, drop: string[], keep: Record<KeepReason, string[]>): Promise<void> {
  let seq = 0;
  for (let night = 0; night < DRIFT_NIGHTS; night++) {
    const workflowId = `drift-${USE_CASE}-night-${night}`;
    const tables = Object.values(await runTablesOf(wh, USE_CASE, workflowId, DRIFT_TABLES)).map((t) => t.name);
    if (night % 7 === 3) await audit(wh, workflowId, USE_CASE, iso(night, 1));
    else if (night > 0) {
      for (const name of tables) {
        await upsertAimoRow(wh, 'audit_log', {
          workflow_id: 'retention-earlier',
          seq: ++seq,
          use_case: USE_CASE,
          step: 'retention',
          decision: 'first-seen',
          actor: 'aimo',
          reason: 'first seen',
          details_json: JSON.stringify({ table: `aimo.${name}` }),
          recorded_at: iso(night, 3),
        });
      }
    }
    if (night === 0) keep['first-seen'].push(...tables);
    else if (night <= MAX_AGE_DAYS) keep.young.push(...tables);
    else drop.push(...tables);
  }
}

/** A run's tables, as runTable names them, each with one scored user. */
async function runTablesOf(wh: Warehouse, useCase: string, workflowId: string, names: string[]): Promise<Record<string, TableRef>> {
  const prefix = rolloutTablePrefix(useCase, workflowId);
  const q = (c: string) => wh.dialect.quote(c);
  const tables: Record<string, TableRef> = {};
  for (const name of names) {
    tables[name] = tableRef(`${prefix}_${name}`, AIMO_SCHEMA);
    await wh.createOrReplaceTableAs(tables[name], `SELECT 'u1' AS ${q('user_id')}, 0.5 AS ${q('score')}, @version AS ${q('version_id')}`, { version: workflowId });
  }
  return tables;
}

async function audit(wh: Warehouse, workflowId: string, useCase: string, at: string): Promise<void> {
  await upsertAimoRow(wh, 'audit_log', {
    workflow_id: workflowId,
    seq: 1,
    use_case: useCase,
    step: 'run',
    decision: 'started',
    actor: 'aimo',
    reason: 'started',
    details_json: '{}',
    recorded_at: at,
  });
}

/** A version whose lineage names its run's features and scores, typed or as the older schema.name text. */
async function register(wh: Warehouse, versionId: string, useCase: string, workflowId: string, tables: Record<string, TableRef>, at: string, refs: 'typed' | 'legacy', status = 'registered'): Promise<void> {
  const ref = (t: TableRef) => (refs === 'typed' ? t : `${t.schema}.${t.name}`);
  await upsertAimoRow(wh, 'model_registry', {
    version_id: versionId,
    use_case: useCase,
    workflow_id: workflowId,
    status,
    features_json: '[]',
    model_json: 'null',
    metrics_json: '{"auc":0.7}',
    lineage_json: JSON.stringify({ featuresTable: ref(tables['features']!), scoresTable: ref(tables['scores']!), workflowId }),
    registered_at: at,
  });
  expect((await getVersion(wh, versionId))?.scoresTable?.name).toBe(tables['scores']!.name);
}

/** aimo's per-run tables: every table in the schema with a run's hash in its name. */
async function runTables(wh: Warehouse): Promise<string[]> {
  return (await listTables(wh, AIMO_SCHEMA)).filter((t) => t.kind === 'table' && /_(?:[0-9a-f]{16}|[0-9a-f]{8})_/.test(t.name) && !t.name.startsWith('promo_deadbeef')).map((t) => t.name).sort();
}

async function auditRows(wh: Warehouse, workflowId: string) {
  const q = (c: string) => wh.dialect.quote(c);
  const rows = await wh.query<{ seq: number; use_case: string; step: string; decision: string; reason: string; details_json: string }>(
    `SELECT ${['seq', 'use_case', 'step', 'decision', 'reason', 'details_json'].map((c) => `${q(c)} AS ${c}`).join(', ')}
     FROM ${wh.dialect.table(aimoTable('audit_log'))} WHERE ${q('workflow_id')} = @id ORDER BY ${q('seq')}`,
    { id: workflowId },
  );
  return rows.map(({ details_json, ...r }) => ({ ...r, table: (JSON.parse(details_json) as { table: string }).table }));
}

/** Every object in the aimo schema and every audit row. */
async function state(wh: Warehouse) {
  const q = (c: string) => wh.dialect.quote(c);
  const audit = await wh.query(`SELECT * FROM ${wh.dialect.table(aimoTable('audit_log'))} ORDER BY ${q('workflow_id')}, ${q('seq')}`);
  return { objects: (await listTables(wh, AIMO_SCHEMA)).map((t) => `${t.kind} ${t.name}`), audit };
}

/** The warehouse as a worker sees it that is lost once `k` writes have finished. */
function losingWorkerAfter(wh: Warehouse, k: number): Warehouse {
  let writes = 0;
  const guard = () => {
    if (writes === k) throw new Error(`worker lost after write ${k}`);
    writes++;
  };
  const proxy: Warehouse = Object.create(wh);
  proxy.execute = async (...args) => (guard(), wh.execute(...args));
  proxy.merge = async (...args) => (guard(), wh.merge(...args));
  return proxy;
}

/** Visibility lags a start by a moment; retention would keep a young run's tables anyway, the test wants the running check itself. */
async function untilRunningIsVisible(env: TestWorkflowEnvironment, workflowId: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for await (const found of env.client.workflow.list({ query: `WorkflowId = "${workflowId}" AND ExecutionStatus = "Running"` })) if (found) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${workflowId} never showed as running`);
}
