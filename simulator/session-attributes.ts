import { ALWAYS_ON_SHARE, CAMPAIGN_CHANNELS, CHANNEL_MIX, DEVICES, FAVOURITE_CHANNEL_SHARE, PRIMARY_DEVICE_SHARE } from './model';
import { FLIGHT_DAYS } from './calendar';
import { categorical, int, lit, num } from './sql';

/**
 * How a session's channel, device and campaign are drawn — shared by the
 * generated history and by the market's answer to an experiment, so both
 * follow the same mix (and the same drift). Arguments are column names of
 * uniforms and traits; `day` counts days from the dataset's start date.
 */
export interface DriftPlan {
  /** Day index (from the dataset start) where drift begins, or null without drift */
  readonly driftFromDay: number | null;
  /** The drift strength of a feature, or 0 when it is not shifted */
  driftStrength(feature: string): number;
}

export function afterDrift(drift: DriftPlan, feature: string, day: string): string {
  return drift.driftStrength(feature) > 0 && drift.driftFromDay !== null ? `(${day} >= ${int(drift.driftFromDay)})` : 'FALSE';
}

/** The channel a user would come through: their favourite one or the market mix */
export function usualChannelSql(uFavourite: string, uChannel: string, favouriteChannel: string): string {
  return `(CASE WHEN ${uFavourite} < ${num(FAVOURITE_CHANNEL_SHARE)} THEN ${favouriteChannel} ELSE ${categorical(uChannel, CHANNEL_MIX)} END)`;
}

/** The channel after drift (a share moves to paid_social) and consent (no email without it) */
export function channelSql(drift: DriftPlan, day: string, usualChannel: string, uDrift: string, consented: string): string {
  const shift = drift.driftStrength('channel_mix');
  return `(CASE WHEN ${afterDrift(drift, 'channel_mix', day)} AND ${uDrift} < ${num(shift * 0.5)} THEN 'paid_social'
               WHEN ${usualChannel} = 'email' AND NOT ${consented} THEN 'organic'
               ELSE ${usualChannel} END)`;
}

export function usualDeviceSql(uPrimary: string, uOther: string, primaryDevice: string): string {
  return `(CASE WHEN ${uPrimary} < ${num(PRIMARY_DEVICE_SHARE)} THEN ${primaryDevice} ELSE ${categorical(uOther, DEVICES)} END)`;
}

/** The device after drift (a share of desktop sessions moves to mobile) */
export function deviceSql(drift: DriftPlan, day: string, usualDevice: string, uDrift: string): string {
  const shift = drift.driftStrength('device_mix');
  return `(CASE WHEN ${afterDrift(drift, 'device_mix', day)} AND ${usualDevice} = 'desktop' AND ${uDrift} < ${num(shift)} THEN 'mobile' ELSE ${usualDevice} END)`;
}

/** 0: always-on; k ≥ 1: flight k, the one running on that day (flights follow each other every FLIGHT_DAYS days) */
export function campaignSlotSql(uCampaign: string, day: string): string {
  return `(CASE WHEN ${uCampaign} < ${num(ALWAYS_ON_SHARE)} THEN 0 ELSE 1 + CAST(floor(${day} / ${int(FLIGHT_DAYS)}) AS INTEGER) END)`;
}

/** SQL: a campaign's integer key for hashing, from market, channel index and slot; distinct for any slot below 2^16 */
export function campaignKeySql(marketIdx: string, channelIdx: string, slot: string): string {
  return `((${marketIdx} * 8 + ${channelIdx}) * 65536 + ${slot})`;
}

export function campaignIdSql(channel: string, market: string, slot: string): string {
  return `(CASE WHEN ${channel} IN (${CAMPAIGN_CHANNELS.map(lit).join(', ')}) THEN concat('cmp_', lower(${market}), '_', ${channel}, '_', ${slot}) END)`;
}

/** Order value multiplier: 1, or 1 + strength after the drift date when order_value drifts */
export function orderValueFactorSql(drift: DriftPlan, day: string): string {
  const shift = drift.driftStrength('order_value');
  return shift > 0 ? `(CASE WHEN ${afterDrift(drift, 'order_value', day)} THEN ${num(1 + shift)} ELSE 1 END)` : '1';
}
