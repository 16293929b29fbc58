import type { SimulationProgress } from '../domain/simulated-market';
import { appendDays, generateDataset, simulateMarketResponse, tableChecksums, type DatasetOptions } from '../simulator';
import { DuckDbWarehouse } from '../warehouse/duckdb';

const USERS = 3000;
const SEED = 5;
/** Drift and concept drift begin on an appended day: the generated period ends on 2026-02-20 */
const CHANGE_DAY = '2026-03-10';
const planted: Pick<DatasetOptions, 'drift' | 'conceptDrift'> = {
  drift: { fromDate: CHANGE_DAY, features: ['channel_mix'], strength: 0.5 },
  conceptDrift: { fromDate: CHANGE_DAY },
};

/** Rank AUC (ties averaged) of a score against a 0/1 label, from a SELECT of (y, p). */
function aucSql(scored: string): string {
  return `
    WITH h AS (${scored}),
    r AS (SELECT y, AVG(rn) OVER (PARTITION BY p) AS rank FROM (SELECT y, p, ROW_NUMBER() OVER (ORDER BY p) AS rn FROM h) x)
    SELECT (SUM(CASE WHEN y = 1 THEN rank ELSE 0 END) - SUM(y) * (SUM(y) + 1) / 2.0) / (SUM(y) * (COUNT(*) - SUM(y))) AS auc FROM r`;
}

