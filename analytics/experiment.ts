import type { ArmMeasurement, ArmSummary, SrmCheck, ExperimentAnalysis } from '../domain/experiment';
import { NonRetryableError } from '../domain/errors';
import { differenceOfProportions, srmTest, welchDifference } from '../domain/stats';
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
  /** Only these assignment rows, e.g. { column: 'experiment_id', value: '...' } */
  readonly assignmentFilter?: RowFilter;
}


const TIME = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$/;

/**
 * Per arm, in one warehouse query: users, converters, orders, and the sums
 * and sums of squares of revenue and margin per user over the outcome window.
 */
export async function measureExperimentArms(wh: Warehouse, spec: ExperimentOutcomeSpec): Promise<ArmMeasurement[]> {
  for (const [field, value] of [['from', spec.from], ['to', spec.to]] as const) {
    if (!TIME.test(value)) {
      throw new NonRetryableError('InvalidArgument', `${field} must be a date (YYYY-MM-DD) or a time without zone (YYYY-MM-DD HH:MM:SS), got ${JSON.stringify(value)}`);
    }
  }
  if (spec.from.replace(' ', 'T') >= spec.to.replace(' ', 'T')) {
    throw new NonRetryableError('InvalidArgument', `the outcome window is empty: from ${spec.from} is not before to ${spec.to}`);
  }
  const d = wh.dialect;
  const q = (c: string) => d.quote(c);
  const user = q(spec.userColumn ?? 'user_id');
  const ts = `o.${q(spec.timestampColumn ?? 'order_ts')}`;
  const money = (c: string) => `COALESCE(${d.cast(`o.${q(c)}`, 'float')}, 0)`;
  const notReturned = spec.returnedColumn ? ` AND NOT COALESCE(o.${q(spec.returnedColumn)}, FALSE)` : '';
  const assigned = filterCondition(d, spec.assignmentFilter, 'aimo_assignment_value', 'a');
  const perUser = (c: string) => `COALESCE(u.${c}, 0)`;
  const rows = await wh.query(
    `WITH aimo_assigned AS (
       SELECT DISTINCT a.${user} AS aimo_user, ${d.cast(`a.${q(spec.armColumn ?? 'arm')}`, 'string')} AS aimo_arm
       FROM ${d.table(spec.assignmentTable)} a
       WHERE ${assigned.sql}
     ),
     aimo_outcomes AS (
       SELECT o.${user} AS aimo_user, COUNT(*) AS aimo_orders,
              SUM(${money(spec.revenueColumn ?? 'revenue')}) AS aimo_revenue,
              SUM(${money(spec.marginColumn ?? 'margin')}) AS aimo_margin
       FROM ${d.table(spec.ordersTable)} o
       WHERE ${ts} >= ${d.cast('@aimo_from', 'timestamp')} AND ${ts} < ${d.cast('@aimo_to', 'timestamp')}${notReturned}
       GROUP BY o.${user}
     )
     SELECT a.aimo_arm AS ${q('arm')},
            COUNT(*) AS ${q('users')},
            SUM(CASE WHEN u.aimo_orders > 0 THEN 1 ELSE 0 END) AS ${q('converters')},
            SUM(${perUser('aimo_orders')}) AS ${q('orders')},
            SUM(${perUser('aimo_revenue')}) AS ${q('revenue_sum')},
            SUM(${perUser('aimo_revenue')} * ${perUser('aimo_revenue')}) AS ${q('revenue_sum_sq')},
            SUM(${perUser('aimo_margin')}) AS ${q('margin_sum')},
            SUM(${perUser('aimo_margin')} * ${perUser('aimo_margin')}) AS ${q('margin_sum_sq')}
     FROM aimo_assigned a
     LEFT JOIN aimo_outcomes u ON u.aimo_user = a.aimo_user
     GROUP BY a.aimo_arm
     ORDER BY a.aimo_arm`,
    { ...assigned.params, aimo_from: spec.from, aimo_to: spec.to },
  );
  return rows.map((r) => {
    const users = toNumber(r['users']);
    return {
      arm: String(r['arm']),
      users,
      converters: toNumber(r['converters']),
      orders: toNumber(r['orders']),
      revenue: { n: users, sum: toNumber(r['revenue_sum']), sumOfSquares: toNumber(r['revenue_sum_sq']) },
      margin: { n: users, sum: toNumber(r['margin_sum']), sumOfSquares: toNumber(r['margin_sum_sq']) },
    };
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
    incrementalConversions,
    incrementalRevenue: revenuePerUser ? revenuePerUser.absolute * treatment.users : NaN,
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
