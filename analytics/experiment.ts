import type { ArmMeasurement, ArmSummary, SrmCheck, ExperimentAnalysis } from '../domain/experiment';
import { NonRetryableError } from '../domain/errors';
import { cupedDifference, differenceOfProportions, srmTest, welchDifference } from '../domain/stats';
import type { TableRef } from '../domain/table-ref';
import type { Warehouse } from '../warehouse/warehouse';
import { filterCondition, toNumber, type RowFilter } from './sql';

export interface ExperimentOutcomeSpec {
  /** One row per assigned user: (user, arm); duplicate rows count once */
  readonly assignmentTable: TableRef;
  readonly ordersTable: TableRef;
  /** Order time column of the orders table */
  readonly timestampColumn?: string;
  /** Outcome window, from inclusive to exclusive: 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM[:SS]' in warehouse time (UTC) */
  readonly from: string;
  readonly to: string;
  /** The user key, named the same in both tables */
  readonly userColumn?: string;
  readonly armColumn?: string;
  readonly revenueColumn?: string;
  readonly marginColumn?: string;
  /** When given, orders with this flag TRUE (returns) do not count */
  readonly returnedColumn?: string;
  /** When given, returned orders (this flag TRUE) are measured as a ratio of orders and netted out of revenue, for guardrails */
  readonly returnFlagColumn?: string;
  /** When given, each user's own values over this window (before the outcome window) are summed as CUPED covariates */
  readonly prePeriod?: { readonly from: string; readonly to: string };
  /** Only these assignment rows, e.g. { column: 'experiment_id', value: '...' } */
  readonly assignmentFilter?: RowFilter;
}


const TIME = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$/;

function checkWindow(window: { from: string; to: string }, what: string): void {
  for (const [field, value] of [['from', window.from], ['to', window.to]] as const) {
    if (!TIME.test(value)) {
      throw new NonRetryableError('InvalidArgument', `${what}${field} must be a date (YYYY-MM-DD) or a time without zone (YYYY-MM-DD HH:MM:SS), got ${JSON.stringify(value)}`);
    }
  }
  if (window.from.replace(' ', 'T') >= window.to.replace(' ', 'T')) {
    throw new NonRetryableError('InvalidArgument', `the ${what ? 'pre-period' : 'outcome window'} is empty: from ${window.from} is not before to ${window.to}`);
  }
}

/**
 * Per arm, in one warehouse query: users, converters, orders, and the sums
 * and sums of squares of revenue and margin per user over the outcome window;
 * with a pre-period, the cross sums with each user's pre-period values
 * (CUPED), and with a return flag, the sums of the return ratio.
 */
