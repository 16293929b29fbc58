import { CHUNK_DAYS, daysBetween, type DayPiece } from '../calendar';
import type { SimContext } from '../context';
import { LATENT } from '../model';
import { afterDrift, campaignIdSql, campaignSlotSql, channelSql, deviceSql, usualChannelSql, usualDeviceSql } from '../session-attributes';
import { dayAndTimeSeconds, int, lit, num } from '../sql';

/** A Poisson process of purchases over the days [fromDay, toDay) (toDay null: no end) */
interface ArrivalProcess {
  /** SQL over the work users' columns: the daily rate */
  readonly rate: string;
  readonly stream: string;
  /** Added to the arrival index: keeps the order ids of different processes apart */
  readonly seqOffset: number;
  readonly where?: string;
  readonly fromDay: number;
  readonly toDay: number | null;
}

/** Order sequence numbers of promotion purchases start here, and those drawn after concept drift twice as far, so no two processes share an id */
const PROMOTION_SEQ_OFFSET = 1_000_000;
const CONCEPT_SEQ_OFFSET = 2_000_000;

/**
 * Purchases: a Poisson process with the user's daily hazard h, which makes
 * the true probability of at least one order in any N-day window exactly
 * 1 − exp(−h·N). Concept drift switches the rate to the drifted hazard from
 * its day on (a second process on its own stream, so the days before are
 * the same rows as without it); a promotion adds a process at
 * (factor − 1)·h for one segment while it runs.
 */
function purchaseProcesses(ctx: SimContext): ArrivalProcess[] {
  const conceptDay = ctx.conceptDriftFromDay;
  const eras =
    conceptDay === null
      ? [{ hazard: 'hazard', prefix: '', offset: 0, fromDay: 0, toDay: null }]
      : [
          { hazard: 'hazard', prefix: '', offset: 0, fromDay: 0, toDay: conceptDay },
          { hazard: 'concept_hazard', prefix: 'concept-', offset: CONCEPT_SEQ_OFFSET, fromDay: conceptDay, toDay: null },
        ];
  const processes: ArrivalProcess[] = eras.map((e) => ({ rate: e.hazard, stream: `${e.prefix}order`, seqOffset: e.offset, fromDay: e.fromDay, toDay: e.toDay }));
  const promotion = ctx.options.promotion;
  if (promotion) {
    const promoFrom = daysBetween(ctx.options.startDate, promotion.fromDate);
    const promoTo = promotion.toDate ? daysBetween(ctx.options.startDate, promotion.toDate) : null;
    for (const e of eras) {
      const span = intersect(promoFrom, promoTo, e.fromDay, e.toDay);
      if (!span) continue;
      processes.push({
        rate: `${e.hazard} * ${num(promotion.hazardFactor - 1)}`,
        stream: `${e.prefix}promotion-order`,
        seqOffset: e.offset + PROMOTION_SEQ_OFFSET,
        where: `segment = ${lit(promotion.segment)}`,
        ...span,
      });
    }
  }
  return processes;
}

/** The overlap of two day ranges (null ends are open), or null when they do not meet */
function intersect(fromA: number, toA: number | null, fromB: number, toB: number | null): { fromDay: number; toDay: number | null } | null {
  const fromDay = Math.max(fromA, fromB);
  const toDay = toA === null ? toB : toB === null ? toA : Math.min(toA, toB);
  return toDay === null || fromDay < toDay ? { fromDay, toDay } : null;
}

/** The piece's purchases, from every process that runs on one of its days. */
export async function buildWorkOrders(ctx: SimContext, piece: DayPiece): Promise<void> {
  const selects = purchaseProcesses(ctx).flatMap((p) => {
    const span = intersect(p.fromDay, p.toDay, piece.fromDay, piece.toDay);
    return span && span.toDay !== null ? [poissonArrivalsSql(ctx, p, piece, { fromDay: span.fromDay, toDay: span.toDay })] : [];
  });
  await ctx.wh.execute(`CREATE OR REPLACE TABLE ${ctx.work('orders')} AS ${selects.join('\nUNION ALL\n')}`);
}

/**
 * Arrival times of a Poisson process per user over the piece's chunk are
 * cumulative sums of exponential gaps (in integer nanodays, so the sum is
 * exact and does not depend on how the warehouse parallelises it); the
 * ones inside the chunk are the orders, and the piece keeps those on its
 * days. The process restarts at every chunk boundary, which a Poisson
 * process may (it has no memory). Most users have no arrival in a chunk:
 * their first gap alone says so, before any candidate is expanded.
 */
function poissonArrivalsSql(ctx: SimContext, p: ArrivalProcess, piece: DayPiece, keep: { fromDay: number; toDay: number }): string {
  const { random: r } = ctx;
  const span = int(CHUNK_DAYS);
  const chunkStart = int(piece.chunk * CHUNK_DAYS);
  // Enough candidate arrivals that running out is a < 1e-9 event even for the most active buyer.
  const candidates = `CAST(ceil(rate * ${span} + 6 * sqrt(rate * ${span}) + 6) AS BIGINT)`;
  const gap = (hash: string) => `CAST(${r.exponential(hash, 'gap')} * 1e9 AS BIGINT)`;
  return `(WITH rated AS (
       SELECT idx, ${p.rate} AS rate, ${r.child('h', int(piece.chunk), `${p.stream}:chunk`)} AS hc FROM ${ctx.work('users')}${p.where ? ` WHERE ${p.where}` : ''}
     ), first_hashed AS (
       SELECT idx, rate, hc, ${r.child('hc', '0', p.stream)} AS rh0 FROM rated
     ), active AS (
       SELECT idx, rate, hc FROM first_hashed WHERE ${gap('rh0')} < rate * ${span} * 1e9
     ), candidate_keys AS (
       SELECT idx, rate, hc, unnest(range(${candidates})) AS k FROM active
     ), hashed AS (
       SELECT idx, rate, k, ${r.child('hc', 'k', p.stream)} AS rh FROM candidate_keys
     ), gaps AS (
       SELECT idx, rate, k, rh, ${gap('rh')} AS gap FROM hashed
     ), arrivals AS (
       SELECT *, SUM(gap) OVER (PARTITION BY idx ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS arrival FROM gaps
     ), placed AS (
       SELECT idx, k + ${int(p.seqOffset)} AS seq, rh, ${chunkStart} + CAST(floor(arrival / (rate * 1e9)) AS INTEGER) AS day
       FROM arrivals WHERE arrival < rate * ${span} * 1e9
     )
     SELECT idx, ${int(piece.chunk)} AS chunk, seq, rh, day FROM placed WHERE day >= ${int(keep.fromDay)} AND day < ${int(keep.toDay)})`;
}

