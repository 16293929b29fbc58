import { generateDataset, simulateMarketResponse, tableChecksums, truthPropensitySql, type DatasetSummary } from '../simulator';
import { childHash, mix32, rootHash, SqlRandom, unitOf } from '../simulator/random';
import { DuckDbWarehouse } from '../warehouse/duckdb';

const USERS = 20_000;
const SEED = 7;

/** Rank AUC (ties averaged) of a score against a 0/1 label, from a SELECT of (y, p). */
function aucSql(scored: string): string {
  return `
    WITH h AS (${scored}),
    r AS (SELECT y, AVG(rn) OVER (PARTITION BY p) AS rank FROM (SELECT y, p, ROW_NUMBER() OVER (ORDER BY p) AS rn FROM h) x)
    SELECT (SUM(CASE WHEN y = 1 THEN rank ELSE 0 END) - SUM(y) * (SUM(y) + 1) / 2.0) / (SUM(y) * (COUNT(*) - SUM(y))) AS auc FROM r`;
}

/** 1 for users with an order in [from, to) */
function labelSql(from: string, to: string): string {
  return `SELECT u.user_id, CASE WHEN o.user_id IS NULL THEN 0 ELSE 1 END AS y FROM raw.users u
          LEFT JOIN (SELECT DISTINCT user_id FROM raw.orders WHERE order_ts >= TIMESTAMP '${from}' AND order_ts < TIMESTAMP '${to}') o ON o.user_id = u.user_id`;
}

