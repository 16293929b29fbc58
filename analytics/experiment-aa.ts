import { addDaysIso } from '../domain/dates';
import type { AaCheck } from '../domain/experiment';
import { differenceOfProportions } from '../domain/stats';
import type { TableRef } from '../domain/table-ref';
import type { Warehouse } from '../warehouse/warehouse';
import { toNumber } from './sql';

export interface AaSpec {
  readonly usersTable: TableRef;
  readonly ordersTable: TableRef;
  readonly experimentId: string;
  readonly treatmentShare: number;
  /** The outcome window the A/A splits are compared on: days before the test, no treatment anywhere */
  readonly from: string;
  readonly days: number;
  readonly alpha: number;
  readonly splits: number;
}

/**
 * The automated A/A check: the eligible users re-randomised `splits` times
 * with the assignment's own hash (salted per split), and each split's
 * conversion over a pre-period with no treatment read out as the real test
 * would be. All splits are one query (splits × 2 rows come back). About
 * alpha of them may look significant; many more means the readout or the
 * data (duplicated users, leaking assignment) is miscalibrated.
 */
export async function runAaSplits(wh: Warehouse, spec: AaSpec): Promise<AaCheck> {
  const d = wh.dialect;
  const q = (c: string) => d.quote(c);
  if (!(Number.isInteger(spec.splits) && spec.splits >= 20 && spec.splits <= 1000)) throw new RangeError(`splits must be an integer from 20 to 1000, got ${spec.splits}`);
  const to = addDaysIso(spec.from, spec.days);
  const salts = Array.from({ length: spec.splits }, (_, i) => `SELECT ${i} AS aimo_split`).join(' UNION ALL ');
  const rows = await wh.query(
    `WITH aimo_users AS (SELECT DISTINCT ${q('user_id')} AS aimo_user FROM ${d.table(spec.usersTable)}),
     aimo_converted AS (
       SELECT DISTINCT ${q('user_id')} AS aimo_user FROM ${d.table(spec.ordersTable)}
       WHERE ${q('order_ts')} >= ${d.cast('@aimo_from', 'timestamp')} AND ${q('order_ts')} < ${d.cast('@aimo_to', 'timestamp')}
     ),
     aimo_splits AS (${salts})
     SELECT s.aimo_split AS ${q('split')},
            CASE WHEN ${d.unitHash(`@aimo_salt || ':' || ${d.cast('s.aimo_split', 'string')} || ':' || u.aimo_user`)} < @aimo_share THEN 'treatment' ELSE 'control' END AS ${q('arm')},
            COUNT(*) AS ${q('users')}, SUM(CASE WHEN c.aimo_user IS NULL THEN 0 ELSE 1 END) AS ${q('converters')}
     FROM aimo_users u CROSS JOIN aimo_splits s LEFT JOIN aimo_converted c ON c.aimo_user = u.aimo_user
     GROUP BY 1, 2`,
    { aimo_from: spec.from, aimo_to: to, aimo_salt: `${spec.experimentId}:aa`, aimo_share: spec.treatmentShare },
  );
  const bySplit = new Map<number, { control?: { users: number; converters: number }; treatment?: { users: number; converters: number } }>();
  for (const r of rows) {
    const split = toNumber(r['split']);
    const entry = bySplit.get(split) ?? {};
    entry[String(r['arm']) as 'control' | 'treatment'] = { users: toNumber(r['users']), converters: toNumber(r['converters']) };
    bySplit.set(split, entry);
  }
  const pValues: number[] = [];
  for (const { control, treatment } of bySplit.values()) {
    if (!control || !treatment) continue;
    pValues.push(differenceOfProportions({ successes: control.converters, trials: control.users }, { successes: treatment.converters, trials: treatment.users }, 1 - spec.alpha).pValue);
  }
  return summariseAa(pValues, spec.alpha, { from: spec.from, to });
}

/** FPR against alpha + 3 binomial standard errors, and the KS distance of the p-values from uniform. */
export function summariseAa(pValues: readonly number[], alpha: number, window: { from: string; to: string }): AaCheck {
  const splits = pValues.length;
  const falsePositives = pValues.filter((p) => p < alpha).length;
  const falsePositiveRate = splits > 0 ? falsePositives / splits : 0;
  const limit = alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / Math.max(1, splits));
  const sorted = [...pValues].sort((a, b) => a - b);
  const ksDistance = sorted.reduce((m, p, i) => Math.max(m, Math.abs((i + 1) / splits - p), Math.abs(p - i / splits)), 0);
  const passed = splits > 0 && falsePositiveRate <= limit;
  return {
    splits,
    alpha,
    falsePositives,
    falsePositiveRate,
    limit,
    ksDistance,
    passed,
    window,
    summary: `A/A: ${falsePositives} of ${splits} re-randomised splits significant at ${alpha} (${(falsePositiveRate * 100).toFixed(1)} %, limit ${(limit * 100).toFixed(1)} %); KS distance of the p-values ${ksDistance.toFixed(3)}: ${passed ? 'passed' : 'FAILED'}`,
  };
}
