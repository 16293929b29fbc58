import type { GeoReadout } from '../domain/experiment';
import { NonRetryableError } from '../domain/errors';
import { pairedRandomizationInterval } from '../domain/stats';
import type { TableRef } from '../domain/table-ref';
import type { Warehouse } from '../warehouse/warehouse';
import { toNumber } from './sql';

export interface RegionOutcome {
  readonly region: string;
  readonly users: number;
  /** Users with an order in the outcome window, and in the pre-period */
  readonly converters: number;
  readonly preConverters: number;
}

export interface RegionOutcomeSpec {
  /** (user_id, region, market) */
  readonly regionsTable: TableRef;
  readonly ordersTable: TableRef;
  readonly market: string;
  readonly window: { readonly from: string; readonly to: string };
  readonly preWindow: { readonly from: string; readonly to: string };
}

/** Per region of the market, in one query: users, and converters in the outcome window and in the pre-period. */
export async function measureRegions(wh: Warehouse, spec: RegionOutcomeSpec): Promise<RegionOutcome[]> {
  const d = wh.dialect;
  const q = (c: string) => d.quote(c);
  const at = (p: string) => d.cast(`@${p}`, 'timestamp');
  const converted = (from: string, to: string) =>
    `SELECT DISTINCT ${q('user_id')} AS aimo_user FROM ${d.table(spec.ordersTable)} WHERE ${q('order_ts')} >= ${at(from)} AND ${q('order_ts')} < ${at(to)}`;
  const rows = await wh.query(
    `WITH aimo_regions AS (
       SELECT DISTINCT ${q('user_id')} AS aimo_user, ${d.cast(q('region'), 'string')} AS aimo_region
       FROM ${d.table(spec.regionsTable)} WHERE ${q('market')} = @aimo_market
     ),
     aimo_post AS (${converted('aimo_from', 'aimo_to')}),
     aimo_pre AS (${converted('aimo_pre_from', 'aimo_pre_to')})
     SELECT r.aimo_region AS ${q('region')}, COUNT(*) AS ${q('users')},
            SUM(CASE WHEN p.aimo_user IS NULL THEN 0 ELSE 1 END) AS ${q('converters')},
            SUM(CASE WHEN b.aimo_user IS NULL THEN 0 ELSE 1 END) AS ${q('pre_converters')}
     FROM aimo_regions r
     LEFT JOIN aimo_post p ON p.aimo_user = r.aimo_user
     LEFT JOIN aimo_pre b ON b.aimo_user = r.aimo_user
     GROUP BY r.aimo_region
     ORDER BY r.aimo_region`,
    { aimo_market: spec.market, aimo_from: spec.window.from, aimo_to: spec.window.to, aimo_pre_from: spec.preWindow.from, aimo_pre_to: spec.preWindow.to },
  );
  return rows.map((r) => ({ region: String(r['region']), users: toNumber(r['users']), converters: toNumber(r['converters']), preConverters: toNumber(r['pre_converters']) }));
}

export interface RegionPair {
  readonly pair: number;
  readonly treatment: string;
  readonly control: string;
}

/**
 * Matched pairs: regions sorted by their pre-period conversion, neighbours
 * paired (an odd one out is left out of the test), and within each pair a
 * coin keyed by the experiment and the pair decides which one is treated.
 */
export function pairRegions(regions: readonly RegionOutcome[], experimentId: string, minRegions: number): { pairs: RegionPair[]; leftOut: string[] } {
  const usable = regions.filter((r) => r.users > 0);
  if (usable.length < minRegions) {
    throw new NonRetryableError(
      'TooFewRegions',
      `a geo test needs at least ${minRegions} regions with users (experiment.geo.minRegions); the market has ${usable.length}: pick a market with more regions, or use design "ab"`,
    );
  }
  const sorted = [...usable].sort((a, b) => a.preConverters / a.users - b.preConverters / b.users || (a.region < b.region ? -1 : 1));
  const pairs: RegionPair[] = [];
  for (let i = 0; i + 1 < sorted.length; i += 2) {
    const [a, b] = [sorted[i]!.region, sorted[i + 1]!.region];
    const first = (fnv1a32(`${experimentId}:${a}:${b}`) & 1) === 0;
    pairs.push({ pair: pairs.length + 1, treatment: first ? a : b, control: first ? b : a });
  }
  return { pairs, leftOut: sorted.length % 2 ? [sorted[sorted.length - 1]!.region] : [] };
}

/**
 * The geo effect: per pair, the treated region's conversion minus the
 * control region's in the test window, less the same difference in the
 * pre-period (difference-in-differences on pairs matched by their
 * pre-period), averaged over pairs, with the randomisation interval of the
 * pair design.
 */
export function analyseGeo(
  regions: readonly RegionOutcome[],
  pairs: readonly RegionPair[],
  options: { confidence: number; permutations: number; preWindow: { from: string; to: string } },
): GeoReadout {
  const byName = new Map(regions.map((r) => [r.region, r]));
  const region = (name: string) => {
    const r = byName.get(name);
    if (!r || r.users === 0) throw new NonRetryableError('MissingRegion', `region ${name} of the geo assignment has no users in the regions table`);
    return { post: r.converters / r.users, pre: r.preConverters / r.users };
  };
  const rows = pairs.map((p) => {
    const [t, c] = [region(p.treatment), region(p.control)];
    return { treatment: p.treatment, control: p.control, difference: t.post - c.post, preDifference: t.pre - c.pre };
  });
  const users = (names: string[]) => names.reduce((s, n) => s + (byName.get(n)?.users ?? 0), 0);
  return {
    method: 'matched-pairs difference-in-differences, randomisation interval',
    regions: pairs.length * 2,
    pairs: rows,
    effect: pairedRandomizationInterval(rows.map((r) => r.difference - r.preDifference), options.confidence, options.permutations),
    preWindow: options.preWindow,
    users: { control: users(pairs.map((p) => p.control)), treatment: users(pairs.map((p) => p.treatment)) },
  };
}

function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
