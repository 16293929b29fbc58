import { addDaysIso } from '../../domain/dates';
import type { RolloutPlan } from '../../domain/plan';
import type { PropensityModelName } from '../../domain/propensity/features';
import type { RolloutContext } from '../../domain/rollout/context';
import { AIMO_SCHEMA } from '../../domain/naming';
import { sourceTable, type SourceName } from '../../domain/propensity/sources';
import type { Expectation } from '../../domain/quality';
import { tableRef, type TableRef } from '../../domain/table-ref';
import type { SqlParams } from '../../warehouse/params';
import type { Warehouse } from '../../warehouse/warehouse';

export interface ModelSql {
  readonly select: string;
  readonly params: SqlParams;
  readonly expectations: Expectation[];
}

/** Where a rollout's model lands: aimo.<use case>_<workflow hash>_<model>. */
export function modelTable(ctx: RolloutContext, model: PropensityModelName | string): TableRef {
  return tableRef(`${ctx.tablePrefix}_${model}`, AIMO_SCHEMA);
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

/** The SELECT of each model, written once in portable SQL with dialect fragments. */
export function buildModelSql(wh: Warehouse, ctx: RolloutContext, plan: RolloutPlan, model: PropensityModelName, salt: string): ModelSql {
  const d = wh.dialect;
  const q = (c: string) => d.quote(c);
  const src = (s: SourceName) => d.table(sourceTable(plan, s));
  const own = (m: PropensityModelName) => d.table(modelTable(ctx, m));
  const w = pipelineWindows(plan);
  const windowParams = { feature_from: w.featureFrom, as_of: w.asOf, label_to: w.labelTo, market: plan.kpi.market };
  const dedupe = (table: string, key: string, order: string, where: string) =>
    `SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.${q(key)} ORDER BY t.${q(order)}) AS aimo_rn FROM ${table} t WHERE ${where}) x WHERE aimo_rn = 1`;
  const users = own('stg_users');

  switch (model) {
    case 'stg_users':
      return {
        select: `
          SELECT u.${q('user_id')}, ${d.saltedHash(`u.${q('email')}`, 'salt')} AS ${q('email_hash')},
                 ${d.saltedHash(`u.${q('phone')}`, 'salt')} AS ${q('phone_hash')},
                 u.${q('market')}, u.${q('segment')}, u.${q('device')}, u.${q('signup_date')}
          FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.${q('user_id')} ORDER BY t.${q('signup_date')}) AS aimo_rn FROM ${src('users')} t) u
          JOIN (SELECT c.${q('user_id')}, c.${q('granted')},
                       ROW_NUMBER() OVER (PARTITION BY c.${q('user_id')} ORDER BY c.${q('updated_at')} DESC) AS aimo_rn
                FROM ${src('consent')} c WHERE c.${q('purpose')} = 'marketing') c
            ON c.${q('user_id')} = u.${q('user_id')} AND c.aimo_rn = 1
          WHERE u.aimo_rn = 1 AND c.${q('granted')} AND u.${q('market')} = @market
            AND u.${q('signup_date')} < CAST(@as_of AS DATE)`,
        params: { salt, market: plan.kpi.market, as_of: w.asOf },
        expectations: [
          { kind: 'not_null', column: 'user_id' },
          { kind: 'unique', columns: ['user_id'] },
          { kind: 'not_null', column: 'email_hash' },
          { kind: 'row_count', min: 100 },
        ],
      };
    case 'stg_sessions':
      return {
        select: `SELECT s.${q('session_id')}, s.${q('user_id')}, s.${q('started_at')}, s.${q('channel')}
          FROM (${dedupe(src('sessions'), 'session_id', 'started_at', `t.${q('started_at')} >= CAST(@feature_from AS TIMESTAMP) AND t.${q('started_at')} < CAST(@label_to AS TIMESTAMP) AND t.${q('market')} = @market`)}) s
          WHERE s.${q('user_id')} IN (SELECT ${q('user_id')} FROM ${users})`,
        params: windowParams,
        expectations: [{ kind: 'unique', columns: ['session_id'] }, { kind: 'not_null', column: 'channel' }],
      };
    case 'stg_events':
      return {
        select: `SELECT e.${q('event_id')}, e.${q('user_id')}, e.${q('event_type')}, e.${q('event_ts')}
          FROM (${dedupe(src('events'), 'event_id', 'event_ts', `t.${q('event_ts')} >= CAST(@feature_from AS TIMESTAMP) AND t.${q('event_ts')} < CAST(@label_to AS TIMESTAMP)`)}) e
          WHERE e.${q('user_id')} IN (SELECT ${q('user_id')} FROM ${users})`,
        params: windowParams,
        expectations: [
          { kind: 'unique', columns: ['event_id'] },
          { kind: 'in_set', column: 'event_type', values: ['page_view', 'add_to_cart', 'begin_checkout', 'purchase'] },
        ],
      };
    case 'stg_orders':
      return {
        select: `SELECT o.${q('order_id')}, o.${q('user_id')}, o.${q('order_ts')}, o.${q('channel')}, o.${q('revenue')}, o.${q('margin')}, o.${q('returned')}
          FROM (${dedupe(src('orders'), 'order_id', 'order_ts', `t.${q('order_ts')} < CAST(@label_to AS TIMESTAMP) AND t.${q('market')} = @market`)}) o
          WHERE o.${q('user_id')} IN (SELECT ${q('user_id')} FROM ${users})`,
        params: windowParams,
        expectations: [
          { kind: 'unique', columns: ['order_id'] },
          { kind: 'between', column: 'revenue', min: 0 },
        ],
      };
    case 'features': {
      const inFeatureWindow = (c: string) => `${q(c)} >= CAST(@feature_from AS TIMESTAMP) AND ${q(c)} < CAST(@as_of AS TIMESTAMP)`;
      const f = d.type('float');
      return {
        select: `
          WITH s AS (
            SELECT ${q('user_id')}, COUNT(*) AS n, SUM(CASE WHEN ${q('channel')} = @channel THEN 1 ELSE 0 END) AS in_channel,
                   MAX(${q('started_at')}) AS last_ts
            FROM ${own('stg_sessions')} WHERE ${inFeatureWindow('started_at')} GROUP BY ${q('user_id')}
          ),
          e AS (
            SELECT ${q('user_id')},
                   SUM(CASE WHEN ${q('event_type')} = 'page_view' THEN 1 ELSE 0 END) AS page_views,
                   SUM(CASE WHEN ${q('event_type')} = 'add_to_cart' THEN 1 ELSE 0 END) AS add_to_carts,
                   SUM(CASE WHEN ${q('event_type')} = 'begin_checkout' THEN 1 ELSE 0 END) AS checkouts
            FROM ${own('stg_events')} WHERE ${inFeatureWindow('event_ts')} GROUP BY ${q('user_id')}
          ),
          prior_orders AS (
            SELECT ${q('user_id')}, COUNT(*) AS n, SUM(${q('revenue')}) AS revenue
            FROM ${own('stg_orders')} WHERE ${q('order_ts')} < CAST(@as_of AS TIMESTAMP) GROUP BY ${q('user_id')}
          ),
          labels AS (
            SELECT ${q('user_id')}, 1 AS converted FROM ${own('stg_orders')}
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
          FROM ${users} u
          LEFT JOIN s ON s.${q('user_id')} = u.${q('user_id')}
          LEFT JOIN e ON e.${q('user_id')} = u.${q('user_id')}
          LEFT JOIN prior_orders ON prior_orders.${q('user_id')} = u.${q('user_id')}
          LEFT JOIN labels ON labels.${q('user_id')} = u.${q('user_id')}`,
        params: {
          ...windowParams,
          channel: plan.kpi.channel,
          feature_days: plan.windows.featureDays,
          split_key: `${plan.useCase}:split:`,
          holdout_share: plan.model.holdoutShare,
        },
        expectations: [
          { kind: 'unique', columns: ['user_id'] },
          { kind: 'not_null', column: 'segment' },
          { kind: 'in_set', column: 'label', values: [0, 1] },
          { kind: 'between', column: 'recency_days', min: 0 },
          { kind: 'row_count', min: 100 },
        ],
      };
    }
  }
}
