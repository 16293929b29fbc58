/**
 * The latent model of the simulated market, in one place. Every behaviour is
 * driven by a few per-user traits, so what a user did in an earlier window
 * carries information about what they do in a later one:
 *
 *   intent   z_i ~ N(0, 1)                       → purchase hazard, cart rate
 *   engagement z_e = ρ·z_i + √(1−ρ²)·N(0, 1)     → session rate, page depth
 *   value    z_v ~ N(0, 1)                       → average order value
 *
 * daily purchase hazard  h = min(exp(β0 + segment + age + σ_h·z_i), h_max)
 * orders                 a Poisson process with rate h per day, so the true
 *                        probability of ≥ 1 order in N days is 1 − exp(−h·N)
 * browse sessions        a Poisson-like process with rate exp(α0 + segment + σ_s·z_e)
 * add-to-cart            per browse session, logistic(γ0 + γ_i·z_i + γ_n·N(0, 1))
 *
 * Shares are fractions that sum to 1; effects are on the log scale.
 */

export const CHANNELS = ['paid_search', 'paid_social', 'email', 'organic', 'display'] as const;
export type Channel = (typeof CHANNELS)[number];
/** Channels whose sessions are bought clicks and show up in ad_spend */
export const PAID_CHANNELS: readonly Channel[] = ['paid_search', 'paid_social', 'display'];
/** Channels whose sessions carry a campaign id */
export const CAMPAIGN_CHANNELS: readonly Channel[] = ['paid_search', 'paid_social', 'display', 'email'];

export interface Share<T extends string = string> {
  readonly value: T;
  readonly share: number;
}

export const CHANNEL_MIX: readonly Share<Channel>[] = [
  { value: 'paid_search', share: 0.27 },
  { value: 'paid_social', share: 0.17 },
  { value: 'email', share: 0.11 },
  { value: 'organic', share: 0.35 },
  { value: 'display', share: 0.1 },
];
/** Share of a user's sessions that come through their favourite channel (the rest follow the mix) */
export const FAVOURITE_CHANNEL_SHARE = 0.5;

export const SEGMENTS = [
  { value: 'new', share: 0.3, tenureDays: [1, 89], hazardEffect: -0.2, sessionEffect: 0.1, orderValueEffect: -0.1, crmIdShare: 0.55 },
  { value: 'returning', share: 0.5, tenureDays: [90, 729], hazardEffect: 0, sessionEffect: 0, orderValueEffect: 0, crmIdShare: 0.82 },
  { value: 'loyal', share: 0.2, tenureDays: [365, 1824], hazardEffect: 0.7, sessionEffect: 0.3, orderValueEffect: 0.2, crmIdShare: 0.96 },
] as const;

export const AGE_BANDS = [
  { value: '18-24', share: 0.14, hazardEffect: -0.15 },
  { value: '25-34', share: 0.27, hazardEffect: 0.05 },
  { value: '35-44', share: 0.24, hazardEffect: 0.1 },
  { value: '45-54', share: 0.19, hazardEffect: 0 },
  { value: '55+', share: 0.16, hazardEffect: -0.1 },
] as const;

export const DEVICES: readonly Share[] = [
  { value: 'mobile', share: 0.58 },
  { value: 'desktop', share: 0.34 },
  { value: 'tablet', share: 0.08 },
];
/** Share of a user's sessions on their primary device */
export const PRIMARY_DEVICE_SHARE = 0.8;

export const LATENT = {
  intentEngagementCorrelation: 0.7,
  baseLogHazard: -5.8,
  hazardSpread: 1.1,
  /** A cap keeps a few extreme users from dominating order counts */
  maxDailyHazard: 0.2,
  baseLogSessionRate: Math.log(0.07),
  sessionSpread: 0.8,
  cartIntercept: -2.2,
  cartIntent: 0.9,
  cartNoise: 0.5,
  /** Extra page views per browse session, before the engagement effect */
  pageViewsExtraMean: 2.4,
  pageViewsEngagement: 0.3,
  maxPageViews: 60,
  checkoutGivenCart: 0.3,
  secondCartAdd: 0.25,
  baseOrderValue: 48,
  orderValueSpread: 0.35,
  orderValueNoise: 0.3,
  marginRate: [0.22, 0.42],
  returnRate: [0.03, 0.15],
  phoneShare: 0.88,
  /** Extra devices beyond the first: P(≥ 2), P(3) */
  secondDeviceShare: 0.45,
  thirdDeviceShare: 0.12,
  /** Of the users not consenting to marketing, the share who never answered (no consent row) */
  neverAskedShareOfNonConsented: 0.2,
} as const;

/**
 * Concept drift at strength s moves what drives purchases: the latent
 * behind the hazard turns from intent towards the user's own engagement
 * (by the angle s·π/2, so its spread stays the same), segment and age
 * effects fade by s, and the primary device starts to matter by s times
 * these effects. Engagement shows in sessions and page views, the device in
 * the users table: a retrained model can learn the new shape.
 */
export const CONCEPT_DRIFT_DEVICE_EFFECTS: readonly { readonly device: string; readonly effect: number }[] = [
  { device: 'mobile', effect: 0.5 },
  { device: 'desktop', effect: -0.5 },
  { device: 'tablet', effect: 0 },
];

/** Share of a campaign channel's sessions that the always-on campaign buys; the rest go to the flight running that day */
export const ALWAYS_ON_SHARE = 0.55;

/** Bought clicks per paid channel; sessions are the clicks that landed */
export const PAID_MEDIA: Readonly<Record<string, { cpc: number; ctr: number }>> = {
  paid_search: { cpc: 0.85, ctr: 0.035 },
  paid_social: { cpc: 0.7, ctr: 0.009 },
  display: { cpc: 0.9, ctr: 0.003 },
};
/** Clicks that do not land as a session (bounces before the page loads) */
export const CLICK_LOSS = [0.06, 0.18];
/** Price level of a market relative to the first, cycled over the market list */
export const MARKET_PRICE_LEVELS = [1, 0.9, 1.1, 0.95, 1.05, 0.85, 1.15];

/** Mobile numbers by market (E.164: prefix, then this many digits); other markets get a neutral test prefix */
export const MOBILE_NUMBERS: Readonly<Record<string, { prefix: string; digits: number }>> = {
  DE: { prefix: '+4915', digits: 9 },
  FR: { prefix: '+336', digits: 8 },
  UK: { prefix: '+447', digits: 9 },
  GB: { prefix: '+447', digits: 9 },
  ES: { prefix: '+346', digits: 8 },
  IT: { prefix: '+393', digits: 9 },
  NL: { prefix: '+316', digits: 8 },
  AT: { prefix: '+43664', digits: 7 },
  CH: { prefix: '+4179', digits: 7 },
  US: { prefix: '+1555', digits: 7 },
  PL: { prefix: '+4850', digits: 7 },
  SE: { prefix: '+467', digits: 8 },
};
export const DEFAULT_MOBILE_NUMBER = { prefix: '+999', digits: 8 };

export const FIRST_NAMES = [
  'anna', 'lukas', 'marie', 'paul', 'sophie', 'leon', 'emma', 'louis', 'lea', 'hugo', 'chloe', 'jules',
  'olivia', 'oliver', 'amelia', 'george', 'mia', 'noah', 'lena', 'felix', 'clara', 'arthur', 'ella', 'theo',
] as const;
export const EMAIL_DOMAINS = ['example.com', 'example.net', 'example.org'] as const;
