import { addDaysIso } from '../domain/dates';
import type { ExperimentDesign } from '../domain/experiment';
import { NonRetryableError } from '../domain/errors';
import { cupedDifference, groupSequentialBoundaries, minimumDetectableEffect, normalSurvival, obrienFlemingSpending, proportionTestPower, requiredUsers } from '../domain/stats';
import type { TableRef } from '../domain/table-ref';
import type { Warehouse } from '../warehouse/warehouse';
import { toNumber } from './sql';

/** Outcome windows (days) whose baseline conversion the design measures, to say how long a test must run. */
export const CANDIDATE_DAYS = [7, 14, 21, 28, 42, 56, 90] as const;

export interface DesignBaselineSpec {
  /** The users the test will assign (one row per user) */
  readonly usersTable: TableRef;
  readonly ordersTable: TableRef;
  readonly userColumn?: string;
  readonly timestampColumn?: string;
  /** The day the outcome window starts; the baseline is measured on the days before it that have data */
  readonly startDate: string;
  readonly measureDays: number;
}

export interface DesignBaseline {
  readonly users: number;
  /** Last day + 1 of the measured history */
  readonly end: string;
  readonly historyDays: number;
  /** Converters per window length, over the days just before `end` */
  readonly converters: ReadonlyArray<{ readonly days: number; readonly converters: number }>;
  /** The window of measureDays before `end` (y) and the one before it (x): the CUPED correlation a test can expect */
  readonly lagged: { readonly sumX: number; readonly sumY: number; readonly sumXY: number } | null;
}