describe('living market: days appended to a generated dataset', () => {
  let wh: DuckDbWarehouse;
  const scalar = async (sql: string): Promise<number> => Number(Object.values((await wh.query(sql))[0]!)[0]);

  beforeAll(async () => {
    wh = await DuckDbWarehouse.open(':memory:');
  });

  afterAll(async () => {
    await wh?.close();
  });

  describe('equal to a longer generation', () => {
    // Every option that shapes days, so appended days must carry all of them: drift and concept drift from an
    // appended day, a promotion straddling the generated end, and faults (nulls, duplicates, late rows).
    const promotion = { fromDate: '2026-02-15', toDate: '2026-03-20', segment: 'loyal', hazardFactor: 3 } as const;
    const options: DatasetOptions = {
      seed: SEED,
      users: USERS,
      ...planted,
      promotion,
      faults: { nullRate: { 'sessions.started_at': 0.02, 'orders.order_ts': 0.02 }, duplicateRate: 0.02, lateRowRate: 0.05 },
    };

    beforeAll(async () => {
      await generateDataset(wh, { ...options, schema: 'whole', endDate: '2026-04-15' });
      await generateDataset(wh, { ...options, schema: 'grown', endDate: '2026-02-20' });
    });

    it('grows day by day and in bulk, across chunks, to the very same tables; the options come from the dataset', async () => {
      for (const day of ['2026-02-21', '2026-02-22', '2026-02-23']) {
        const added = await appendDays(wh, { schema: 'grown', through: day });
        expect(added).toMatchObject({ days: 1, from: day, through: day, newestDay: day });
        expect(added.rows).toBeGreaterThan(0);
      }
      const bulk = await appendDays(wh, { schema: 'grown', through: '2026-04-15' });
      expect(bulk).toMatchObject({ days: 51, from: '2026-02-24', newestDay: '2026-04-15' });
      expect(await tableChecksums(wh, 'grown')).toEqual(await tableChecksums(wh, 'whole'));
      const [state] = await wh.query<{ days: number; options: string }>(`SELECT days, options FROM grown.truth_dataset`);
      expect(state!.days).toBe(105);
      expect(JSON.parse(state!.options)).toMatchObject({ seed: SEED, users: USERS, conceptDrift: { fromDate: CHANGE_DAY, strength: 1 }, promotion });
    });

    it('stores a day simulated twice once, whether it is the newest day or an earlier one', async () => {
      const before = await tableChecksums(wh, 'grown');
      const earlier = await appendDays(wh, { schema: 'grown', from: '2026-03-12', through: '2026-03-12' });
      expect(earlier).toMatchObject({ days: 1, newestDay: '2026-04-15' });
      expect(await tableChecksums(wh, 'grown')).toEqual(before);

      const first = await appendDays(wh, { schema: 'grown', through: '2026-04-16' });
      const once = await tableChecksums(wh, 'grown');
      const second = await appendDays(wh, { schema: 'grown', from: '2026-04-16', through: '2026-04-16' });
      expect(second).toEqual(first);
      expect(await tableChecksums(wh, 'grown')).toEqual(once);
      for (const table of ['sessions', 'events', 'orders', 'ad_spend', 'truth_dataset']) expect(once[table]).not.toEqual(before[table]);
      // Up to date: nothing to add.
      expect(await appendDays(wh, { schema: 'grown', through: '2026-04-16' })).toEqual({ schema: 'grown', days: 0, rows: 0, newestDay: '2026-04-16' });
    });
  });

  describe('drift and concept drift planted on appended days', () => {
    beforeAll(async () => {
      for (const [schema, extra] of [['base', {}], ['planted', planted]] as const) {
        await generateDataset(wh, { seed: SEED, users: USERS, schema, endDate: '2026-02-20', ...extra });
        await appendDays(wh, { schema, through: '2026-05-31' });
      }
    });

    /** Checksum of a table's rows on one side of the change day (rows whose timestamp is NULL count as before) */
    const side = (schema: string, table: string, ts: string, after: boolean) =>
      scalar(`SELECT CAST(COALESCE(SUM(CAST(hash(t) AS HUGEINT)), 0) AS VARCHAR) FROM ${schema}.${table} t WHERE ${after ? '' : 'NOT '}COALESCE(${ts} >= TIMESTAMP '${CHANGE_DAY}', FALSE)`);

    it('leaves every row before the change day as it was without the change', async () => {
      for (const [table, ts] of [['sessions', 'started_at'], ['events', 'event_ts'], ['orders', 'order_ts'], ['ad_spend', 'spend_date']] as const) {
        expect(await side('planted', table, ts, false)).toBe(await side('base', table, ts, false));
        expect(await side('planted', table, ts, true)).not.toBe(await side('base', table, ts, true));
      }
      // What does not drift stays identical after the day too: the browse sessions and who has them, the population.
      const browse = (schema: string) => scalar(`SELECT CAST(SUM(CAST(hash(session_id, user_id, started_at, device) AS HUGEINT)) AS VARCHAR) FROM ${schema}.sessions WHERE session_id NOT LIKE '%-p%'`);
      expect(await browse('planted')).toBe(await browse('base'));
      const people = await tableChecksums(wh, 'base', ['users', 'identities', 'consent', 'truth_users', 'truth_propensity']);
      expect(await tableChecksums(wh, 'planted', Object.keys(people))).toEqual(people);
    });

    it('shifts the channel mix from the change day on', async () => {
      const socialShare = (schema: string, after: boolean) =>
        scalar(`SELECT AVG(CASE WHEN channel = 'paid_social' THEN 1 ELSE 0 END) FROM ${schema}.sessions WHERE (started_at >= TIMESTAMP '${CHANGE_DAY}') = ${after}`);
      expect((await socialShare('planted', true)) / (await socialShare('planted', false))).toBeGreaterThan(1.8);
      expect(Math.abs((await socialShare('base', true)) / (await socialShare('base', false)) - 1)).toBeLessThan(0.1);
      expect(await wh.query(`SELECT feature, CAST(from_date AS VARCHAR) AS from_date FROM planted.truth_drift`)).toEqual([{ feature: 'channel_mix', from_date: CHANGE_DAY }]);
    });

    it('changes who buys from the change day on: the device starts to matter and the old truth stops predicting', async () => {
      /** Orders per mobile user over orders per desktop user, before or after the change day */
      const mobileLift = (schema: string, after: boolean) =>
        scalar(`SELECT (COUNT(o.order_id) FILTER (WHERE u.device = 'mobile') / COUNT(DISTINCT u.user_id) FILTER (WHERE u.device = 'mobile'))
                     / (COUNT(o.order_id) FILTER (WHERE u.device = 'desktop') / COUNT(DISTINCT u.user_id) FILTER (WHERE u.device = 'desktop'))
                FROM ${schema}.users u LEFT JOIN ${schema}.orders o ON o.user_id = u.user_id AND (o.order_ts >= TIMESTAMP '${CHANGE_DAY}') = ${after}`);
      expect(await mobileLift('planted', true)).toBeGreaterThan(1.8);
      expect(Math.abs((await mobileLift('planted', false)) - 1)).toBeLessThan(0.3);
      expect(Math.abs((await mobileLift('base', true)) - 1)).toBeLessThan(0.3);

      const label = `SELECT u.user_id, CASE WHEN o.user_id IS NULL THEN 0 ELSE 1 END AS y FROM planted.users u
                     LEFT JOIN (SELECT DISTINCT user_id FROM planted.orders WHERE order_ts >= TIMESTAMP '${CHANGE_DAY}') o USING (user_id)`;
      const auc = (truth: string) => scalar(aucSql(`SELECT l.y, t.daily_purchase_hazard AS p FROM (${label}) l JOIN planted.${truth} t USING (user_id)`));
      const [before, after] = [await auc('truth_users'), await auc('truth_concept_drift')];
      expect(after).toBeGreaterThan(0.7);
      expect(before).toBeLessThan(0.6);
      expect(await scalar(`SELECT COUNT(*) FROM planted.truth_concept_drift WHERE from_date = DATE '${CHANGE_DAY}'`)).toBe(USERS);
      expect(await scalar(`SELECT COUNT(*) FROM base.truth_concept_drift`)).toBe(0);
    });

    it('answers an experiment after the change day with the drifted hazards', async () => {
      await wh.execute(`CREATE OR REPLACE TABLE planted.assignment AS SELECT user_id, CASE WHEN ${wh.dialect.unitHash(`'arm:' || user_id`)} < 0.5 THEN 'treatment' ELSE 'control' END AS arm FROM planted.users`);
      const answer = await simulateMarketResponse(wh, { assignmentTable: { schema: 'planted', name: 'assignment' }, experimentId: 'after', schema: 'planted', startDate: '2026-06-01', days: 14, seed: 1 });
      const expected = (truth: string) =>
        scalar(`SELECT AVG(1 - exp(-14 * t.daily_purchase_hazard)) FROM planted.assignment a JOIN planted.${truth} t USING (user_id) WHERE a.arm = 'control'`);
      expect(answer.expectedConversion.control).toBeCloseTo(await expected('truth_concept_drift'), 10);
      // Who converts follows the new drivers: mobile users far more often than desktop users.
      const converted = (device: string) =>
        scalar(`SELECT COUNT(o.order_id) / COUNT(*) FROM planted.users u LEFT JOIN planted.orders o ON o.user_id = u.user_id AND starts_with(o.order_id, 'x:after:') WHERE u.device = '${device}'`);
      expect((await converted('mobile')) / (await converted('desktop'))).toBeGreaterThan(1.5);
    });
  });

  describe('calendar, progress and refusals', () => {
    it('takes the period from any two of startDate, endDate and days, and reports its progress', async () => {
      const progress: SimulationProgress[] = [];
      const summary = await generateDataset(wh, { seed: 1, users: 200, schema: 'cal', endDate: '2026-11-30', days: 75 }, { onProgress: (p) => progress.push(p) });
      expect(summary).toMatchObject({ startDate: '2026-09-17', endDate: '2026-11-30', days: 75 });
      expect(progress.map((p) => [p.stage, p.daysDone])).toEqual([['population', 0], ['days', 30], ['days', 60], ['days', 75]]);
      expect(progress.at(-1)).toMatchObject({ days: 75, newestDay: '2026-11-30', rows: summary.rowCounts.sessions + summary.rowCounts.events + summary.rowCounts.orders + summary.rowCounts.ad_spend });
      expect(await wh.query(`SELECT CAST(start_date AS VARCHAR) AS s, CAST(end_date AS VARCHAR) AS e FROM cal.truth_dataset`)).toEqual([{ s: '2026-09-17', e: '2026-11-30' }]);
      expect((await generateDataset(wh, { seed: 1, users: 200, schema: 'cal', endDate: '2026-02-14' })).days).toBe(45);
      await expect(generateDataset(wh, { seed: 1, users: 200, startDate: '2026-01-01', endDate: '2026-03-31', days: 90 })).rejects.toThrow(/days: give at most two/);
      await expect(generateDataset(wh, { seed: 1, users: 200, endDate: '2026-01-05' })).rejects.toThrow(/endDate: must leave 14 to 730 days/);
    });

    it('refuses a gap, a schema without a dataset and a dataset from before its options were recorded', async () => {
      await expect(appendDays(wh, { schema: 'cal', through: '2026-02-20', from: '2026-02-16' })).rejects.toMatchObject({ type: 'SimulatedDaysGap' });
      await expect(appendDays(wh, { schema: 'nowhere', through: '2026-02-20' })).rejects.toMatchObject({ type: 'MissingSimulatedDataset' });
      await wh.execute(`CREATE SCHEMA legacy; CREATE TABLE legacy.truth_dataset AS SELECT 7 AS seed, DATE '2026-01-01' AS start_date, DATE '2026-04-01' AS end_date, 90 AS days`);
      await expect(appendDays(wh, { schema: 'legacy', through: '2026-04-02' })).rejects.toMatchObject({ type: 'LegacySimulatedDataset' });
      await expect(appendDays(wh, { schema: 'cal', through: 'tomorrow' })).rejects.toMatchObject({ type: 'InvalidSimulatorOptions' });
    });
  });
});
