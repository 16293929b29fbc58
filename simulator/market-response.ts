import { addDaysIso } from '../domain/dates';
import { NonRetryableError } from '../domain/errors';
import type { SqlParams } from '../warehouse/params';
import type { Warehouse } from '../warehouse/warehouse';
import { daysBetween } from './calendar';
import { assertDuckDb } from './context';
import { loadedAfter } from './faults';
import { LATENT } from './model';
import { marketResponseOptionsSchema, parseOptions, type MarketResponseOptions } from './options';
import { fnv1a32, SqlRandom } from './random';
import {
  campaignIdSql,
  campaignSlotSql,
  channelSql,
  deviceSql,
  orderValueFactorSql,
  usualChannelSql,
  usualDeviceSql,
  type DriftPlan,
} from './session-attributes';
import { dayAndTimeSeconds, int, num, timestampAt } from './sql';
import { smallTableSelect } from './stages/truth';
import { SOURCE_TABLES } from './tables';

export interface MarketResponseSummary {
  readonly experimentId: string;
  readonly schema: string;
  /** [from, to) */
  readonly window: { readonly from: string; readonly to: string };
  readonly upliftAbsolute: number;
  readonly assigned: { readonly control: number; readonly treatment: number };
  /** Users with at least one order in the window (history and experiment orders together) */
  readonly converters: { readonly control: number; readonly treatment: number };
  /** The true conversion probabilities averaged over each arm */
  readonly expectedConversion: { readonly control: number; readonly treatment: number };
  /** Assigned users left out: not in truth_users, or without one arm of control | treatment; they get no orders */
  readonly unknownUsers: number;
  readonly ordersWritten: number;
}

interface DatasetFacts {
  readonly startDate: string;
  readonly days: number;
  readonly driftFromDate: string | null;
  readonly driftFeatures: readonly string[];
  readonly driftStrength: number;
  readonly plantedUplift: number | null;
  /** First day of concept drift, when the dataset has one (truth_concept_drift holds the hazards from then on) */
  readonly conceptFromDate: string | null;
}

/**
 * The market reacting to an experiment: every assigned user converts in the
 * window [startDate, startDate + days) with their true probability
 * 1 − exp(−h·days), plus the planted absolute uplift in the treatment arm.
 * Converters get one order (with its session and funnel events) written to
 * the source tables under ids keyed by the experiment, so a rerun deletes
 * and rewrites exactly the same rows. Where the window overlaps the
 * generated history, users who already ordered there count as converted and
 * the others convert with the conditional probability that keeps each
 * user's total at the target.
 */
