import { topologicalLevels } from '../../domain/dag';
import { addDaysIso } from '../../domain/dates';
import { NonRetryableError } from '../../domain/errors';
import type { RolloutPlan } from '../../domain/plan';
import type { PropensityModelName } from '../../domain/propensity/features';
import { sourceTable, type SourceName } from '../../domain/propensity/sources';
import type { Expectation } from '../../domain/quality';
import { runTable, type RolloutContext } from '../../domain/rollout/context';
import type { Dialect } from '../../warehouse/dialect';
import type { SqlParams } from '../../warehouse/params';

export interface ModelSql {
  readonly select: string;
  readonly params: SqlParams;
  readonly expectations: readonly Expectation[];
}

export interface PipelineWindows {
  readonly featureFrom: string;
  readonly asOf: string;
  readonly labelTo: string;
}

export function pipelineWindows(plan: RolloutPlan): PipelineWindows {
  return {
    featureFrom: addDaysIso(plan.windows.asOf, -plan.windows.featureDays),
    asOf: plan.windows.asOf,
    labelTo: addDaysIso(plan.windows.asOf, plan.windows.labelDays),
  };
}

/** What a model's SQL may use: the dialect, the plan, and only the models and sources it declares. */
interface ModelScope<I extends PropensityModelName> {
  readonly d: Dialect;
  readonly plan: RolloutPlan;
  readonly salt: string;
  readonly windows: PipelineWindows;
  /** The quoted table of a declared input model */
  input(model: I): string;
  /** The quoted table of a declared source */
  source(source: SourceName): string;
  q(column: string): string;
}

interface DataModel {
  readonly name: PropensityModelName;
  readonly inputs: readonly PropensityModelName[];
  readonly sources: readonly SourceName[];
  readonly expectations: readonly Expectation[];
  build(scope: ModelScope<PropensityModelName>): { select: string; params: SqlParams };
}

/** Declares a model; its SQL can only name the inputs it lists, so the graph below is the one the SQL runs. */
function model<const I extends readonly PropensityModelName[]>(m: {
  name: PropensityModelName;
  inputs: I;
  sources: readonly SourceName[];
  expectations: readonly Expectation[];
  build(scope: ModelScope<I[number]>): { select: string; params: SqlParams };
}): DataModel {
  return m;
}

const windowParams = (s: ModelScope<never>) => ({ feature_from: s.windows.featureFrom, as_of: s.windows.asOf, label_to: s.windows.labelTo, market: s.plan.kpi.market });

/** The newest row per key within a filter: sources may deliver a row twice. */
const dedupe = (s: ModelScope<never>, table: string, key: string, order: string, where: string) =>
  `SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.${s.q(key)} ORDER BY t.${s.q(order)}) AS aimo_rn FROM ${table} t WHERE ${where}) x WHERE aimo_rn = 1`;

const stgUsers = model({
  name: 'stg_users',
  inputs: [],
  sources: ['users', 'consent'],
  expectations: [{ kind: 'not_null', column: 'user_id' }, { kind: 'unique', columns: ['user_id'] }, { kind: 'not_null', column: 'email_hash' }, { kind: 'row_count', min: 100 }],
  build: (s) => {
    const { d, q } = s;
    return {
      select: `
        SELECT u.${q('user_id')}, ${d.saltedHash(`u.${q('email')}`, 'salt')} AS ${q('email_hash')},
               ${d.saltedHash(`u.${q('phone')}`, 'salt')} AS ${q('phone_hash')},
               u.${q('market')}, u.${q('segment')}, u.${q('device')}, u.${q('signup_date')}
        FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.${q('user_id')} ORDER BY t.${q('signup_date')}) AS aimo_rn FROM ${s.source('users')} t) u
        JOIN (SELECT c.${q('user_id')}, c.${q('granted')},
                     ROW_NUMBER() OVER (PARTITION BY c.${q('user_id')} ORDER BY c.${q('updated_at')} DESC) AS aimo_rn
              FROM ${s.source('consent')} c WHERE c.${q('purpose')} = 'marketing') c
          ON c.${q('user_id')} = u.${q('user_id')} AND c.aimo_rn = 1
        WHERE u.aimo_rn = 1 AND c.${q('granted')} AND u.${q('market')} = @market
          AND u.${q('signup_date')} < CAST(@as_of AS DATE)`,
      params: { salt: s.salt, market: s.plan.kpi.market, as_of: s.windows.asOf },
    };
  },
});

