import { daysBetween, type SimContext } from '../context';
import { LATENT } from '../model';
import { afterDrift, campaignIdSql, campaignSlotSql, channelSql, deviceSql, usualChannelSql, usualDeviceSql } from '../session-attributes';
import { dayAndTimeSeconds, int, lit, num } from '../sql';

/**
 * Purchases: a Poisson process with the user's daily hazard h, which makes
 * the true probability of at least one order in any N-day window exactly
 * 1 − exp(−h·N) — outside a planted promotion, which multiplies one
 * segment's hazard for a while.
 */
export async function buildWorkOrders(ctx: SimContext): Promise<void> {
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.work('orders')} AS
     ${poissonArrivalsSql(ctx, { rate: 'hazard', fromDay: 0, days: ctx.options.days, stream: 'order', seqOffset: 0 })}`,
  );
  const promotion = ctx.options.promotion;
  if (!promotion) return;
  // The promotion's extra purchases: a second Poisson process at rate (factor − 1)·h over its days, so the
  // segment's total rate there is factor·h; the base orders above are the same rows as without it.
  const fromDay = daysBetween(ctx.options.startDate, promotion.fromDate);
  const toDay = promotion.toDate ? daysBetween(ctx.options.startDate, promotion.toDate) : ctx.options.days;
  await ctx.wh.execute(
    `INSERT INTO ${ctx.work('orders')}
     ${poissonArrivalsSql(ctx, {
       rate: `hazard * ${num(promotion.hazardFactor - 1)}`,
       fromDay,
       days: toDay - fromDay,
       stream: 'promotion-order',
       seqOffset: PROMOTION_SEQ_OFFSET,
       where: `segment = ${lit(promotion.segment)}`,
     })}`,
  );
}

/** Order sequence numbers of promotion purchases start here, so their ids never meet the base orders' */
const PROMOTION_SEQ_OFFSET = 1_000_000;

interface ArrivalProcess {
  /** SQL over the work users' columns: the daily rate */
  readonly rate: string;
  readonly fromDay: number;
  readonly days: number;
  readonly stream: string;
  readonly seqOffset: number;
  readonly where?: string;
}

/**
 * Arrival times of a Poisson process per user are cumulative sums of
 * exponential gaps (in integer nanodays, so the sum is exact and does not
 * depend on how the warehouse parallelises it); the ones inside the span are
 * the orders.
 */
function poissonArrivalsSql(ctx: SimContext, p: ArrivalProcess): string {
  const { random: r } = ctx;
  const days = int(p.days);
  // Enough candidate arrivals that running out is a < 1e-9 event even for the most active buyer.
  const candidates = `CAST(ceil(rate * ${days} + 6 * sqrt(rate * ${days}) + 6) AS BIGINT)`;
  return `WITH rated AS (
       SELECT idx, h, ${p.rate} AS rate FROM ${ctx.work('users')}${p.where ? ` WHERE ${p.where}` : ''}
     ), candidates AS (
       SELECT idx, h, rate, unnest(range(${candidates})) AS k FROM rated
     ), hashed AS (
       SELECT idx, rate, k, ${r.child('h', 'k', p.stream)} AS rh FROM candidates
     ), gaps AS (
       SELECT idx, rate, k, rh, CAST(${r.exponential('rh', 'gap')} * 1e9 AS BIGINT) AS gap FROM hashed
     ), arrivals AS (
       SELECT *, SUM(gap) OVER (PARTITION BY idx ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS arrival FROM gaps
     )
     SELECT idx, k + ${int(p.seqOffset)} AS seq, rh, ${int(p.fromDay)} + CAST(floor(arrival / (rate * 1e9)) AS INTEGER) AS day
     FROM arrivals WHERE arrival < rate * ${days} * 1e9`;
}

/**
 * Sessions: browse sessions (thinned candidates at the user's session rate,
 * raised after the drift date when session_rate drifts) plus one purchase
 * session per order. Channel, device, campaign and the funnel depth of each
 * session are drawn here, once, and reused for events, orders and spend.
 */
export async function buildWorkSessions(ctx: SimContext): Promise<void> {
  const { random: r, options: o } = ctx;
  const u = (stream: string) => r.unit('rh', stream);
  const days = int(o.days);
  const rateBoost = ctx.driftStrength('session_rate');
  const maxFactor = 1 + rateBoost;
  const rateFactor = rateBoost > 0 ? `(CASE WHEN ${afterDrift(ctx, 'session_rate', 'day')} THEN ${num(1 + rateBoost)} ELSE 1 END)` : '1';
  const L = LATENT;

  // Two statements: the first expands each user into candidates (one scan of a small table, so one thread);
  // the second reads the expanded keys and runs in parallel.
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.work('session_keys')} AS
     WITH browse_candidates AS (
       SELECT idx, h, session_rate, m, unnest(range(m)) AS k
       FROM (SELECT idx, h, session_rate, CAST(ceil(2.5 * session_rate * ${days} * ${num(maxFactor)}) AS BIGINT) + 2 AS m FROM ${ctx.work('users')})
     ), browse_hashed AS (
       SELECT idx, session_rate, m, k, ${r.child('h', 'k', 'browse')} AS rh FROM browse_candidates
     ), browse_placed AS (
       SELECT idx, session_rate, m, k, rh, CAST(floor(${u('day')} * ${days}) AS INTEGER) AS day, ${u('keep')} AS u_keep FROM browse_hashed
     )
     SELECT idx, 'browse' AS kind, k AS seq, rh, day FROM browse_placed
     WHERE u_keep * m < session_rate * ${days} * ${rateFactor}
     UNION ALL
     SELECT idx, 'purchase', seq, rh, day FROM ${ctx.work('orders')}`,
  );
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.work('sessions')} AS
     WITH kept AS (SELECT * FROM ${ctx.work('session_keys')}), drawn AS (
       SELECT k.idx, k.kind, k.seq, k.rh, k.day,
              u.user_id, u.market, u.market_idx, u.device AS primary_device, u.favourite_channel, u.consented,
              u.cart_rate, u.page_views_extra_mean,
              ${u('favourite')} AS u_favourite, ${u('channel')} AS u_channel, ${u('primary_device')} AS u_primary_device, ${u('other_device')} AS u_other_device,
              ${u('channel_drift')} AS u_channel_drift, ${u('device_drift')} AS u_device_drift,
              ${u('campaign')} AS u_campaign, ${u('cart')} AS u_cart, ${u('second_cart')} AS u_second_cart, ${u('checkout')} AS u_checkout,
              ${r.exponential('rh', 'page_views')} AS e_page_views,
              ${dayAndTimeSeconds('k.day', u('time_a'), u('time_b'))} AS at_second
       FROM kept k JOIN ${ctx.work('users')} u ON u.idx = k.idx
     ), usual AS (
       SELECT *,
              ${usualChannelSql('u_favourite', 'u_channel', 'favourite_channel')} AS usual_channel,
              ${usualDeviceSql('u_primary_device', 'u_other_device', 'primary_device')} AS usual_device
       FROM drawn
     ), shaped AS (
       SELECT *,
              ${channelSql(ctx, 'day', 'usual_channel', 'u_channel_drift', 'consented')} AS channel,
              ${deviceSql(ctx, 'day', 'usual_device', 'u_device_drift')} AS device,
              ${campaignSlotSql('u_campaign', 'day', o.days)} AS campaign_slot,
              least(1 + CAST(floor(e_page_views * page_views_extra_mean * CASE kind WHEN 'purchase' THEN 0.7 ELSE 1 END) AS INTEGER), ${int(L.maxPageViews)}) AS n_page_view,
              CASE WHEN kind = 'purchase' OR u_cart < cart_rate THEN 1 + CAST(u_second_cart < ${num(L.secondCartAdd)} AS INTEGER) ELSE 0 END AS n_add_to_cart
       FROM usual
     ), funnel AS (
       SELECT *,
              CASE WHEN kind = 'purchase' THEN 1 WHEN n_add_to_cart > 0 AND u_checkout < ${num(L.checkoutGivenCart)} THEN 1 ELSE 0 END AS n_begin_checkout,
              CASE WHEN kind = 'purchase' THEN 1 ELSE 0 END AS n_purchase
       FROM shaped
     )
     SELECT idx, kind, seq, rh, day, user_id, market, market_idx, channel, device, campaign_slot,
            ${campaignIdSql('channel', 'market', 'campaign_slot')} AS campaign_id,
            CASE kind WHEN 'browse' THEN concat('s', idx, '-', seq) ELSE concat('s', idx, '-p', seq) END AS session_id,
            n_page_view, n_add_to_cart, n_begin_checkout, n_purchase,
            -- Seconds since the period start; a purchase session starts early enough for its funnel to end at the order.
            CASE WHEN kind = 'purchase' THEN at_second END AS order_second,
            at_second - CASE WHEN kind = 'purchase' THEN (n_page_view + n_add_to_cart + n_begin_checkout) * 40 + 20 ELSE 0 END AS start_second
     FROM funnel`,
    ctx.params,
  );
}