export async function simulateMarketResponse(wh: Warehouse, input: MarketResponseOptions): Promise<MarketResponseSummary> {
  assertDuckDb(wh);
  const o = parseOptions(marketResponseOptionsSchema, input, 'simulateMarketResponse options');
  const d = wh.dialect;
  const t = (name: string) => d.table({ schema: o.schema, name });
  const facts = await readDatasetFacts(wh, o.schema);
  const uplift = o.upliftAbsolute ?? facts.plantedUplift ?? 0.02;
  const windowEnd = addDaysIso(o.startDate, o.days);
  const datasetEnd = addDaysIso(facts.startDate, facts.days);
  const overlapFrom = o.startDate < facts.startDate ? facts.startDate : o.startDate;
  const overlapTo = windowEnd < datasetEnd ? windowEnd : datasetEnd;
  const offsetDays = daysBetween(facts.startDate, o.startDate);
  const drift: DriftPlan = {
    driftFromDay: facts.driftFromDate ? daysBetween(facts.startDate, facts.driftFromDate) : null,
    driftStrength: (feature) => (facts.driftFeatures.includes(feature) ? facts.driftStrength : 0),
  };
  const r = new SqlRandom(o.seed);
  const stream = (name: string) => `market:${o.experimentId}:${name}`;
  const u = (name: string) => r.unit('rh', stream(name));
  const work = t(`sim_work_market_${fnv1a32(o.experimentId).toString(16)}`);
  const windowStartEpoch = Date.parse(`${o.startDate}T00:00:00Z`) / 1000;
  const at = (seconds: string) => timestampAt(windowStartEpoch, seconds);
  const params: SqlParams = { prefix: `x:${o.experimentId}:`, window_from: o.startDate, window_to: windowEnd };

  for (const table of ['orders', 'events', 'sessions'] as const) {
    const key = SOURCE_TABLES[table].key[0];
    await wh.execute(`DELETE FROM ${t(table)} WHERE starts_with(${d.quote(key)}, @prefix)`, params);
  }

  // Geo tests: one log-normal factor per region and experiment (mean 1), from streams of their own.
  const noise = o.regionNoise;
  const regionFactor = noise ? `exp(${num(noise.sd)} * region_z - ${num((noise.sd * noise.sd) / 2)})` : null;
  const windowProbability = regionFactor
    ? `least(1, (1 - exp(-${exposureSql(facts, o.startDate, windowEnd)})) * ${regionFactor})`
    : `(1 - exp(-${exposureSql(facts, o.startDate, windowEnd)}))`;
  const target = `greatest(0, least(1, ${windowProbability} + CASE WHEN arm = 'treatment' THEN ${num(uplift)} ELSE 0 END))`;
  const overlapProbability = `(1 - exp(-${exposureSql(facts, overlapFrom, overlapTo)}))`;
  const concept = facts.conceptFromDate === null ? null : t('truth_concept_drift');
  try {
    await wh.execute(
      `CREATE OR REPLACE TABLE ${work} AS
       WITH assigned AS (
         SELECT CAST(${d.quote('user_id')} AS VARCHAR) AS user_id, MIN(CAST(${d.quote('arm')} AS VARCHAR)) AS arm
         FROM ${d.table(o.assignmentTable)}
         WHERE ${d.quote('arm')} IN ('control', 'treatment')
         GROUP BY 1 HAVING COUNT(DISTINCT ${d.quote('arm')}) = 1
       ), history_converters AS (
         SELECT DISTINCT user_id FROM ${t('orders')}
         WHERE NOT starts_with(order_id, 'x:') AND order_ts >= CAST(@window_from AS TIMESTAMP) AND order_ts < CAST(@window_to AS TIMESTAMP)
       ), known AS (
         SELECT a.user_id, a.arm, tu.market, tu.daily_purchase_hazard AS hazard,
                ${concept ? 'tc.daily_purchase_hazard' : 'tu.daily_purchase_hazard'} AS concept_hazard, tu.avg_order_value, tu.return_rate,
                tu.favourite_channel, tu.primary_device, tu.consented,
                hc.user_id IS NOT NULL AS converted_in_history,
                CAST(('0x' || substr(md5(a.user_id), 1, 8)) AS UBIGINT) AS user_key
         FROM assigned a
         JOIN ${t('truth_users')} tu ON tu.user_id = a.user_id
         ${concept ? `JOIN ${concept} tc ON tc.user_id = a.user_id` : ''}
         LEFT JOIN history_converters hc ON hc.user_id = a.user_id
       ), hashed AS (
         SELECT *, ${r.root(stream('user'), 'user_key')} AS rh FROM known
       )${
         noise
           ? `, regional AS (
         SELECT h.*, ${r.normal(r.root(stream('region'), "CAST(('0x' || substr(md5(COALESCE(CAST(ur.region AS VARCHAR), '')), 1, 8)) AS UBIGINT)"), stream('region_noise'))} AS region_z
         FROM hashed h LEFT JOIN (SELECT DISTINCT CAST(user_id AS VARCHAR) AS user_id, region FROM ${d.table(noise.table)}) ur ON ur.user_id = h.user_id
       )`
           : ''
       }, decided AS (
         SELECT *, ${target} AS p_target,
                CASE WHEN converted_in_history THEN 0
                     ELSE greatest(0, least(1, (${target} - ${overlapProbability}) / (1 - ${overlapProbability}))) END AS p_new_order,
                ${u('convert')} AS u_convert,
                CAST(floor(${u('day')} * ${int(o.days)}) AS INTEGER) AS window_day,
                ${u('time_a')} AS u_time_a, ${u('time_b')} AS u_time_b,
                ${u('favourite')} AS u_favourite, ${u('channel')} AS u_channel, ${u('channel_drift')} AS u_channel_drift,
                ${u('primary_device')} AS u_primary_device, ${u('other_device')} AS u_other_device, ${u('device_drift')} AS u_device_drift,
                ${u('campaign')} AS u_campaign, ${r.normal('rh', stream('revenue'))} AS z_revenue,
                ${u('margin')} AS u_margin, ${u('returned')} AS u_returned
         FROM ${noise ? 'regional' : 'hashed'}
       ), placed AS (
         SELECT *, window_day + ${int(offsetDays)} AS day,
                u_convert < p_new_order AS orders_now,
                ${dayAndTimeSeconds('window_day', 'u_time_a', 'u_time_b')} AS order_second,
                ${usualChannelSql('u_favourite', 'u_channel', 'favourite_channel')} AS usual_channel,
                ${usualDeviceSql('u_primary_device', 'u_other_device', 'primary_device')} AS usual_device
         FROM decided
       ), shaped AS (
         SELECT *,
                ${channelSql(drift, 'day', 'usual_channel', 'u_channel_drift', 'consented')} AS channel,
                ${deviceSql(drift, 'day', 'usual_device', 'u_device_drift')} AS device,
                ${campaignSlotSql('u_campaign', 'day')} AS campaign_slot
         FROM placed
       )
       SELECT user_id, arm, p_target, converted_in_history, orders_now, market, channel, device, rh, order_second,
              ${campaignIdSql('channel', 'market', 'campaign_slot')} AS campaign_id,
              round(avg_order_value * exp(${num(LATENT.orderValueNoise)} * z_revenue - ${num(LATENT.orderValueNoise ** 2 / 2)}) * ${orderValueFactorSql(drift, 'day')}, 2) AS revenue,
              u_margin, u_returned < return_rate AS returned
       FROM shaped`,
      params,
    );

    const buyers = `(SELECT * FROM ${work} WHERE orders_now)`;
    const id = `concat(@prefix, b.user_id)`;
    // The funnel of the order's session: page view, cart, checkout, then the purchase at the order time.
    const funnelSeconds = 140;
    await wh.execute(
      `INSERT INTO ${t('sessions')} (session_id, user_id, started_at, channel, campaign_id, device, market)
       SELECT ${id}, b.user_id, ${at(`b.order_second - ${funnelSeconds}`)}, b.channel, b.campaign_id, b.device, b.market FROM ${buyers} b`,
      params,
    );
    await wh.execute(
      `INSERT INTO ${t('events')} (event_id, user_id, session_id, event_type, event_ts, channel, loaded_at)
       SELECT concat(${id}, ':', j), b.user_id, ${id},
              ['page_view', 'add_to_cart', 'begin_checkout', 'purchase'][j + 1],
              ${at(`b.order_second - ${funnelSeconds} + CASE WHEN j = 3 THEN ${funnelSeconds} ELSE j * 40 END`)}, b.channel,
              ${at(`b.order_second - ${funnelSeconds} + CASE WHEN j = 3 THEN ${funnelSeconds} ELSE j * 40 END + ${loadedAfter(r, 'b.rh', stream('event_load'))}`)}
       FROM ${buyers} b CROSS JOIN (VALUES (0), (1), (2), (3)) f(j)`,
      params,
    );
    await wh.execute(
      `INSERT INTO ${t('orders')} (order_id, user_id, order_ts, channel, market, revenue, margin, returned, loaded_at)
       SELECT ${id}, b.user_id, ${at('b.order_second')}, b.channel, b.market, b.revenue,
              round(b.revenue * (${num(LATENT.marginRate[0])} + ${num(LATENT.marginRate[1] - LATENT.marginRate[0])} * b.u_margin), 2),
              b.returned, ${at(`b.order_second + ${loadedAfter(r, 'b.rh', stream('order_load'))}`)}
       FROM ${buyers} b`,
      params,
    );

    // Probabilities are summed as integers (picounits) so the recorded truth does not depend on summation order.
    const [stats] = await wh.query<Record<string, number>>(
      `SELECT COUNT(*) FILTER (WHERE arm = 'control') AS control_users,
              COUNT(*) FILTER (WHERE arm = 'treatment') AS treatment_users,
              COUNT(*) FILTER (WHERE arm = 'control' AND (orders_now OR converted_in_history)) AS control_converters,
              COUNT(*) FILTER (WHERE arm = 'treatment' AND (orders_now OR converted_in_history)) AS treatment_converters,
              COALESCE(SUM(CAST(round(p_target * 1e12) AS BIGINT)) FILTER (WHERE arm = 'control'), 0) AS control_p,
              COALESCE(SUM(CAST(round(p_target * 1e12) AS BIGINT)) FILTER (WHERE arm = 'treatment'), 0) AS treatment_p,
              COUNT(*) FILTER (WHERE orders_now) AS orders_written,
              (SELECT COUNT(DISTINCT ${d.quote('user_id')}) FROM ${d.table(o.assignmentTable)}) AS assigned_users
       FROM ${work}`,
    );
    const n = (key: string) => Number(stats?.[key] ?? 0);
    const mean = (sum: string, count: string) => (n(count) > 0 ? n(sum) / 1e12 / n(count) : 0);
    const summary: MarketResponseSummary = {
      experimentId: o.experimentId,
      schema: o.schema,
      window: { from: o.startDate, to: windowEnd },
      upliftAbsolute: uplift,
      assigned: { control: n('control_users'), treatment: n('treatment_users') },
      converters: { control: n('control_converters'), treatment: n('treatment_converters') },
      expectedConversion: { control: mean('control_p', 'control_users'), treatment: mean('treatment_p', 'treatment_users') },
      unknownUsers: n('assigned_users') - n('control_users') - n('treatment_users'),
      ordersWritten: n('orders_written'),
    };
    await recordTruth(wh, o.schema, summary, o.days);
    return summary;
  } finally {
    await wh.execute(`DROP TABLE IF EXISTS ${work}`);
  }
}