/**
 * Browse sessions of the piece: per user and chunk, candidates placed on a
 * uniformly drawn day and thinned to the user's session rate (raised after
 * the drift date when session_rate drifts).
 */
function browseKeysSql(ctx: SimContext, piece: DayPiece): string {
  const r = ctx.random;
  const u = (stream: string) => r.unit('rh', stream);
  const span = int(CHUNK_DAYS);
  const rateBoost = ctx.driftStrength('session_rate');
  const rateFactor = rateBoost > 0 ? `(CASE WHEN ${afterDrift(ctx, 'session_rate', 'day')} THEN ${num(1 + rateBoost)} ELSE 1 END)` : '1';
  return `WITH browse_users AS (
       SELECT idx, session_rate, CAST(ceil(2.5 * session_rate * ${span} * ${num(1 + rateBoost)}) AS BIGINT) + 2 AS m,
              ${r.child('h', int(piece.chunk), 'browse:chunk')} AS hc
       FROM ${ctx.work('users')}
     ), browse_candidates AS (
       SELECT idx, session_rate, m, hc, unnest(range(m)) AS k FROM browse_users
     ), browse_hashed AS (
       SELECT idx, session_rate, m, k, ${r.child('hc', 'k', 'browse')} AS rh FROM browse_candidates
     ), browse_placed AS (
       SELECT idx, session_rate, m, k, rh, ${int(piece.chunk * CHUNK_DAYS)} + CAST(floor(${u('day')} * ${span}) AS INTEGER) AS day FROM browse_hashed
     ), browse_in_piece AS (
       SELECT * FROM browse_placed WHERE day >= ${int(piece.fromDay)} AND day < ${int(piece.toDay)}
     )
     SELECT idx, ${int(piece.chunk)} AS chunk, 'browse' AS kind, k AS seq, rh, day FROM browse_in_piece
     WHERE ${u('keep')} * m < session_rate * ${span} * ${rateFactor}`;
}

/**
 * Sessions: browse sessions plus one purchase session per order. Channel,
 * device, campaign and the funnel depth of each session are drawn here,
 * once, and reused for events, orders and spend.
 */
export async function buildWorkSessions(ctx: SimContext, piece: DayPiece): Promise<void> {
  const { random: r } = ctx;
  const u = (stream: string) => r.unit('rh', stream);
  const L = LATENT;

  // Two statements: the first expands each user into candidates (one scan of a small table, so one thread);
  // the second reads the expanded keys and runs in parallel.
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.work('session_keys')} AS
     ${browseKeysSql(ctx, piece)}
     UNION ALL
     SELECT idx, chunk, 'purchase', seq, rh, day FROM ${ctx.work('orders')}`,
  );
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.work('sessions')} AS
     WITH kept AS (SELECT * FROM ${ctx.work('session_keys')}), drawn AS (
       SELECT k.idx, k.chunk, k.kind, k.seq, k.rh, k.day,
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
              ${campaignSlotSql('u_campaign', 'day')} AS campaign_slot,
              least(1 + CAST(floor(e_page_views * page_views_extra_mean * CASE kind WHEN 'purchase' THEN 0.7 ELSE 1 END) AS INTEGER), ${int(L.maxPageViews)}) AS n_page_view,
              CASE WHEN kind = 'purchase' OR u_cart < cart_rate THEN 1 + CAST(u_second_cart < ${num(L.secondCartAdd)} AS INTEGER) ELSE 0 END AS n_add_to_cart
       FROM usual
     ), funnel AS (
       SELECT *,
              CASE WHEN kind = 'purchase' THEN 1 WHEN n_add_to_cart > 0 AND u_checkout < ${num(L.checkoutGivenCart)} THEN 1 ELSE 0 END AS n_begin_checkout,
              CASE WHEN kind = 'purchase' THEN 1 ELSE 0 END AS n_purchase
       FROM shaped
     )
     SELECT idx, chunk, kind, seq, rh, day, user_id, market, market_idx, channel, device, campaign_slot,
            ${campaignIdSql('channel', 'market', 'campaign_slot')} AS campaign_id,
            CASE kind WHEN 'browse' THEN concat('s', idx, '-', chunk, '-', seq) ELSE concat('s', idx, '-', chunk, '-p', seq) END AS session_id,
            n_page_view, n_add_to_cart, n_begin_checkout, n_purchase,
            -- Seconds since the period start; a purchase session starts early enough for its funnel to end at the order.
            CASE WHEN kind = 'purchase' THEN at_second END AS order_second,
            at_second - CASE WHEN kind = 'purchase' THEN (n_page_view + n_add_to_cart + n_begin_checkout) * 40 + 20 ELSE 0 END AS start_second
     FROM funnel`,
    ctx.params,
  );
}
