import type { SimContext } from '../context';
import { sourceTableSelect } from '../faults';
import { AGE_BANDS, CHANNEL_MIX, CONCEPT_DRIFT_DEVICE_EFFECTS, DEVICES, EMAIL_DOMAINS, FIRST_NAMES, LATENT, SEGMENTS } from '../model';
import { categorical, int, lit, lookup, num, pick } from '../sql';

/**
 * Users and their latent traits. One row per user in a work table, from
 * which users, identities, consent and the ground truth are written.
 */
export async function buildWorkUsers(ctx: SimContext): Promise<void> {
  const { random: r, options: o } = ctx;
  const u = (stream: string) => r.unit('h', stream);
  const L = LATENT;
  const neverAsked = L.neverAskedShareOfNonConsented * (1 - o.consentRate);
  const grantedGivenAsked = neverAsked < 1 ? o.consentRate / (1 - neverAsked) : 0;
  const bySegment = (value: (s: (typeof SEGMENTS)[number]) => string) =>
    lookup(
      'segment',
      SEGMENTS.map((s) => [lit(s.value), value(s)] as const),
    );
  const rho = L.intentEngagementCorrelation;

  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.work('users')} AS
     WITH keyed AS (
       SELECT range AS idx, ${r.root('user', 'range')} AS h FROM range(${int(o.users)})
     ), drawn AS (
       SELECT idx, h,
              ${u('market')} AS u_market, ${u('segment')} AS u_segment, ${u('age_band')} AS u_age_band,
              ${u('device')} AS u_device, ${u('favourite_channel')} AS u_favourite_channel,
              ${u('first_name')} AS u_first_name, ${u('email_domain')} AS u_email_domain,
              ${u('tenure')} AS u_tenure,
              ${r.normal('h', 'intent')} AS z_intent,
              ${r.normal('h', 'engagement')} AS z_engagement_own,
              ${r.normal('h', 'cart')} AS z_cart,
              ${r.normal('h', 'order_value')} AS z_value,
              ${u('return')} AS u_return,
              ${u('consent_asked')} AS u_consent_asked,
              ${u('consent')} AS u_consent,
              ${u('consent_time')} AS u_consent_time,
              ${u('crm_id')} AS u_crm,
              ${u('phone')} AS u_phone,
              ${u('devices')} AS u_devices,
              CAST(floor(${u('phone_digits')} * 1000000000) AS BIGINT) AS phone_digits
       FROM keyed
     ), categories AS (
       SELECT *,
              ${ctx.marketIndex('u_market')} AS market_idx,
              ${categorical('u_segment', SEGMENTS)} AS segment,
              ${categorical('u_age_band', AGE_BANDS)} AS age_band,
              ${categorical('u_device', DEVICES)} AS device,
              ${categorical('u_favourite_channel', CHANNEL_MIX)} AS favourite_channel,
              ${pick('u_first_name', FIRST_NAMES)} AS first_name,
              ${pick('u_email_domain', EMAIL_DOMAINS)} AS email_domain
       FROM drawn
     ), traits AS (
       SELECT *,
              ${num(rho)} * z_intent + ${num(Math.sqrt(1 - rho * rho))} * z_engagement_own AS z_engagement,
              ${bySegment((s) => `${int(s.tenureDays[0])} + CAST(floor(u_tenure * ${int(s.tenureDays[1] - s.tenureDays[0] + 1)}) AS INTEGER)`)} AS tenure_days
       FROM categories
     )
     SELECT idx, h, concat('u', idx) AS user_id, market_idx, ${ctx.marketOf('market_idx')} AS market,
            segment, age_band, device, favourite_channel,
            CAST(@start_date AS DATE) - tenure_days AS signup_date, tenure_days,
            z_intent, z_engagement,
            least(exp(${num(L.baseLogHazard)} + ${bySegment((s) => num(s.hazardEffect))}
                      + ${lookup('age_band', AGE_BANDS.map((a) => [lit(a.value), num(a.hazardEffect)] as const))}
                      + ${num(L.hazardSpread)} * z_intent), ${num(L.maxDailyHazard)}) AS hazard,
            ${conceptHazardSql(ctx)} AS concept_hazard,
            exp(${num(L.baseLogSessionRate)} + ${bySegment((s) => num(s.sessionEffect))} + ${num(L.sessionSpread)} * z_engagement) AS session_rate,
            1 / (1 + exp(-(${num(L.cartIntercept)} + ${num(L.cartIntent)} * z_intent + ${num(L.cartNoise)} * z_cart))) AS cart_rate,
            ${num(L.pageViewsExtraMean)} * exp(${num(L.pageViewsEngagement)} * z_engagement) AS page_views_extra_mean,
            round(${num(L.baseOrderValue)} * exp(${bySegment((s) => num(s.orderValueEffect))} + ${num(L.orderValueSpread)} * z_value), 2) AS avg_order_value,
            ${num(L.returnRate[0])} + ${num(L.returnRate[1] - L.returnRate[0])} * u_return AS return_rate,
            u_consent_asked >= ${num(neverAsked)} AS has_consent_row,
            u_consent_asked >= ${num(neverAsked)} AND u_consent < ${num(grantedGivenAsked)} AS consented,
            u_consent_time,
            u_crm < ${bySegment((s) => num(s.crmIdShare))} AS has_crm_id,
            u_phone < ${num(L.phoneShare)} AS has_phone,
            1 + CAST(u_devices < ${num(L.secondDeviceShare)} AS INTEGER) + CAST(u_devices < ${num(L.thirdDeviceShare)} AS INTEGER) AS devices,
            concat(first_name, '.', idx, '@', email_domain) AS email,
            ${ctx.phonePrefixOf('market_idx')} || right(lpad(CAST(phone_digits AS VARCHAR), 9, '0'), ${ctx.phoneDigitsOf('market_idx')}) AS phone
     FROM traits`,
    ctx.params,
  );
}

/**
 * SQL over the traits: the daily purchase hazard once concept drift has
 * begun (see CONCEPT_DRIFT_DEVICE_EFFECTS), NULL without concept drift.
 */
function conceptHazardSql(ctx: SimContext): string {
  const concept = ctx.options.conceptDrift;
  if (!concept) return 'CAST(NULL AS DOUBLE)';
  const L = LATENT;
  const s = concept.strength;
  const angle = (s * Math.PI) / 2;
  const fading = (effect: number) => num((1 - s) * effect);
  return `least(exp(${num(L.baseLogHazard)}
                    + ${lookup('segment', SEGMENTS.map((g) => [lit(g.value), fading(g.hazardEffect)] as const))}
                    + ${lookup('age_band', AGE_BANDS.map((a) => [lit(a.value), fading(a.hazardEffect)] as const))}
                    + ${lookup('device', CONCEPT_DRIFT_DEVICE_EFFECTS.map((d) => [lit(d.device), num(s * d.effect)] as const), '0')}
                    + ${num(L.hazardSpread)} * (${num(Math.cos(angle))} * z_intent + ${num(Math.sin(angle))} * z_engagement_own)), ${num(L.maxDailyHazard)})`;
}

export async function writeUsers(ctx: SimContext): Promise<void> {
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.table('users')} AS ${sourceTableSelect(
      ctx,
      'users',
      {
        user_id: 's.user_id',
        email: 's.email',
        phone: 's.phone',
        market: 's.market',
        signup_date: 's.signup_date',
        segment: 's.segment',
        age_band: 's.age_band',
        device: 's.device',
      },
      ctx.work('users'),
      'h',
    )}`,
  );
}