/** One pass over the orders: per user the latest order before the end, so every window's converters are conditional sums. */
export async function measureDesignBaseline(wh: Warehouse, spec: DesignBaselineSpec): Promise<DesignBaseline> {
  const d = wh.dialect;
  const q = (c: string) => d.quote(c);
  const user = q(spec.userColumn ?? 'user_id');
  const ts = q(spec.timestampColumn ?? 'order_ts');
  const [range] = await wh.query(`SELECT MIN(${ts}) AS first_ts, MAX(${ts}) AS last_ts FROM ${d.table(spec.ordersTable)}`);
  if (!range?.['last_ts']) throw new NonRetryableError('NoBaselineData', `${spec.ordersTable.schema}.${spec.ordersTable.name} has no orders: the experiment cannot be designed without a baseline`);
  const day = (v: unknown) => new Date(v as string | Date).toISOString().slice(0, 10);
  const dayAfterLast = addDaysIso(day(range['last_ts']), 1);
  const end = spec.startDate < dayAfterLast ? spec.startDate : dayAfterLast;
  const historyDays = Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${day(range['first_ts'])}T00:00:00Z`)) / 86_400_000);
  const windows = [...new Set([...CANDIDATE_DAYS, spec.measureDays])].filter((w) => w <= historyDays).sort((a, b) => a - b);
  if (windows.length === 0) throw new NonRetryableError('NoBaselineData', `only ${historyDays} days of orders before ${end}: the design needs at least 7`);
  const m = spec.measureDays;
  const lagged = 2 * m <= historyDays;
  const params: Record<string, string> = { aimo_end: end, aimo_mid: addDaysIso(end, -m), aimo_lag: addDaysIso(end, -2 * m) };
  windows.forEach((w) => (params[`aimo_from_${w}`] = addDaysIso(end, -w)));
  const at = (p: string) => d.cast(`@${p}`, 'timestamp');
  const flag = (cond: string) => `CASE WHEN ${cond} THEN 1 ELSE 0 END`;
  const [row] = await wh.query(
    `WITH aimo_users AS (SELECT DISTINCT ${user} AS aimo_user FROM ${d.table(spec.usersTable)}),
     aimo_orders AS (
       SELECT ${user} AS aimo_user, MAX(${ts}) AS aimo_last,
              MAX(${flag(`${ts} >= ${at('aimo_lag')} AND ${ts} < ${at('aimo_mid')}`)}) AS aimo_lagged
       FROM ${d.table(spec.ordersTable)} WHERE ${ts} < ${at('aimo_end')} GROUP BY ${user}
     )
     SELECT COUNT(*) AS ${q('users')},
            ${windows.map((w) => `SUM(${flag(`o.aimo_last >= ${at(`aimo_from_${w}`)}`)}) AS ${q(`c_${w}`)}`).join(', ')},
            SUM(COALESCE(o.aimo_lagged, 0)) AS ${q('lag_x')},
            SUM(${flag(`o.aimo_last >= ${at('aimo_mid')}`)} * COALESCE(o.aimo_lagged, 0)) AS ${q('lag_xy')}
     FROM aimo_users u LEFT JOIN aimo_orders o ON o.aimo_user = u.aimo_user`,
    params,
  );
  const n = (k: string) => toNumber(row?.[k]);
  const converters = windows.map((w) => ({ days: w, converters: n(`c_${w}`) }));
  return {
    users: n('users'),
    end,
    historyDays,
    converters,
    lagged: lagged ? { sumX: n('lag_x'), sumY: converters.find((c) => c.days === m)!.converters, sumXY: n('lag_xy') } : null,
  };
}

export interface DesignSettings {
  readonly design: 'ab' | 'geo';
  readonly analysis: 'fixed' | 'sequential';
  readonly alpha: number;
  readonly power: number;
  readonly treatmentShare: number;
  readonly measureDays: number;
  /** Relative conversion lift to detect */
  readonly mdeRelative: number;
  readonly mdeSource: 'plan' | 'kpi-target';
  /** Planned interim looks (sequential): the final boundary is what the power is computed against */
  readonly looks: number;
  readonly cuped: boolean;
}

/** The relative conversion lift a KPI target asks for: a CAC cut at the same spend needs 1/(1 + t) − 1 more conversions. */
export function liftForKpiTarget(metric: string, targetChange: number): number {
  if (metric === 'cac') return Math.abs(1 / (1 + targetChange) - 1);
  return Math.abs(targetChange);
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

/**
 * Power, MDE, required users and days from the measured baseline. A
 * sequential test is powered at its final boundary (more conservative than
 * the fixed test's z: early crossings only add power); CUPED's expected
 * variance reduction is reported, not counted, since it is only known after.
 */
export function designFromBaseline(b: DesignBaseline, s: DesignSettings): ExperimentDesign {
  const treatmentUsers = Math.round(b.users * s.treatmentShare);
  const controlUsers = b.users - treatmentUsers;
  const rateAt = (days: number) => {
    const c = b.converters.find((x) => x.days === days) ?? [...b.converters].reverse().find((x) => x.days <= days) ?? b.converters[0]!;
    return b.users > 0 ? c.converters / b.users : 0;
  };
  const baselineRate = rateAt(s.measureDays);
  let testAlpha = s.alpha;
  if (s.analysis === 'sequential' && s.looks > 1) {
    const looks = Array.from({ length: s.looks }, (_, i) => ({ information: i + 1, alphaSpent: obrienFlemingSpending((i + 1) / s.looks, s.alpha) }));
    testAlpha = 2 * normalSurvival(groupSequentialBoundaries(looks).at(-1)!);
  }
  const powerAt = (rate: number, relative: number) =>
    rate > 0 && rate < 1 && controlUsers > 0 && treatmentUsers > 0
      ? proportionTestPower({ controlRate: rate, absoluteEffect: Math.min(1 - rate, rate * relative), controlUsers, treatmentUsers, alpha: testAlpha })
      : 0;
  const power = powerAt(baselineRate, s.mdeRelative);
  const byDays = b.converters.map((c) => ({ days: c.days, baselineRate: c.converters / Math.max(1, b.users), power: powerAt(c.converters / Math.max(1, b.users), s.mdeRelative) }));
  const requiredDays = byDays.find((x) => x.power >= s.power)?.days ?? null;
  const detectable =
    baselineRate > 0 && baselineRate < 1 && controlUsers > 0 && treatmentUsers > 0
      ? minimumDetectableEffect({ controlRate: baselineRate, controlUsers, treatmentUsers, alpha: testAlpha, power: s.power }) / baselineRate
      : Infinity;
  const mdeAbsolute = baselineRate * s.mdeRelative;
  const needed = baselineRate > 0 && baselineRate < 1 ? requiredUsers({ controlRate: baselineRate, absoluteEffect: Math.min(1 - baselineRate, mdeAbsolute), treatmentShare: s.treatmentShare, alpha: testAlpha, power: s.power }) : Infinity;
  let expectedVarianceReduction: number | null = null;
  if (s.cuped && b.lagged && b.users > 2) {
    const { sumX, sumY, sumXY } = b.lagged;
    const half = { n: b.users, sumY, sumY2: sumY, sumX, sumX2: sumX, sumXY };
    expectedVarianceReduction = cupedDifference(half, half).varianceReduction;
  }
  const underpowered = !(power >= s.power);
  const summary =
    `power ${pct(power)} to detect +${pct(s.mdeRelative)} conversions (${(mdeAbsolute * 100).toFixed(2)} pp on a ${pct(baselineRate)} baseline) ` +
    `with ${controlUsers} control and ${treatmentUsers} treated users over ${s.measureDays} days; ` +
    `detectable at ${pct(s.power)} power: +${Number.isFinite(detectable) ? pct(detectable) : '∞'}; ` +
    `${Number.isFinite(needed) ? `${needed} users needed` : 'no sample suffices'}` +
    `${requiredDays !== null ? `, ${requiredDays} days would reach it` : ', no measured window reaches it'}` +
    `${underpowered ? ' — underpowered' : ''}`;
  const v = baselineRate * (1 - baselineRate);
  return {
    design: s.design,
    analysis: s.analysis,
    alpha: s.alpha,
    targetPower: s.power,
    eligibleUsers: b.users,
    controlUsers,
    treatmentUsers,
    baselineRate,
    baselineWindow: { from: addDaysIso(b.end, -s.measureDays), to: b.end },
    measureDays: s.measureDays,
    mdeRelative: s.mdeRelative,
    mdeAbsolute,
    mdeSource: s.mdeSource,
    power,
    detectableRelative: Number.isFinite(detectable) ? detectable : null,
    requiredUsers: Number.isFinite(needed) ? needed : null,
    requiredDays,
    byDays,
    expectedVarianceReduction,
    plannedVariance: controlUsers > 0 && treatmentUsers > 0 ? v / controlUsers + v / treatmentUsers : 0,
    underpowered,
    summary,
  };
}
