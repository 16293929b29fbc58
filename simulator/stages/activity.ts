import type { SimContext } from '../context';
import { loadedAt, sourceTableSelect } from '../faults';
import { LATENT } from '../model';
import { orderValueFactorSql } from '../session-attributes';
import { daysBetween } from '../calendar';
import { int, num } from '../sql';

/**
 * The piece's rows as they will be stored, in `out_*` work tables (one per
 * source table): every column cast to its contract type, faults applied.
 */
export async function writeSessions(ctx: SimContext): Promise<void> {
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.work('out_sessions')} AS ${sourceTableSelect(
      ctx,
      'sessions',
      {
        session_id: 's.session_id',
        user_id: 's.user_id',
        started_at: ctx.timestampAt('s.start_second'),
        channel: 's.channel',
        campaign_id: 's.campaign_id',
        device: 's.device',
        market: 's.market',
      },
      ctx.work('sessions'),
      'rh',
    )}`,
  );
}

/**
 * Events: each session's funnel expanded into rows — page views, then cart
 * adds, a checkout and, in purchase sessions, the purchase at the order time.
 */
export async function writeEvents(ctx: SimContext): Promise<void> {
  const r = ctx.random;
  const rows = `(
    SELECT concat('e', substr(session_id, 2), '-', j) AS event_id, user_id, session_id,
           CASE WHEN j < n_page_view THEN 'page_view'
                WHEN j < n_page_view + n_add_to_cart THEN 'add_to_cart'
                WHEN j < n_page_view + n_add_to_cart + n_begin_checkout THEN 'begin_checkout'
                ELSE 'purchase' END AS event_type,
           CASE WHEN j = n_events - 1 AND n_purchase = 1 THEN order_second
                ELSE start_second + j * 40 + CAST(floor(${r.unit('rh', 'event_gap')} * 30) AS BIGINT) END AS event_second,
           channel, rh
    FROM (
      SELECT session_id, user_id, channel, start_second, order_second, n_page_view, n_add_to_cart, n_begin_checkout, n_purchase, n_events, j,
             ${r.child('sh', 'j', 'event')} AS rh
      FROM (
        SELECT *, unnest(range(n_events)) AS j
        FROM (SELECT session_id, user_id, channel, start_second, order_second, n_page_view, n_add_to_cart, n_begin_checkout, n_purchase, rh AS sh,
                     n_page_view + n_add_to_cart + n_begin_checkout + n_purchase AS n_events
              FROM ${ctx.work('sessions')})
      )
    )
  )`;
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.work('out_events')} AS ${sourceTableSelect(
      ctx,
      'events',
      {
        event_id: 's.event_id',
        user_id: 's.user_id',
        session_id: 's.session_id',
        event_type: 's.event_type',
        event_ts: ctx.timestampAt('s.event_second'),
        channel: 's.channel',
        loaded_at: loadedAt(ctx, 'events', 's.event_second', 's.rh'),
      },
      rows,
      'rh',
    )}`,
  );
}

/**
 * A planted orders jump: on its day a share of the orders, picked by their
 * own hash, never reaches the source table. The sessions and purchase
 * events stay, as they would when only the order feed broke.
 */
function ordersLostToJump(ctx: SimContext, alias: string): string {
  const jump = ctx.options.jump;
  if (jump?.series !== 'orders') return '';
  const day = daysBetween(ctx.options.startDate, jump.date);
  return ` AND NOT (${alias}.day = ${int(day)} AND ${ctx.random.unit(`${alias}.rh`, 'jump:orders')} >= ${num(jump.factor)})`;
}

/** Orders from purchase sessions: value from the user's order value (shifted after the drift date when order_value drifts). */
export async function writeOrders(ctx: SimContext): Promise<void> {
  const r = ctx.random;
  const L = LATENT;
  const valueFactor = orderValueFactorSql(ctx, 's.day');
  const noise = L.orderValueNoise;
  const rows = `(
    SELECT w.*, u.avg_order_value, u.return_rate FROM ${ctx.work('sessions')} w JOIN ${ctx.work('users')} u ON u.idx = w.idx
    WHERE w.kind = 'purchase'${ordersLostToJump(ctx, 'w')}
  )`;
  // Log-normal noise with mean 1, so a user's average order value is what truth_users says.
  const revenue = `round(s.avg_order_value * exp(${num(noise)} * ${r.normal('s.rh', 'revenue')} - ${num((noise * noise) / 2)}) * ${valueFactor}, 2)`;
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.work('out_orders')} AS ${sourceTableSelect(
      ctx,
      'orders',
      {
        order_id: `concat('o', s.idx, '-', s.chunk, '-', s.seq)`,
        user_id: 's.user_id',
        order_ts: ctx.timestampAt('s.order_second'),
        channel: 's.channel',
        market: 's.market',
        revenue,
        margin: `round(${revenue} * (${num(L.marginRate[0])} + ${num(L.marginRate[1] - L.marginRate[0])} * ${r.unit('s.rh', 'margin')}), 2)`,
        returned: `${r.unit('s.rh', 'returned')} < s.return_rate`,
        loaded_at: loadedAt(ctx, 'orders', 's.order_second', 's.rh'),
      },
      rows,
      'rh',
    )}`,
  );
}