describe('simulator', () => {
  let wh: DuckDbWarehouse;
  let summary: DatasetSummary;
  const scalar = async <T = number>(sql: string): Promise<T> => Object.values((await wh.query(sql))[0]!)[0] as T;

  beforeAll(async () => {
    wh = await DuckDbWarehouse.open(':memory:');
    summary = await generateDataset(wh, { seed: SEED, users: USERS });
  });

  afterAll(async () => {
    await wh?.close();
  });

  describe('randomness', () => {
    it('computes in SQL exactly what the TypeScript reference computes', async () => {
      const r = new SqlRandom(SEED);
      const keys = [0, 1, 2, 12345, 4294967295];
      const rows = await wh.query<{ k: number; root: number; child: number; u: number }>(
        `SELECT k, root, ${r.child('root', 'k', 'kids')} AS child, ${r.unit('root', 'draw')} AS u
         FROM (SELECT k, ${r.root('things', 'k')} AS root FROM (SELECT CAST(unnest([${keys.join(', ')}]) AS UBIGINT) AS k)) ORDER BY k`,
      );
      for (const row of rows) {
        const root = rootHash(SEED, 'things', Number(row.k));
        expect(Number(row.root)).toBe(root);
        expect(Number(row.child)).toBe(childHash(root, Number(row.k), r.salt('kids')));
        expect(row.u).toBe(unitOf(SEED, root, 'draw'));
      }
      expect(new Set(keys.map(mix32)).size).toBe(keys.length);
    });
  });

  describe('determinism', () => {
    it('gives identical tables for the same seed, on another instance and thread count, and on a rerun', async () => {
      const first = await tableChecksums(wh, 'raw');
      const single = await DuckDbWarehouse.open(':memory:', { threads: 1 });
      try {
        await generateDataset(single, { seed: SEED, users: USERS });
        expect(await tableChecksums(single, 'raw')).toEqual(first);
      } finally {
        await single.close();
      }
      await generateDataset(wh, { seed: SEED, users: USERS });
      expect(await tableChecksums(wh, 'raw')).toEqual(first);
      expect(Object.keys(first).sort()).toEqual(Object.keys(summary.rowCounts).sort());
    });

    it('gives different data for a different seed', async () => {
      const other = await DuckDbWarehouse.open(':memory:');
      try {
        await generateDataset(other, { seed: SEED + 1, users: USERS });
        const [a, b] = [await tableChecksums(wh, 'raw'), await tableChecksums(other, 'raw')];
        for (const table of ['users', 'identities', 'sessions', 'events', 'orders', 'ad_spend', 'truth_users', 'truth_propensity']) {
          expect(b[table]).not.toEqual(a[table]);
        }
      } finally {
        await other.close();
      }
    });
  });

  describe('realism', () => {
    it('has plausible row counts and shares', async () => {
      const c = summary.rowCounts;
      expect(c.users).toBe(USERS);
      expect(c.truth_users).toBe(USERS);
      expect(c.truth_propensity).toBe(USERS * 4);
      expect(c.sessions / USERS).toBeGreaterThan(5);
      expect(c.events / c.sessions).toBeGreaterThan(3);
      expect(c.orders / USERS).toBeGreaterThan(0.3);
      expect(c.orders / USERS).toBeLessThan(1.5);
      expect(c.campaigns).toBe(3 * 4 * 3);

      const consentShare = await scalar(`SELECT COUNT(*) FILTER (WHERE c.granted) / COUNT(*) FROM raw.users u LEFT JOIN raw.consent c USING (user_id)`);
      expect(consentShare).toBeGreaterThan(0.82);
      expect(consentShare).toBeLessThan(0.88);
      expect(await scalar(`SELECT COUNT(*) FROM raw.users WHERE user_id NOT IN (SELECT user_id FROM raw.consent)`)).toBeGreaterThan(0);
      expect(await scalar(`SELECT COUNT(*) - COUNT(DISTINCT (user_id, purpose)) FROM raw.consent`)).toBe(0);

      const crmMatch = await scalar(`SELECT COUNT(DISTINCT user_id) FILTER (WHERE identity_type = 'crm_id') / COUNT(DISTINCT user_id) FROM raw.identities`);
      expect(crmMatch).toBeGreaterThan(0.6);
      expect(crmMatch).toBeLessThan(0.95);
      expect(await scalar(`SELECT COUNT(*) - COUNT(DISTINCT (user_id, identity_type, identity_value)) FROM raw.identities`)).toBe(0);

      expect(await scalar(`SELECT COUNT(*) FROM raw.users WHERE email IS NULL OR phone IS NULL OR market IS NULL`)).toBe(0);
      expect(await scalar(`SELECT COUNT(*) FROM raw.users WHERE NOT regexp_matches(email, '^[a-z]+\\.[0-9]+@example\\.(com|net|org)$')`)).toBe(0);
      expect(await scalar(`SELECT COUNT(*) FROM raw.users WHERE NOT regexp_matches(phone, '^\\+(4915[0-9]{9}|336[0-9]{8}|447[0-9]{9})$')`)).toBe(0);

      const channels = await wh.query<{ channel: string; share: number }>(
        `SELECT channel, COUNT(*) / SUM(COUNT(*)) OVER () AS share FROM raw.sessions GROUP BY channel ORDER BY channel`,
      );
      expect(channels.map((r) => r.channel)).toEqual(['display', 'email', 'organic', 'paid_search', 'paid_social']);
      for (const r of channels) expect(r.share).toBeGreaterThan(0.05);
      expect(await scalar(`SELECT COUNT(*) FROM raw.sessions s JOIN raw.truth_users t USING (user_id) WHERE s.channel = 'email' AND NOT t.consented`)).toBe(0);
      expect(await scalar(`SELECT COUNT(*) FROM raw.sessions WHERE (channel = 'organic') <> (campaign_id IS NULL)`)).toBe(0);
    });

    it('keeps events, orders and spend consistent with the sessions', async () => {
      expect(await scalar(`SELECT COUNT(*) FROM raw.events WHERE session_id NOT IN (SELECT session_id FROM raw.sessions)`)).toBe(0);
      expect(await scalar(`SELECT COUNT(*) FROM raw.events WHERE event_type = 'purchase'`)).toBe(summary.rowCounts.orders);
      expect(await scalar(`SELECT COUNT(*) FROM raw.orders WHERE revenue <= 0 OR margin <= 0 OR margin >= revenue`)).toBe(0);
      expect(await scalar(`SELECT COUNT(*) FROM raw.orders WHERE order_ts < TIMESTAMP '2026-01-01' OR order_ts >= TIMESTAMP '2026-04-01'`)).toBe(0);
      expect(await scalar(`SELECT COUNT(*) FROM raw.events WHERE loaded_at < event_ts OR loaded_at > event_ts + INTERVAL 3 HOUR`)).toBe(0);

      const spend = await wh.query<{ channel: string; spend: number; clicks: number; sessions: number; revenue: number }>(
        `SELECT a.channel, a.spend, a.clicks, s.sessions, o.revenue
         FROM (SELECT channel, SUM(spend) AS spend, SUM(clicks) AS clicks FROM raw.ad_spend GROUP BY channel) a
         JOIN (SELECT channel, COUNT(*) AS sessions FROM raw.sessions GROUP BY channel) s USING (channel)
         JOIN (SELECT channel, SUM(revenue) AS revenue FROM raw.orders GROUP BY channel) o USING (channel)
         ORDER BY a.channel`,
      );
      expect(spend.map((r) => r.channel)).toEqual(['display', 'paid_search', 'paid_social']);
      for (const r of spend) {
        expect(r.spend).toBeGreaterThan(0);
        expect(r.clicks / r.sessions).toBeGreaterThan(1.05);
        expect(r.clicks / r.sessions).toBeLessThan(1.2);
        const roas = r.revenue / r.spend;
        expect(roas).toBeGreaterThan(1);
        expect(roas).toBeLessThan(8);
      }
      const mer = await scalar(`SELECT (SELECT SUM(revenue) FROM raw.orders) / (SELECT SUM(spend) FROM raw.ad_spend)`);
      expect(mer).toBeGreaterThan(2);
      expect(mer).toBeLessThan(12);
    });
  });

  describe('ground truth', () => {
    it('predicts purchases: oracle AUC in range, behaviour from an earlier window learnable but below it', async () => {
      const label = labelSql('2026-03-04', '2026-03-18');
      const oracle = await scalar(
        aucSql(`SELECT l.y, t.propensity AS p FROM (${label}) l JOIN raw.truth_propensity t ON t.user_id = l.user_id AND t.window_days = 14`),
      );
      expect(oracle).toBeGreaterThan(0.7);
      expect(oracle).toBeLessThan(0.95);

      const viaHelper = await scalar(aucSql(`SELECT l.y, t.propensity AS p FROM (${label}) l JOIN (${truthPropensitySql(wh, 14)}) t USING (user_id)`));
      expect(viaHelper).toBeCloseTo(oracle, 10);

      // A hand-made score from the 56 days before: what a model could learn.
      const behaviour = await scalar(
        aucSql(`
          WITH s AS (SELECT user_id, COUNT(*) AS n FROM raw.sessions WHERE started_at >= TIMESTAMP '2026-01-07' AND started_at < TIMESTAMP '2026-03-04' GROUP BY 1),
               c AS (SELECT user_id, COUNT(*) AS n FROM raw.events WHERE event_type = 'add_to_cart' AND event_ts >= TIMESTAMP '2026-01-07' AND event_ts < TIMESTAMP '2026-03-04' GROUP BY 1),
               o AS (SELECT user_id, COUNT(*) AS n FROM raw.orders WHERE order_ts < TIMESTAMP '2026-03-04' GROUP BY 1)
          SELECT l.y, ln(1 + COALESCE(s.n, 0)) + 0.5 * COALESCE(c.n, 0) + COALESCE(o.n, 0) AS p
          FROM (${label}) l LEFT JOIN s USING (user_id) LEFT JOIN c USING (user_id) LEFT JOIN o USING (user_id)`),
      );
      expect(behaviour).toBeGreaterThan(0.65);
      expect(behaviour).toBeLessThan(oracle);
    });

    it('realises the propensity it states: conversion in a window matches the mean truth', async () => {
      const [row] = await wh.query<{ realised: number; expected: number }>(
        `SELECT AVG(l.y) AS realised, AVG(t.propensity) AS expected
         FROM (${labelSql('2026-02-01', '2026-03-03')}) l JOIN raw.truth_propensity t ON t.user_id = l.user_id AND t.window_days = 30`,
      );
      expect(Math.abs(row!.realised - row!.expected)).toBeLessThan(0.01);
    });

    it('records the planted effect and the dataset it belongs to', async () => {
      expect(await wh.query(`SELECT metric, value FROM raw.truth_effect`)).toEqual([{ metric: 'conversion_uplift_absolute', value: 0.02 }]);
      const [dataset] = await wh.query<{ seed: number; users: number; days: number; markets: string }>(`SELECT seed, users, days, markets FROM raw.truth_dataset`);
      expect(dataset).toEqual({ seed: SEED, users: USERS, days: 90, markets: 'DE,FR,UK' });
      expect(summary.rowCounts.truth_drift).toBe(0);
      expect(summary.rowCounts.truth_faults).toBe(0);
    });
  });

  describe('drift and faults', () => {
    let drifted: DuckDbWarehouse;

    beforeAll(async () => {
      drifted = await DuckDbWarehouse.open(':memory:');
      await generateDataset(drifted, {
        seed: 11,
        users: USERS,
        schema: 'sim',
        drift: { fromDate: '2026-02-15', features: ['channel_mix', 'order_value'], strength: 0.5 },
        faults: { nullRate: { 'users.email': 0.03, 'events.channel': 0.02 }, duplicateRate: 0.02, lateRowRate: 0.05 },
      });
    });

    afterAll(async () => {
      await drifted?.close();
    });

    const byPeriod = async (sql: string) => {
      const rows = await drifted.query<{ after: boolean; v: number }>(sql);
      const before = rows.find((r) => !r.after)!.v;
      const after = rows.find((r) => r.after)!.v;
      return { before, after, ratio: after / before };
    };

    it('shifts exactly the named features after fromDate and records them', async () => {
      const social = await byPeriod(
        `SELECT started_at >= TIMESTAMP '2026-02-15' AS after, AVG(CASE WHEN channel = 'paid_social' THEN 1 ELSE 0 END) AS v FROM sim.sessions GROUP BY 1`,
      );
      expect(social.ratio).toBeGreaterThan(1.8);
      const orderValue = await byPeriod(`SELECT order_ts >= TIMESTAMP '2026-02-15' AS after, AVG(revenue) AS v FROM sim.orders GROUP BY 1`);
      expect(orderValue.ratio).toBeGreaterThan(1.35);
      expect(orderValue.ratio).toBeLessThan(1.65);

      // Not shifted: device mix, session volume per day, cart rate.
      const mobile = await byPeriod(
        `SELECT started_at >= TIMESTAMP '2026-02-15' AS after, AVG(CASE WHEN device = 'mobile' THEN 1 ELSE 0 END) AS v FROM sim.sessions GROUP BY 1`,
      );
      expect(Math.abs(mobile.ratio - 1)).toBeLessThan(0.03);
      const perDay = await byPeriod(
        `SELECT started_at >= TIMESTAMP '2026-02-15' AS after, COUNT(DISTINCT session_id) / COUNT(DISTINCT CAST(started_at AS DATE)) AS v FROM sim.sessions GROUP BY 1`,
      );
      expect(Math.abs(perDay.ratio - 1)).toBeLessThan(0.05);
      const carts = await byPeriod(
        `SELECT event_ts >= TIMESTAMP '2026-02-15' AS after, AVG(CASE WHEN event_type = 'add_to_cart' THEN 1 ELSE 0 END) AS v FROM sim.events GROUP BY 1`,
      );
      expect(Math.abs(carts.ratio - 1)).toBeLessThan(0.05);

      const truth = await drifted.query<{ feature: string; from_date: Date; source_column: string }>(
        `SELECT feature, from_date, source_column FROM sim.truth_drift ORDER BY feature`,
      );
      expect(truth.map((t) => [t.feature, t.from_date.toISOString().slice(0, 10), t.source_column])).toEqual([
        ['channel_mix', '2026-02-15', 'sessions.channel'],
        ['order_value', '2026-02-15', 'orders.revenue'],
      ]);
    });

    it('plants nulls, duplicates and late rows at the requested rates', async () => {
      const q = async (sql: string) => Object.values((await drifted.query(sql))[0]!)[0] as number;
      expect(await q(`SELECT AVG(CASE WHEN email IS NULL THEN 1 ELSE 0 END) FROM sim.users`)).toBeCloseTo(0.03, 2);
      expect(await q(`SELECT COUNT(*) FROM sim.users WHERE phone IS NULL`)).toBe(0);
      expect(await q(`SELECT AVG(CASE WHEN channel IS NULL THEN 1 ELSE 0 END) FROM sim.events`)).toBeCloseTo(0.02, 2);
      for (const [table, key] of [['sessions', 'session_id'], ['events', 'event_id'], ['orders', 'order_id']]) {
        const duplicateShare = await q(`SELECT 1 - COUNT(DISTINCT ${key}) / COUNT(*) FROM sim.${table}`);
        expect(duplicateShare).toBeGreaterThan(0.014);
        expect(duplicateShare).toBeLessThan(0.026);
        // Duplicates are exact copies, as an at-least-once loader delivers them.
        expect(await q(`SELECT COUNT(DISTINCT ${key}) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM sim.${table})) FROM sim.${table}`)).toBe(0);
      }
      expect(await q(`SELECT AVG(CASE WHEN loaded_at > event_ts + INTERVAL 1 DAY THEN 1 ELSE 0 END) FROM sim.events`)).toBeCloseTo(0.05, 2);
      expect(await q(`SELECT AVG(CASE WHEN loaded_at > order_ts + INTERVAL 1 DAY THEN 1 ELSE 0 END) FROM sim.orders`)).toBeGreaterThan(0.035);
      expect(await q(`SELECT COUNT(*) FROM sim.truth_faults`)).toBe(2 + 3 + 2);
    });
  });

  describe('promotion', () => {
    // The base dataset above, with new customers buying five times as often for two weeks.
    const promotion = { fromDate: '2026-02-01', toDate: '2026-02-15', segment: 'new', hazardFactor: 5 } as const;

    beforeAll(async () => {
      await generateDataset(wh, { seed: SEED, users: USERS, schema: 'promo', promotion });
    });

    const ordersBy = (schema: string) =>
      wh.query<{ inside: boolean; is_new: boolean; n: number; h: string }>(
        `SELECT o.order_ts >= TIMESTAMP '2026-02-01' AND o.order_ts < TIMESTAMP '2026-02-15' AS inside, t.segment = 'new' AS is_new,
                COUNT(*) AS n, CAST(SUM(CAST(hash(o) AS HUGEINT)) AS VARCHAR) AS h
         FROM ${schema}.orders o JOIN ${schema}.truth_users t USING (user_id) GROUP BY ALL ORDER BY ALL`,
      );

    it('adds purchases for the promoted segment inside its dates only, leaving every other order as it was', async () => {
      const [base, promoted] = await Promise.all([ordersBy('raw'), ordersBy('promo')]);
      const cell = (rows: typeof base, inside: boolean, isNew: boolean) => rows.find((r) => r.inside === inside && r.is_new === isNew)!;
      for (const [inside, isNew] of [[false, false], [false, true], [true, false]] as const) {
        expect(cell(promoted, inside, isNew)).toEqual(cell(base, inside, isNew));
      }
      const ratio = Number(cell(promoted, true, true).n) / Number(cell(base, true, true).n);
      expect(ratio).toBeGreaterThan(4);
      expect(ratio).toBeLessThan(6);
    });

    it('refuses dates before the period or in the wrong order, naming the field', async () => {
      await expect(generateDataset(wh, { seed: 1, users: 100, promotion: { ...promotion, toDate: '2026-01-20' } })).rejects.toThrow(/promotion\.toDate: must come after fromDate/);
      await expect(generateDataset(wh, { seed: 1, users: 100, promotion: { ...promotion, fromDate: '2025-12-01', toDate: undefined } })).rejects.toThrow(/promotion\.fromDate: must not come before/);
      await expect(generateDataset(wh, { seed: 1, users: 100, promotion: { ...promotion, hazardFactor: 1 } })).rejects.toThrow(/promotion\.hazardFactor/);
    });
  });

  describe('market response', () => {
    const experiment = { assignmentTable: { schema: 'lab', name: 'assignment' }, experimentId: 'exp_demo-1', startDate: '2026-04-01', days: 14, seed: 42 };

    beforeAll(async () => {
      await wh.execute(`CREATE SCHEMA IF NOT EXISTS lab`);
      await wh.execute(
        `CREATE OR REPLACE TABLE lab.assignment AS
         SELECT user_id, CASE WHEN ${wh.dialect.unitHash(`'arm:' || user_id`)} < 0.5 THEN 'treatment' ELSE 'control' END AS arm FROM raw.users`,
      );
    });

    it('is idempotent: a second run leaves identical tables', async () => {
      const before = await tableChecksums(wh, 'raw');
      const first = await simulateMarketResponse(wh, experiment);
      const once = await tableChecksums(wh, 'raw');
      const second = await simulateMarketResponse(wh, experiment);
      expect(await tableChecksums(wh, 'raw')).toEqual(once);
      expect(second).toEqual(first);
      for (const table of ['orders', 'events', 'sessions', 'truth_experiments']) expect(once[table]).not.toEqual(before[table]);
      expect(first.assigned.control + first.assigned.treatment).toBe(USERS);
      expect(first.unknownUsers).toBe(0);
    });

    it('answers with the planted uplift', async () => {
      const s = await simulateMarketResponse(wh, experiment);
      const arms = await wh.query<{ arm: string; n: number; converted: number }>(
        `SELECT a.arm, COUNT(*) AS n, COUNT(o.user_id) AS converted FROM lab.assignment a
         LEFT JOIN (SELECT DISTINCT user_id FROM raw.orders WHERE order_ts >= TIMESTAMP '2026-04-01' AND order_ts < TIMESTAMP '2026-04-15') o USING (user_id)
         GROUP BY a.arm ORDER BY a.arm`,
      );
      const [control, treatment] = arms.map((a) => ({ rate: a.converted / a.n, n: a.n }));
      const diff = treatment!.rate - control!.rate;
      const se = Math.sqrt((control!.rate * (1 - control!.rate)) / control!.n + (treatment!.rate * (1 - treatment!.rate)) / treatment!.n);
      expect(Math.abs(diff - 0.02)).toBeLessThan(3 * se);
      expect(s.expectedConversion.treatment - s.expectedConversion.control).toBeGreaterThan(0.01);
      expect(await wh.query(`SELECT value FROM raw.truth_effect WHERE metric = 'conversion_uplift_absolute'`)).toEqual([{ value: 0.02 }]);
      expect(await scalar(`SELECT COUNT(*) FROM raw.truth_experiments WHERE experiment_id = 'exp_demo-1'`)).toBe(1);
    });

    it('keeps each user at the target probability when the window overlaps the history', async () => {
      const overlap = await simulateMarketResponse(wh, { ...experiment, experimentId: 'exp_overlap', startDate: '2026-03-10', upliftAbsolute: 0.05 });
      const rate = (arm: 'control' | 'treatment') => overlap.converters[arm] / overlap.assigned[arm];
      // Control users keep the history they had; only treatment users gain orders.
      expect(rate('treatment') - rate('control')).toBeGreaterThan(0.03);
      expect(await scalar(`SELECT COUNT(*) FROM raw.orders o JOIN lab.assignment a USING (user_id) WHERE starts_with(o.order_id, 'x:exp_overlap:') AND a.arm = 'control'`)).toBe(0);
      // The dataset's planted effect stays; the experiment's own uplift is in truth_experiments.
      expect(await scalar(`SELECT value FROM raw.truth_effect WHERE metric = 'conversion_uplift_absolute'`)).toBe(0.02);
      expect(await scalar(`SELECT uplift_absolute FROM raw.truth_experiments WHERE experiment_id = 'exp_overlap'`)).toBe(0.05);
    });

    it('fails fast on bad input, naming the fields', async () => {
      await expect(generateDataset(wh, { seed: -1, users: 5, markets: ['de'], drift: { fromDate: '2027-01-01', features: [] } } as never)).rejects.toMatchObject({
        type: 'InvalidSimulatorOptions',
        message: expect.stringMatching(/seed:.*users:.*markets\.0:.*drift\.features:/s),
      });
      await expect(generateDataset(wh, { seed: 1, faults: { nullRate: { 'users.user_id': 0.1 } } })).rejects.toThrow(/faults\.nullRate\.users\.user_id/);
      await expect(simulateMarketResponse(wh, { ...experiment, experimentId: 'a:b' })).rejects.toThrow(/experimentId/);
      await expect(simulateMarketResponse(wh, { ...experiment, schema: 'nowhere' })).rejects.toMatchObject({ type: 'MissingSimulatedDataset' });
    });
  });
});