async function readDatasetFacts(wh: Warehouse, schema: string): Promise<DatasetFacts> {
  if (!(await wh.tableExists({ schema, name: 'truth_dataset' }))) {
    throw new NonRetryableError(
      'MissingSimulatedDataset',
      `no simulated dataset in schema ${schema}: run generateDataset first (the market answers for the users it simulated)`,
    );
  }
  const [row] = await wh.query<{ start_date: Date; days: number; drift_from_date: Date | null; drift_features: string | null; drift_strength: number | null }>(
    `SELECT start_date, days, drift_from_date, drift_features, drift_strength FROM ${wh.dialect.table({ schema, name: 'truth_dataset' })}`,
  );
  if (!row) throw new NonRetryableError('MissingSimulatedDataset', `${schema}.truth_dataset is empty: run generateDataset again`);
  const [effect] = await wh.query<{ value: number }>(
    `SELECT value FROM ${wh.dialect.table({ schema, name: 'truth_effect' })} WHERE metric = 'conversion_uplift_absolute'`,
  );
  const iso = (v: Date) => v.toISOString().slice(0, 10);
  const concept = { schema, name: 'truth_concept_drift' };
  const [conceptFrom] = (await wh.tableExists(concept))
    ? await wh.query<{ from_date: Date | null }>(`SELECT MIN(from_date) AS from_date FROM ${wh.dialect.table(concept)}`)
    : [];
  return {
    startDate: iso(row.start_date),
    days: Number(row.days),
    driftFromDate: row.drift_from_date ? iso(row.drift_from_date) : null,
    driftFeatures: row.drift_features ? row.drift_features.split(',') : [],
    driftStrength: Number(row.drift_strength ?? 0),
    plantedUplift: effect ? Number(effect.value) : null,
    conceptFromDate: conceptFrom?.from_date ? iso(conceptFrom.from_date) : null,
  };
}