export async function measureExperimentArms(wh: Warehouse, spec: ExperimentOutcomeSpec): Promise<ArmMeasurement[]> {
  checkWindow(spec, '');
  if (spec.prePeriod) checkWindow(spec.prePeriod, 'prePeriod.');
  const d = wh.dialect;
  const q = (c: string) => d.quote(c);
  const user = q(spec.userColumn ?? 'user_id');
  const ts = `o.${q(spec.timestampColumn ?? 'order_ts')}`;
  const money = (c: string) => `COALESCE(${d.cast(`o.${q(c)}`, 'float')}, 0)`;
  const revenue = money(spec.revenueColumn ?? 'revenue');
  const notReturned = spec.returnedColumn ? ` AND NOT COALESCE(o.${q(spec.returnedColumn)}, FALSE)` : '';
  const flag = spec.returnFlagColumn ? `COALESCE(o.${q(spec.returnFlagColumn)}, FALSE)` : null;
  const assigned = filterCondition(d, spec.assignmentFilter, 'aimo_assignment_value', 'a');
  const perUser = (c: string) => `COALESCE(u.${c}, 0)`;
  const pre = (c: string) => `COALESCE(p.${c}, 0)`;
  const outcomes = (name: string, from: string, to: string) => `${name} AS (
       SELECT o.${user} AS aimo_user, COUNT(*) AS aimo_orders,
              ${d.exactSum(revenue)} AS aimo_revenue,
              ${d.exactSum(money(spec.marginColumn ?? 'margin'))} AS aimo_margin${
                flag
                  ? `,
              SUM(CASE WHEN ${flag} THEN 1 ELSE 0 END) AS aimo_returned,
              ${d.exactSum(`CASE WHEN ${flag} THEN 0 ELSE ${revenue} END`)} AS aimo_net_revenue`
                  : ''
              }
       FROM ${d.table(spec.ordersTable)} o
       WHERE ${ts} >= ${d.cast(`@${from}`, 'timestamp')} AND ${ts} < ${d.cast(`@${to}`, 'timestamp')}${notReturned}
       GROUP BY o.${user}
     )`;
  // Money and its squares are summed exactly, so a retried readout stores the same numbers.
  const sums = (name: string, expr: string) => `${d.exactSum(expr)} AS ${q(name)}`;
  const columns = [
    sums('orders_sq', `${perUser('aimo_orders')} * ${perUser('aimo_orders')}`),
    sums('revenue_sum', perUser('aimo_revenue')),
    sums('revenue_sum_sq', `${perUser('aimo_revenue')} * ${perUser('aimo_revenue')}`),
    sums('margin_sum', perUser('aimo_margin')),
    sums('margin_sum_sq', `${perUser('aimo_margin')} * ${perUser('aimo_margin')}`),
  ];
  if (flag) {
    columns.push(
      sums('returned_sum', perUser('aimo_returned')),
      sums('returned_sum_sq', `${perUser('aimo_returned')} * ${perUser('aimo_returned')}`),
      sums('returned_cross', `${perUser('aimo_returned')} * ${perUser('aimo_orders')}`),
      sums('net_revenue_sum', perUser('aimo_net_revenue')),
      sums('net_revenue_sum_sq', `${perUser('aimo_net_revenue')} * ${perUser('aimo_net_revenue')}`),
    );
  }
  if (spec.prePeriod) {
    const converted = (alias: 'u' | 'p') => `CASE WHEN ${alias}.aimo_orders > 0 THEN 1 ELSE 0 END`;
    columns.push(
      sums('pre_converted', converted('p')),
      sums('pre_converted_cross', `${converted('p')} * ${converted('u')}`),
      sums('pre_revenue', pre('aimo_revenue')),
      sums('pre_revenue_sq', `${pre('aimo_revenue')} * ${pre('aimo_revenue')}`),
      sums('pre_revenue_cross', `${pre('aimo_revenue')} * ${perUser('aimo_revenue')}`),
      sums('pre_margin', pre('aimo_margin')),
      sums('pre_margin_sq', `${pre('aimo_margin')} * ${pre('aimo_margin')}`),
      sums('pre_margin_cross', `${pre('aimo_margin')} * ${perUser('aimo_margin')}`),
    );
  }
  const rows = await wh.query(
    `WITH aimo_assigned AS (
       SELECT DISTINCT a.${user} AS aimo_user, ${d.cast(`a.${q(spec.armColumn ?? 'arm')}`, 'string')} AS aimo_arm
       FROM ${d.table(spec.assignmentTable)} a
       WHERE ${assigned.sql}
     ),
     ${outcomes('aimo_outcomes', 'aimo_from', 'aimo_to')}${spec.prePeriod ? `,\n     ${outcomes('aimo_pre', 'aimo_pre_from', 'aimo_pre_to')}` : ''}
     SELECT a.aimo_arm AS ${q('arm')},
            COUNT(*) AS ${q('users')},
            SUM(CASE WHEN u.aimo_orders > 0 THEN 1 ELSE 0 END) AS ${q('converters')},
            SUM(${perUser('aimo_orders')}) AS ${q('orders')},
            ${columns.join(',\n            ')}
     FROM aimo_assigned a
     LEFT JOIN aimo_outcomes u ON u.aimo_user = a.aimo_user${spec.prePeriod ? '\n     LEFT JOIN aimo_pre p ON p.aimo_user = a.aimo_user' : ''}
     GROUP BY a.aimo_arm
     ORDER BY a.aimo_arm`,
    {
      ...assigned.params,
      aimo_from: spec.from,
      aimo_to: spec.to,
      ...(spec.prePeriod ? { aimo_pre_from: spec.prePeriod.from, aimo_pre_to: spec.prePeriod.to } : {}),
    },
  );
  return rows.map((r) => {
    const n = (key: string) => toNumber(r[key]);
    const users = n('users');
    const converters = n('converters');
    const measurement: ArmMeasurement = {
      arm: String(r['arm']),
      users,
      converters,
      orders: n('orders'),
      revenue: { n: users, sum: n('revenue_sum'), sumOfSquares: n('revenue_sum_sq') },
      margin: { n: users, sum: n('margin_sum'), sumOfSquares: n('margin_sum_sq') },
      ...(flag
        ? {
            returns: { n: users, sumNumerator: n('returned_sum'), sumNumerator2: n('returned_sum_sq'), sumDenominator: n('orders'), sumDenominator2: n('orders_sq'), sumCross: n('returned_cross') },
            netRevenue: { n: users, sum: n('net_revenue_sum'), sumOfSquares: n('net_revenue_sum_sq') },
          }
        : {}),
      ...(spec.prePeriod
        ? {
            covariates: {
              conversion: { n: users, sumY: converters, sumY2: converters, sumX: n('pre_converted'), sumX2: n('pre_converted'), sumXY: n('pre_converted_cross') },
              revenue: { n: users, sumY: n('revenue_sum'), sumY2: n('revenue_sum_sq'), sumX: n('pre_revenue'), sumX2: n('pre_revenue_sq'), sumXY: n('pre_revenue_cross') },
              margin: { n: users, sumY: n('margin_sum'), sumY2: n('margin_sum_sq'), sumX: n('pre_margin'), sumX2: n('pre_margin_sq'), sumXY: n('pre_margin_cross') },
            },
          }
        : {}),
    };
    return measurement;
  });
}