const stgSessions = model({
  name: 'stg_sessions',
  inputs: ['stg_users'],
  sources: ['sessions'],
  expectations: [{ kind: 'unique', columns: ['session_id'] }, { kind: 'not_null', column: 'channel' }],
  build: (s) => {
    const q = s.q;
    const where = `t.${q('started_at')} >= CAST(@feature_from AS TIMESTAMP) AND t.${q('started_at')} < CAST(@label_to AS TIMESTAMP) AND t.${q('market')} = @market`;
    return {
      select: `SELECT s.${q('session_id')}, s.${q('user_id')}, s.${q('started_at')}, s.${q('channel')}
        FROM (${dedupe(s, s.source('sessions'), 'session_id', 'started_at', where)}) s
        WHERE s.${q('user_id')} IN (SELECT ${q('user_id')} FROM ${s.input('stg_users')})`,
      params: windowParams(s),
    };
  },
});

const stgEvents = model({
  name: 'stg_events',
  inputs: ['stg_users'],
  sources: ['events'],
  expectations: [{ kind: 'unique', columns: ['event_id'] }, { kind: 'in_set', column: 'event_type', values: ['page_view', 'add_to_cart', 'begin_checkout', 'purchase'] }],
  build: (s) => {
    const q = s.q;
    const where = `t.${q('event_ts')} >= CAST(@feature_from AS TIMESTAMP) AND t.${q('event_ts')} < CAST(@label_to AS TIMESTAMP)`;
    return {
      select: `SELECT e.${q('event_id')}, e.${q('user_id')}, e.${q('event_type')}, e.${q('event_ts')}
        FROM (${dedupe(s, s.source('events'), 'event_id', 'event_ts', where)}) e
        WHERE e.${q('user_id')} IN (SELECT ${q('user_id')} FROM ${s.input('stg_users')})`,
      params: windowParams(s),
    };
  },
});

const stgOrders = model({
  name: 'stg_orders',
  inputs: ['stg_users'],
  sources: ['orders'],
  expectations: [{ kind: 'unique', columns: ['order_id'] }, { kind: 'between', column: 'revenue', min: 0 }],
  build: (s) => {
    const q = s.q;
    const where = `t.${q('order_ts')} < CAST(@label_to AS TIMESTAMP) AND t.${q('market')} = @market`;
    return {
      select: `SELECT o.${q('order_id')}, o.${q('user_id')}, o.${q('order_ts')}, o.${q('channel')}, o.${q('revenue')}, o.${q('margin')}, o.${q('returned')}
        FROM (${dedupe(s, s.source('orders'), 'order_id', 'order_ts', where)}) o
        WHERE o.${q('user_id')} IN (SELECT ${q('user_id')} FROM ${s.input('stg_users')})`,
      params: windowParams(s),
    };
  },
});

const features = model({
  name: 'features',
  inputs: ['stg_users', 'stg_sessions', 'stg_events', 'stg_orders'],
  sources: [],
  expectations: [
    { kind: 'unique', columns: ['user_id'] },
    { kind: 'not_null', column: 'segment' },
    { kind: 'in_set', column: 'label', values: [0, 1] },
    { kind: 'between', column: 'recency_days', min: 0 },
    { kind: 'row_count', min: 100 },
  ],
  build: (s) => ({ select: featuresSelect(s), params: { ...windowParams(s), channel: s.plan.kpi.channel, feature_days: s.plan.windows.featureDays, split_key: `${s.plan.useCase}:split:`, holdout_share: s.plan.model.holdoutShare } }),
});

