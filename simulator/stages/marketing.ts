import type { SimContext } from '../context';
import { sourceTableSelect } from '../faults';
import { CAMPAIGN_CHANNELS, CAMPAIGN_SLOTS, CLICK_LOSS, PAID_CHANNELS, PAID_MEDIA } from '../model';
import { int, lit, lookup, num } from '../sql';

/** One always-on campaign and two flights per market and campaign channel. */
export async function writeCampaigns(ctx: SimContext): Promise<void> {
  const o = ctx.options;
  const half = Math.floor(o.days / 2);
  const markets = o.markets.map((_, k) => `(${int(k)})`).join(', ');
  const channels = CAMPAIGN_CHANNELS.map((c, k) => `(${lit(c)}, ${int(k)})`).join(', ');
  const start = (offset: number) => `CAST(@start_date AS DATE) + ${int(offset)}`;
  const rows = `(
    SELECT m.market_idx, ${ctx.marketOf('m.market_idx')} AS market, c.channel, slot.slot,
           ${lookup('slot.slot', CAMPAIGN_SLOTS.map((name, k) => [int(k), lit(name)] as const))} AS slot_name,
           ${lookup('slot.slot', [[int(0), start(-60)], [int(1), start(0)], [int(2), start(half)]] as const)} AS start_date,
           ${lookup('slot.slot', [[int(0), start(o.days + 60)], [int(1), start(half - 1)], [int(2), start(o.days + 60)]] as const)} AS end_date,
           ${ctx.random.root('campaign', 'm.market_idx * 16 + c.channel_idx * 4 + slot.slot')} AS rh
    FROM (VALUES ${markets}) m(market_idx) CROSS JOIN (VALUES ${channels}) c(channel, channel_idx) CROSS JOIN (VALUES (0), (1), (2)) slot(slot)
  )`;
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.table('campaigns')} AS ${sourceTableSelect(
      ctx,
      'campaigns',
      {
        campaign_id: `'cmp_' || lower(s.market) || '_' || s.channel || '_' || CAST(s.slot AS VARCHAR)`,
        channel: 's.channel',
        market: 's.market',
        name: `s.market || ' ' || s.channel || ' ' || s.slot_name`,
        start_date: 's.start_date',
        end_date: 's.end_date',
      },
      rows,
      'rh',
    )}`,
    ctx.params,
  );
}

/**
 * Daily spend per paid campaign, derived from the sessions it bought:
 * clicks = landed sessions plus the clicks that bounced before landing,
 * impressions from the channel's click-through rate, spend from its cost
 * per click and the market's price level. Only integer counts are
 * aggregated, so the result does not depend on summation order.
 */
export async function writeAdSpend(ctx: SimContext): Promise<void> {
  const r = ctx.random;
  const paid = PAID_CHANNELS.map(lit).join(', ');
  const channelIndex = lookup(
    'channel',
    PAID_CHANNELS.map((c, k) => [lit(c), int(k)] as const),
  );
  const media = (field: 'cpc' | 'ctr') =>
    lookup(
      's.channel',
      PAID_CHANNELS.map((c) => [lit(c), num(PAID_MEDIA[c]![field])] as const),
    );
  const rows = `(
    SELECT *, ${r.child('campaign_hash', 'day', 'spend_day')} AS rh
    FROM (
      SELECT *, ${r.root('spend_campaign', 'campaign_key')} AS campaign_hash
      FROM (
        SELECT day, channel, market, market_idx, campaign_id, COUNT(*) AS sessions,
               market_idx * 16 + ${channelIndex} * 4 + campaign_slot AS campaign_key
        FROM ${ctx.work('sessions')} WHERE channel IN (${paid})
        GROUP BY day, channel, market, market_idx, campaign_id, campaign_slot
      )
    )
  )`;
  // Rounded at random (floor of x + u) so that small campaigns do not lose their bounced clicks to rounding.
  const lostShare = `(${num(CLICK_LOSS[0]!)} + ${num(CLICK_LOSS[1]! - CLICK_LOSS[0]!)} * ${r.unit('s.rh', 'click_loss')})`;
  const clicks = `(s.sessions + CAST(floor(s.sessions * ${lostShare} + ${r.unit('s.rh', 'click_rounding')}) AS BIGINT))`;
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.table('ad_spend')} AS ${sourceTableSelect(
      ctx,
      'ad_spend',
      {
        spend_date: `CAST(@start_date AS DATE) + s.day`,
        channel: 's.channel',
        market: 's.market',
        campaign_id: 's.campaign_id',
        spend: `round(${clicks} * ${media('cpc')} * ${ctx.priceLevelOf('s.market_idx')} * (0.85 + 0.3 * ${r.unit('s.rh', 'cpc')}), 2)`,
        impressions: `CAST(round(${clicks} / (${media('ctr')} * (0.8 + 0.4 * ${r.unit('s.rh', 'ctr')}))) AS BIGINT)`,
        clicks,
      },
      rows,
      'rh',
    )}`,
    ctx.params,
  );
}
