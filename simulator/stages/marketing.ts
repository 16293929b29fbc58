import type { SimContext } from '../context';
import { sourceTableSelect } from '../faults';
import { daysBetween, FLIGHT_DAYS } from '../calendar';
import { CAMPAIGN_CHANNELS, CLICK_LOSS, PAID_CHANNELS, PAID_MEDIA } from '../model';
import { campaignKeySql } from '../session-attributes';
import { int, lit, lookup, num } from '../sql';

/**
 * Per market and campaign channel: one always-on campaign, and the flights
 * started by the last simulated day (each FLIGHT_DAYS long, back to back).
 * A function of the last day alone, so the table is rewritten whole as days
 * are appended and equals the one a longer generation writes.
 */
export async function writeCampaigns(ctx: SimContext, lastDay: number): Promise<void> {
  const flights = Math.floor(lastDay / FLIGHT_DAYS) + 1;
  const markets = ctx.options.markets.map((_, k) => `(${int(k)})`).join(', ');
  const channels = CAMPAIGN_CHANNELS.map((c, k) => `(${lit(c)}, ${int(k)})`).join(', ');
  const day = (offset: string) => `CAST(@start_date AS DATE) + CAST(${offset} AS INTEGER)`;
  const rows = `(
    SELECT m.market_idx, ${ctx.marketOf('m.market_idx')} AS market, c.channel, slot.slot,
           CASE WHEN slot.slot = 0 THEN 'Always-on' ELSE concat('Flight ', slot.slot) END AS slot_name,
           CASE WHEN slot.slot = 0 THEN ${day('-60')} ELSE ${day(`(slot.slot - 1) * ${int(FLIGHT_DAYS)}`)} END AS start_date,
           CASE WHEN slot.slot = 0 THEN ${day(int(lastDay + 61))} ELSE ${day(`slot.slot * ${int(FLIGHT_DAYS)} - 1`)} END AS end_date,
           ${ctx.random.root('campaign', campaignKeySql('m.market_idx', 'c.channel_idx', 'slot.slot'))} AS rh
    FROM (VALUES ${markets}) m(market_idx) CROSS JOIN (VALUES ${channels}) c(channel, channel_idx)
         CROSS JOIN (SELECT range AS slot FROM range(${int(flights + 1)})) slot
  )`;
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.work('out_campaigns')} AS ${sourceTableSelect(
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

/** SQL: the factor a planted spend jump multiplies its day's spend by (nothing without one). */
function spendJumpFactor(ctx: SimContext, dayExpr: string): string {
  const jump = ctx.options.jump;
  if (jump?.series !== 'spend') return '';
  return ` * CASE WHEN ${dayExpr} = ${int(daysBetween(ctx.options.startDate, jump.date))} THEN ${num(jump.factor)} ELSE 1 END`;
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
               ${campaignKeySql('market_idx', channelIndex, 'campaign_slot')} AS campaign_key
        FROM ${ctx.work('sessions')} WHERE channel IN (${paid})
        GROUP BY day, channel, market, market_idx, campaign_id, campaign_slot
      )
    )
  )`;
  // Rounded at random (floor of x + u) so that small campaigns do not lose their bounced clicks to rounding.
  const lostShare = `(${num(CLICK_LOSS[0]!)} + ${num(CLICK_LOSS[1]! - CLICK_LOSS[0]!)} * ${r.unit('s.rh', 'click_loss')})`;
  const clicks = `(s.sessions + CAST(floor(s.sessions * ${lostShare} + ${r.unit('s.rh', 'click_rounding')}) AS BIGINT))`;
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.work('out_ad_spend')} AS ${sourceTableSelect(
      ctx,
      'ad_spend',
      {
        spend_date: `CAST(@start_date AS DATE) + s.day`,
        channel: 's.channel',
        market: 's.market',
        campaign_id: 's.campaign_id',
        spend: `round(${clicks} * ${media('cpc')} * ${ctx.priceLevelOf('s.market_idx')} * (0.85 + 0.3 * ${r.unit('s.rh', 'cpc')})${spendJumpFactor(ctx, 's.day')}, 2)`,
        impressions: `CAST(round(${clicks} / (${media('ctr')} * (0.8 + 0.4 * ${r.unit('s.rh', 'ctr')}))) AS BIGINT)`,
        clicks,
      },
      rows,
      'rh',
    )}`,
    ctx.params,
  );
}