/** One row per staged user: behaviour in the feature window, the label in the label window, and a stable train/holdout split. */
function featuresSelect(s: ModelScope<'stg_users' | 'stg_sessions' | 'stg_events' | 'stg_orders'>): string {
  const { d, q } = s;
  const inFeatureWindow = (c: string) => `${q(c)} >= CAST(@feature_from AS TIMESTAMP) AND ${q(c)} < CAST(@as_of AS TIMESTAMP)`;
  const f = d.type('float');
  return `
    WITH s AS (
      SELECT ${q('user_id')}, COUNT(*) AS n, SUM(CASE WHEN ${q('channel')} = @channel THEN 1 ELSE 0 END) AS in_channel,
             MAX(${q('started_at')}) AS last_ts
      FROM ${s.input('stg_sessions')} WHERE ${inFeatureWindow('started_at')} GROUP BY ${q('user_id')}
    ),
    e AS (
      SELECT ${q('user_id')},
             SUM(CASE WHEN ${q('event_type')} = 'page_view' THEN 1 ELSE 0 END) AS page_views,
             SUM(CASE WHEN ${q('event_type')} = 'add_to_cart' THEN 1 ELSE 0 END) AS add_to_carts,
             SUM(CASE WHEN ${q('event_type')} = 'begin_checkout' THEN 1 ELSE 0 END) AS checkouts
      FROM ${s.input('stg_events')} WHERE ${inFeatureWindow('event_ts')} GROUP BY ${q('user_id')}
    ),
    prior_orders AS (
      SELECT ${q('user_id')}, COUNT(*) AS n, SUM(${q('revenue')}) AS revenue
      FROM ${s.input('stg_orders')} WHERE ${q('order_ts')} < CAST(@as_of AS TIMESTAMP) GROUP BY ${q('user_id')}
    ),
    labels AS (
      SELECT ${q('user_id')}, 1 AS converted FROM ${s.input('stg_orders')}
      WHERE ${q('order_ts')} >= CAST(@as_of AS TIMESTAMP) AND ${q('order_ts')} < CAST(@label_to AS TIMESTAMP)
      GROUP BY ${q('user_id')}
    )
    SELECT u.${q('user_id')}, u.${q('segment')}, u.${q('device')}, u.${q('market')},
           CAST(COALESCE(s.n, 0) AS ${f}) AS ${q('sessions_n')},
           CAST(CASE WHEN s.n > 0 THEN s.in_channel * 1.0 / s.n ELSE 0 END AS ${f}) AS ${q('channel_share')},
           CAST(COALESCE(e.page_views, 0) AS ${f}) AS ${q('page_views_n')},
           CAST(COALESCE(e.add_to_carts, 0) AS ${f}) AS ${q('add_to_cart_n')},
           CAST(COALESCE(e.checkouts, 0) AS ${f}) AS ${q('checkout_n')},
           CAST(COALESCE(prior_orders.n, 0) AS ${f}) AS ${q('orders_prior')},
           CAST(LN(1 + COALESCE(prior_orders.revenue, 0)) AS ${f}) AS ${q('revenue_prior_log')},
           CAST(CASE WHEN s.last_ts IS NULL THEN @feature_days
                ELSE ${d.dateDiffDays('CAST(@as_of AS DATE)', 'CAST(s.last_ts AS DATE)')} END AS ${f}) AS ${q('recency_days')},
           CAST(${d.dateDiffDays('CAST(@as_of AS DATE)', `u.${q('signup_date')}`)} AS ${f}) AS ${q('tenure_days')},
           CAST(CASE WHEN u.${q('device')} = 'mobile' THEN 1 ELSE 0 END AS ${f}) AS ${q('is_mobile')},
           COALESCE(labels.converted, 0) AS ${q('label')},
           CASE WHEN ${d.unitHash(`@split_key || u.${q('user_id')}`)} < @holdout_share THEN 'holdout' ELSE 'train' END AS ${q('split')}
    FROM ${s.input('stg_users')} u
    LEFT JOIN s ON s.${q('user_id')} = u.${q('user_id')}
    LEFT JOIN e ON e.${q('user_id')} = u.${q('user_id')}
    LEFT JOIN prior_orders ON prior_orders.${q('user_id')} = u.${q('user_id')}
    LEFT JOIN labels ON labels.${q('user_id')} = u.${q('user_id')}`;
}

/**
 * The data path of a propensity use case: staging models clean and
 * de-duplicate the sources (hashing PII, dropping non-consented users), the
 * feature model joins them. Each model declares its inputs, SQL and
 * expectations once; the DAG and its levels come from those declarations.
 */
export const PROPENSITY_MODELS: readonly DataModel[] = [stgUsers, stgSessions, stgEvents, stgOrders, features];

/** The models in levels: each level depends only on earlier ones, so a level's models can run side by side. */
export const PROPENSITY_DATA_PATH_LEVELS = topologicalLevels(PROPENSITY_MODELS.map((m) => ({ name: m.name, dependsOn: [...m.inputs] }))) as PropensityModelName[][];

/** The SELECT, parameters and expectations of one model, in the given warehouse's dialect. */
export function buildModelSql(d: Dialect, ctx: RolloutContext, plan: RolloutPlan, name: PropensityModelName, salt: string): ModelSql {
  const declared = PROPENSITY_MODELS.find((m) => m.name === name);
  if (!declared) throw new NonRetryableError('UnknownModel', `no data model named ${name}`);
  const undeclared = (what: string, value: string): never => {
    throw new NonRetryableError('UndeclaredModelInput', `data model ${name} reads ${what} ${value} without declaring it`);
  };
  const scope: ModelScope<PropensityModelName> = {
    d,
    plan,
    salt,
    windows: pipelineWindows(plan),
    q: (c) => d.quote(c),
    input: (m) => (declared.inputs.includes(m) ? d.table(runTable(ctx, m)) : undeclared('model', m)),
    source: (s) => (declared.sources.includes(s) ? d.table(sourceTable(plan, s)) : undeclared('source', s)),
  };
  return { ...declared.build(scope), expectations: declared.expectations };
}