/**
 * SQL: a user's expected number of purchases over the days [from, to) —
 * their hazard times the days, with the concept-drift hazard on the days
 * from its first day on — so that 1 − exp(−exposure) is the true
 * probability of at least one order then.
 */
function exposureSql(facts: DatasetFacts, from: string, to: string): string {
  const days = Math.max(0, daysBetween(from, to));
  const before = facts.conceptFromDate === null ? days : Math.min(days, Math.max(0, daysBetween(from, facts.conceptFromDate)));
  return `(hazard * ${int(before)} + concept_hazard * ${int(days - before)})`;
}

/** The experiment's truth row, with the uplift it was answered with; replaced on a rerun. */
async function recordTruth(wh: Warehouse, schema: string, s: MarketResponseSummary, days: number): Promise<void> {
  const d = wh.dialect;
  const experiments = d.table({ schema, name: 'truth_experiments' });
  const empty = smallTableSelect(wh, 'truth_experiments', []);
  await wh.execute(`CREATE TABLE IF NOT EXISTS ${experiments} AS ${empty.sql}`, empty.params);
  await wh.execute(`DELETE FROM ${experiments} WHERE experiment_id = @experiment_id`, { experiment_id: s.experimentId });
  const row = smallTableSelect(wh, 'truth_experiments', [
    {
      experiment_id: s.experimentId,
      start_date: s.window.from,
      days,
      uplift_absolute: s.upliftAbsolute,
      control_users: s.assigned.control,
      treatment_users: s.assigned.treatment,
      expected_control_conversion: s.expectedConversion.control,
      expected_treatment_conversion: s.expectedConversion.treatment,
      control_converters: s.converters.control,
      treatment_converters: s.converters.treatment,
    },
  ]);
  await wh.execute(`INSERT INTO ${experiments} ${row.sql}`, row.params);
}