/** Email and device ids for everyone, phones for most, a CRM id for some: identity match stays below 100 %. */
export async function writeIdentities(ctx: SimContext): Promise<void> {
  const r = ctx.random;
  const seenAfterSignup = (hash: string, stream: string, maxDays: number) =>
    `(CAST(signup_date AS TIMESTAMP) + to_seconds(CAST(floor(${r.unit(hash, stream)} * 86400 * ${int(maxDays)}) AS BIGINT)))`;
  const rows = `(
    SELECT user_id, 'email' AS identity_type, email AS identity_value, ${seenAfterSignup('h', 'email_seen', 1)} AS first_seen, h AS rh
    FROM ${ctx.work('users')}
    UNION ALL
    SELECT user_id, 'phone', phone, ${seenAfterSignup('h', 'phone_seen', 30)}, h FROM ${ctx.work('users')} WHERE has_phone
    UNION ALL
    SELECT user_id, 'crm_id', concat('CRM', 100000000 + idx), ${seenAfterSignup('h', 'crm_seen', 14)}, h FROM ${ctx.work('users')} WHERE has_crm_id
    UNION ALL
    SELECT user_id, 'device_id', printf('dev-%08x', hd), ${seenAfterSignup('hd', 'device_seen', 60)}, hd
    FROM (
      SELECT user_id, signup_date, ${r.child('h', 'd', 'device_id')} AS hd
      FROM (SELECT user_id, signup_date, h, unnest(range(devices)) AS d FROM ${ctx.work('users')})
    )
  )`;
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.table('identities')} AS ${sourceTableSelect(
      ctx,
      'identities',
      { user_id: 's.user_id', identity_type: 's.identity_type', identity_value: 's.identity_value', first_seen: 's.first_seen' },
      rows,
      'rh',
    )}`,
  );
}

/** The current marketing consent per user; users never asked have no row. */
export async function writeConsent(ctx: SimContext): Promise<void> {
  const rows = `(
    SELECT user_id, 'marketing' AS purpose, consented AS granted,
           CAST(signup_date AS TIMESTAMP) + to_seconds(CAST(floor(u_consent_time * 86400 * tenure_days) AS BIGINT)) AS updated_at, h
    FROM ${ctx.work('users')} WHERE has_consent_row
  )`;
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.table('consent')} AS ${sourceTableSelect(
      ctx,
      'consent',
      { user_id: 's.user_id', purpose: 's.purpose', granted: 's.granted', updated_at: 's.updated_at' },
      rows,
      'h',
    )}`,
  );
}