export interface ExperimentAnalysisOptions {
  readonly controlArm?: string;
  readonly treatmentArm?: string;
  /** The designed treatment share of a two-arm test (default 0.5) */
  readonly expectedTreatmentShare?: number;
  /** The designed split of any number of arms; overrides expectedTreatmentShare */
  readonly expectedShares?: Readonly<Record<string, number>>;
  /** Media cost of treating one user; or give totalCost */
  readonly costPerTreatedUser?: number;
  readonly totalCost?: number;
  readonly confidence?: number;
  /** SRM is flagged below this p-value: strict, because a mismatch voids the readout */
  readonly srmAlpha?: number;
}




/** The readout of an A/B test from per-arm sums: SRM, conversion effect, revenue effect and cost per result. */
export function analyseExperiment(arms: readonly ArmMeasurement[], options: ExperimentAnalysisOptions = {}): ExperimentAnalysis {
  const controlArm = options.controlArm ?? 'control';
  const treatmentArm = options.treatmentArm ?? 'treatment';
  const confidence = options.confidence ?? 0.95;
  const allArms = arms.map(summariseArm);
  const find = (name: string) => {
    const arm = allArms.find((a) => a.arm === name);
    if (!arm || arm.users === 0) {
      throw new NonRetryableError('MissingArm', `no users in arm "${name}": arms found are ${allArms.map((a) => a.arm).join(', ') || 'none'}`);
    }
    return arm;
  };
  const control = find(controlArm);
  const treatment = find(treatmentArm);

  const effect = differenceOfProportions(
    { successes: control.converters, trials: control.users },
    { successes: treatment.converters, trials: treatment.users },
    confidence,
  );
  const enough = control.users >= 2 && treatment.users >= 2;
  const revenuePerUser = enough ? welchDifference(control.revenue, treatment.revenue, confidence) : null;
  const marginPerUser = enough ? welchDifference(control.margin, treatment.margin, confidence) : null;
  const cc = control.covariates;
  const tc = treatment.covariates;
  const adjusted =
    enough && cc && tc
      ? {
          conversion: cupedDifference(cc.conversion, tc.conversion, confidence),
          revenuePerUser: cupedDifference(cc.revenue, tc.revenue, confidence),
          marginPerUser: cupedDifference(cc.margin, tc.margin, confidence),
        }
      : null;

  const incrementalConversions = effect.absolute * treatment.users;
  const cost = options.totalCost ?? (options.costPerTreatedUser !== undefined ? options.costPerTreatedUser * treatment.users : null);
  if (cost !== null && !(cost >= 0 && Number.isFinite(cost))) throw new NonRetryableError('InvalidArgument', `cost must be a non-negative number, got ${cost}`);
  const costPerIncrementalConversion = cost !== null && incrementalConversions > 0 ? cost / incrementalConversions : null;
  const costPerIncrementalConversionCi =
    cost !== null && effect.ciHigh > 0
      ? { low: cost / (effect.ciHigh * treatment.users), high: effect.ciLow > 0 ? cost / (effect.ciLow * treatment.users) : null }
      : null;

  return {
    arms: { control, treatment },
    allArms,
    srm: srmCheck(allArms, options, controlArm, treatmentArm),
    effect,
    revenuePerUser,
    marginPerUser,
    adjusted,
    incrementalConversions,
    incrementalRevenue: revenuePerUser ? revenuePerUser.absolute * treatment.users : null,
    cost,
    costPerIncrementalConversion,
    costPerIncrementalConversionCi,
  };
}

function summariseArm(a: ArmMeasurement): ArmSummary {
  const per = (v: number) => (a.users > 0 ? v / a.users : NaN);
  return { ...a, conversionRate: per(a.converters), revenuePerUser: per(a.revenue.sum), marginPerUser: per(a.margin.sum) };
}

function srmCheck(arms: readonly ArmSummary[], options: ExperimentAnalysisOptions, controlArm: string, treatmentArm: string): SrmCheck {
  const alpha = options.srmAlpha ?? 0.001;
  let design = options.expectedShares;
  if (!design) {
    const share = options.expectedTreatmentShare ?? 0.5;
    if (!(share > 0 && share < 1)) throw new NonRetryableError('InvalidArgument', `expectedTreatmentShare must be strictly between 0 and 1, got ${share}`);
    design = { [controlArm]: 1 - share, [treatmentArm]: share };
  }
  const names = Object.keys(design);
  const observed = names.map((name) => arms.find((a) => a.arm === name)?.users ?? 0);
  const result = srmTest(observed, names.map((name) => design[name]!));
  const unexpectedArms = arms.filter((a) => !Object.hasOwn(design, a.arm) && a.users > 0).map((a) => a.arm);
  return { ...result, alpha, arms: names, unexpectedArms, flagged: result.pValue < alpha || unexpectedArms.length > 0 };
}
