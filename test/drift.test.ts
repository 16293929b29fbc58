import { computeDrift } from '../analytics/drift';
import { binCountsQuery, categoryQuery, comparedColumns, ksRefinementQuery, profileQuery, type NumericBinning } from '../analytics/drift-sql';
import {
  ksPValue,
  parseDriftCheck,
  parseDriftThresholds,
  psiBinsFromFine,
  type CategoricalFeatureDrift,
  type DriftReport,
  type FeatureDrift,
  type NumericFeatureDrift,
} from '../domain/drift';
import { BigQueryDialect, SnowflakeDialect, type Dialect } from '../warehouse/dialect';
import { DuckDbWarehouse } from '../warehouse/duckdb';

/**
 * Drift numbers are checked against plain-JS computations on the raw values
 * and the very bin edges the SQL used; verdicts against shifts planted in
 * data generated in SQL (a Box–Muller normal fed by the dialect's unit hash,
 * so every run sees the same numbers).
 */

const EPSILON = 1e-4;
const TOLERANCE = 1e-6;

let wh: DuckDbWarehouse;

beforeAll(async () => {
  wh = await DuckDbWarehouse.open(':memory:');
});

afterAll(async () => {
  await wh.close();
});

/** A standard normal from two hashes of a per-row key (a SQL expression). */
function normal(d: Dialect, key: string): string {
  const u1 = d.unitHash(`${key} || '-u1'`);
  const u2 = d.unitHash(`${key} || '-u2'`);
  return `(sqrt(-2 * ln(1 - ${u1})) * cos(2 * acos(-1) * ${u2}))`;
}

/** A table of `rows` rows, one normal column per feature with the given mean and spread. */
async function gaussianTable(name: string, rows: number, features: Record<string, { mean: number; sd: number }>): Promise<void> {
  const columns = Object.entries(features).map(
    ([f, { mean, sd }]) => `${mean} + ${sd} * ${normal(wh.dialect, `'${name}-${f}-' || CAST(i AS VARCHAR)`)} AS ${f}`,
  );
  await wh.execute(`CREATE OR REPLACE TABLE ${name} AS SELECT i AS id, ${columns.join(', ')} FROM range(${rows}) t(i)`);
}

/** A categorical column drawn from `shares` (category → probability), keyed by a hash of the row. */
function categorical(key: string, shares: Record<string, number>): string {
  let cumulative = 0;
  const u = wh.dialect.unitHash(key);
  const whens = Object.entries(shares).map(([category, p]) => {
    cumulative += p;
    return `WHEN ${u} < ${cumulative} THEN '${category}'`;
  });
  return `CASE ${whens.join(' ')} END`;
}

async function numbers(sql: string): Promise<Array<number | null>> {
  const rows = await wh.query<{ v: number | null }>(sql);
  return rows.map((r) => r.v);
}

async function strings(sql: string): Promise<Array<string | null>> {
  const rows = await wh.query<{ v: string | null }>(sql);
  return rows.map((r) => r.v);
}

function feature(report: DriftReport, name: string, kind: 'categorical'): CategoricalFeatureDrift;
function feature(report: DriftReport, name: string, kind: 'numeric' | 'prediction'): NumericFeatureDrift;
function feature(report: DriftReport, name: string, kind: FeatureDrift['kind']): FeatureDrift {
  const f = report.features.find((x) => x.feature === name);
  if (!f || f.kind !== kind) throw new Error(`no ${kind} feature ${name} in the report`);
  return f;
}

// --- Reference computations, written independently of the code under test

function sharesOf(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => c / total);
}

function exactPsi(referenceCounts: number[], currentCounts: number[]): number {
  const r = sharesOf(referenceCounts).map((s) => (s === 0 ? EPSILON : s));
  const c = sharesOf(currentCounts).map((s) => (s === 0 ? EPSILON : s));
  return r.reduce((psi, ri, i) => psi + (c[i]! - ri) * Math.log(c[i]! / ri), 0);
}

function exactJsDistance(referenceCounts: number[], currentCounts: number[]): number {
  const p = sharesOf(referenceCounts);
  const q = sharesOf(currentCounts);
  const kl = (a: number[], m: number[]) => a.reduce((s, ai, i) => (ai > 0 ? s + ai * Math.log2(ai / m[i]!) : s), 0);
  const m = p.map((pi, i) => (pi + q[i]!) / 2);
  return Math.sqrt(Math.max(0, (kl(p, m) + kl(q, m)) / 2));
}

/** sup |F_a − F_b| by walking both sorted samples through every distinct value. */
function exactKs(a: number[], b: number[]): number {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

function binCounts(values: number[], bins: NumericFeatureDrift['bins']): number[] {
  return bins.map((b) => values.filter((v) => (b.lower === null || v >= b.lower) && (b.upper === null || v < b.upper)).length);
}

function categoryCounts(values: string[], bins: CategoricalFeatureDrift['bins']): number[] {
  const kept = new Set(bins.filter((b) => b.category !== null).map((b) => b.category));
  return bins.map((b) => values.filter((v) => (b.category === null ? !kept.has(v) : v === b.category)).length);
}

const nonNull = <T>(xs: Array<T | null>): T[] => xs.filter((x): x is T => x !== null);

describe('computeDrift against an exact computation', () => {
  let report: DriftReport;

  beforeAll(async () => {
    const d = wh.dialect;
    // Ties (a rounded score), nulls, a category only in the reference and one only in the current window.
    await wh.execute(`CREATE OR REPLACE TABLE exact_ref AS SELECT i AS id,
        CASE WHEN i % 11 = 0 THEN NULL ELSE ${normal(d, `'exact-ref-x-' || CAST(i AS VARCHAR)`)} END AS x,
        CAST(floor(20 * ${d.unitHash(`'exact-ref-n-' || CAST(i AS VARCHAR)`)}) AS INTEGER) AS n,
        CASE WHEN i % 7 = 0 THEN NULL ELSE ${categorical(`'exact-ref-c-' || CAST(i AS VARCHAR)`, { web: 0.5, app: 0.3, store: 0.15, fax: 0.05 })} END AS channel,
        round(${d.unitHash(`'exact-ref-s-' || CAST(i AS VARCHAR)`)}, 2) AS score
      FROM range(3000) t(i)`);
    await wh.execute(`CREATE OR REPLACE TABLE exact_cur AS SELECT i AS id,
        CASE WHEN i % 5 = 0 THEN NULL ELSE 0.3 + 1.2 * ${normal(d, `'exact-cur-x-' || CAST(i AS VARCHAR)`)} END AS x,
        CAST(floor(24 * ${d.unitHash(`'exact-cur-n-' || CAST(i AS VARCHAR)`)}) AS INTEGER) AS n,
        ${categorical(`'exact-cur-c-' || CAST(i AS VARCHAR)`, { web: 0.4, app: 0.35, store: 0.15, kiosk: 0.1 })} AS channel,
        round(power(${d.unitHash(`'exact-cur-s-' || CAST(i AS VARCHAR)`)}, 1.3), 2) AS score
      FROM range(2000) t(i)`);
    report = await computeDrift(wh, {
      reference: { table: { name: 'exact_ref' } },
      current: { table: { name: 'exact_cur' } },
      numericFeatures: ['x', 'n'],
      categoricalFeatures: ['channel'],
      prediction: 'score',
    });
  });

  it.each([
    ['x', 'numeric'],
    ['n', 'numeric'],
    ['score', 'prediction'],
  ] as const)('numeric %s: bin counts, PSI, JS distance and KS', async (name, kind) => {
    const f = feature(report, name, kind);
    const ref = nonNull(await numbers(`SELECT CAST(${name} AS DOUBLE) AS v FROM exact_ref`));
    const cur = nonNull(await numbers(`SELECT CAST(${name} AS DOUBLE) AS v FROM exact_cur`));
    const referenceCounts = binCounts(ref, f.bins);
    const currentCounts = binCounts(cur, f.bins);

    expect(f.bins.map((b) => b.referenceCount)).toEqual(referenceCounts);
    expect(f.bins.map((b) => b.currentCount)).toEqual(currentCounts);
    expect(f.referenceCount).toBe(ref.length);
    expect(f.currentCount).toBe(cur.length);
    expect(f.bins.length).toBeGreaterThan(1);
    expect(f.bins[0]!.lower).toBeNull();
    expect(f.bins.at(-1)!.upper).toBeNull();
    expect(Math.abs(f.psi! - exactPsi(referenceCounts, currentCounts))).toBeLessThan(TOLERANCE);
    expect(Math.abs(f.jsDistance! - exactJsDistance(referenceCounts, currentCounts))).toBeLessThan(TOLERANCE);
    expect(Math.abs(f.ks! - exactKs(ref, cur))).toBeLessThan(1e-12);
    expect(f.ksMethod).toBe('exact');
    expect(f.ksPValue).toBeGreaterThanOrEqual(0);
    expect(f.ksPValue).toBeLessThanOrEqual(1);
  });

  it('numeric x: null shares per window', () => {
    const x = feature(report, 'x', 'numeric');
    expect(x.referenceNullShare).toBeCloseTo(273 / 3000, 12); // i % 11 = 0 for i < 3000
    expect(x.currentNullShare).toBeCloseTo(400 / 2000, 12);
  });

  it('categorical channel: counts, PSI and JS distance, with a category missing from each window', async () => {
    const f = feature(report, 'channel', 'categorical');
    const ref = nonNull(await strings(`SELECT channel AS v FROM exact_ref`));
    const cur = nonNull(await strings(`SELECT channel AS v FROM exact_cur`));
    const referenceCounts = categoryCounts(ref, f.bins);
    const currentCounts = categoryCounts(cur, f.bins);

    expect(f.bins.map((b) => b.category).sort()).toEqual(['app', 'fax', 'kiosk', 'store', 'web']);
    expect(f.bins.map((b) => b.referenceCount)).toEqual(referenceCounts);
    expect(f.bins.map((b) => b.currentCount)).toEqual(currentCounts);
    expect(f.bins.find((b) => b.category === 'fax')!.currentCount).toBe(0);
    expect(f.bins.find((b) => b.category === 'kiosk')!.referenceCount).toBe(0);
    expect(Number.isFinite(f.psi)).toBe(true);
    expect(Math.abs(f.psi! - exactPsi(referenceCounts, currentCounts))).toBeLessThan(TOLERANCE);
    expect(Math.abs(f.jsDistance! - exactJsDistance(referenceCounts, currentCounts))).toBeLessThan(TOLERANCE);
    expect(f.referenceNullShare).toBeCloseTo(429 / 3000, 12); // i % 7 = 0 for i < 3000
    expect(f.currentNullShare).toBe(0);
  });

  it('pools categories beyond maxCategories into one bucket, still matching the exact numbers', async () => {
    const pooled = await computeDrift(wh, {
      reference: { table: { name: 'exact_ref' } },
      current: { table: { name: 'exact_cur' } },
      categoricalFeatures: ['channel'],
      maxCategories: 2,
    });
    const f = feature(pooled, 'channel', 'categorical');
    expect(f.bins.map((b) => b.category)).toEqual(['web', 'app', null]);
    const referenceCounts = categoryCounts(nonNull(await strings(`SELECT channel AS v FROM exact_ref`)), f.bins);
    const currentCounts = categoryCounts(nonNull(await strings(`SELECT channel AS v FROM exact_cur`)), f.bins);
    expect(f.bins.map((b) => [b.referenceCount, b.currentCount])).toEqual(referenceCounts.map((r, i) => [r, currentCounts[i]]));
    expect(Math.abs(f.jsDistance! - exactJsDistance(referenceCounts, currentCounts))).toBeLessThan(TOLERANCE);
  });

  it('applies window filters: equality and half-open ranges', async () => {
    const filtered = await computeDrift(wh, {
      reference: { table: { name: 'exact_ref' }, filter: { column: 'id', from: 1000, to: 2500 } },
      current: { table: { name: 'exact_cur' }, filter: [{ column: 'n', value: 3 }] },
      numericFeatures: ['x'],
    });
    const x = feature(filtered, 'x', 'numeric');
    const ref = nonNull(await numbers(`SELECT x AS v FROM exact_ref WHERE id >= 1000 AND id < 2500`));
    const cur = nonNull(await numbers(`SELECT x AS v FROM exact_cur WHERE n = 3`));
    expect(filtered.referenceRows).toBe(1500);
    expect(x.referenceCount).toBe(ref.length);
    expect(x.currentCount).toBe(cur.length);
    expect(Math.abs(x.ks! - exactKs(ref, cur))).toBeLessThan(TOLERANCE);
  });
});

describe('computeDrift verdicts on planted shifts', () => {
  const base = { a: { mean: 0, sd: 1 }, b: { mean: 10, sd: 2 }, c: { mean: -3, sd: 0.5 }, d: { mean: 0, sd: 1 }, e: { mean: 100, sd: 15 }, f: { mean: 1, sd: 1 } };
  const features = Object.keys(base);

  beforeAll(async () => {
    await gaussianTable('planted_ref', 4000, base);
    await gaussianTable('planted_same', 4000, base);
    // b moves by half a standard deviation, e spreads out by 60 %: both are drifts the field would act on.
    await gaussianTable('planted_shifted', 4000, { ...base, b: { mean: 11, sd: 2 }, e: { mean: 100, sd: 24 } });
  });

  const check = (current: string, thresholds = {}) =>
    computeDrift(wh, {
      reference: { table: { name: 'planted_ref' } },
      current: { table: { name: current } },
      numericFeatures: features,
      categoricalFeatures: [],
      thresholds,
    });

  it('flags exactly the shifted features; the dataset verdict follows the share rule', async () => {
    const report = await check('planted_shifted');
    expect(report.features.filter((f) => f.drifted).map((f) => f.feature)).toEqual(['b', 'e']);
    expect(report.driftedShare).toBeCloseTo(2 / 6, 12);
    expect(report.datasetDrift).toBe(false);
    for (const f of report.features) expect(f.psi! >= 0.1).toBe(f.drifted);
    for (const f of report.features) expect(f.method).toBe('wasserstein');

    const stricter = await check('planted_shifted', { driftedShare: 0.3 });
    expect(stricter.datasetDrift).toBe(true);
    expect(stricter.thresholds).toEqual({ psi: 0.1, jsDistance: 0.1, driftedShare: 0.3 });
  });

  it('flags nothing when the current window comes from the same distribution', async () => {
    const report = await check('planted_same');
    expect(report.features.filter((f) => f.drifted)).toEqual([]);
    expect(report.driftedShare).toBe(0);
    expect(report.datasetDrift).toBe(false);
    for (const f of report.features) expect(f.psi!).toBeLessThan(0.03);
  });

  it('judges large windows by the Wasserstein distance, which catches a fifth of a standard deviation that PSI lets through', async () => {
    await gaussianTable('planted_nudged', 4000, { ...base, a: { mean: 0.2, sd: 1 } });
    const byDefault = await check('planted_nudged');
    const a = feature(byDefault, 'a', 'numeric');
    expect(byDefault.features.filter((f) => f.drifted).map((f) => f.feature)).toEqual(['a']);
    expect(a).toMatchObject({ method: 'wasserstein', threshold: 0.1 });
    expect(a.wasserstein!).toBeGreaterThan(0.15);
    expect(a.reason).toMatch(/^Wasserstein distance \(normed\) 0\.\d+ ≥ 0\.1/);
    for (const f of byDefault.features.filter((x) => x.feature !== 'a')) expect((f as NumericFeatureDrift).wasserstein!).toBeLessThan(0.1);
  });

  it('can judge by PSI alone, and also by the KS statistic', async () => {
    // A small shift PSI lets through, which a KS bar catches.
    const psiOnly = await check('planted_nudged', { numericMethod: 'psi' });
    expect(feature(psiOnly, 'a', 'numeric').drifted).toBe(false);
    expect(feature(psiOnly, 'a', 'numeric').method).toBe('psi');
    const withKs = await check('planted_nudged', { numericMethod: 'psi', ksStatistic: 0.05 });
    expect(withKs.features.filter((f) => f.drifted).map((f) => f.feature)).toEqual(['a']);
    expect(feature(withKs, 'a', 'numeric').reason).toMatch(/^KS .* ≥ 0\.05/);
  });
});

/** ∫ |F_a − F_b| dx over the merged sorted samples, divided by the population SD of a: Evidently's normed Wasserstein. */
function exactNormedWasserstein(a: number[], b: number[]): number {
  const points = [...a.map((x) => ({ x, w: 1 / a.length })), ...b.map((x) => ({ x, w: -1 / b.length }))].sort((p, q) => p.x - q.x);
  let cdf = 0;
  let w = 0;
  for (let i = 0; i < points.length - 1; i++) {
    cdf += points[i]!.w;
    w += Math.abs(cdf) * (points[i + 1]!.x - points[i]!.x);
  }
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
  return w / sd;
}

describe('computeDrift at every sample size', () => {
  const base = { a: { mean: 0, sd: 1 }, b: { mean: 10, sd: 2 }, c: { mean: -3, sd: 0.5 } };

  beforeAll(async () => {
    for (const [name, rows] of [['tiny_ref', 20], ['tiny_cur', 20], ['small_ref', 300], ['small_same', 300]] as const) await gaussianTable(name, rows, base);
    await gaussianTable('small_shifted', 300, { ...base, b: { mean: 12, sd: 2 } });
  });

  const check = (reference: string, current: string, thresholds = {}) =>
    computeDrift(wh, { reference: { table: { name: reference } }, current: { table: { name: current } }, numericFeatures: Object.keys(base), thresholds });

  it('gives no verdict on 20 rows per window: not enough rows, said so, and the dataset is not called drifted', async () => {
    const report = await check('tiny_ref', 'tiny_cur');
    for (const f of report.features) {
      expect(f).toMatchObject({ drifted: false, notEnoughRows: true, method: 'ks' });
      expect(f.reason).toBe('not enough rows: 20 reference and 20 current values, a verdict needs at least 30 in each window (thresholds.minRows)');
    }
    expect(report.driftedShare).toBe(0);
    expect(report.datasetDrift).toBe(false);
    const lowered = await check('tiny_ref', 'tiny_cur', { minRows: 10 });
    expect(lowered.features.every((f) => !f.notEnoughRows && f.method === 'ks')).toBe(true);
  });

  it('judges small windows by the KS test: the same distribution passes, a shift of one standard deviation does not', async () => {
    const same = await check('small_ref', 'small_same');
    expect(same.features.filter((f) => f.drifted)).toEqual([]);
    const shifted = await check('small_ref', 'small_shifted');
    expect(shifted.features.filter((f) => f.drifted).map((f) => f.feature)).toEqual(['b']);
    const b = feature(shifted, 'b', 'numeric');
    expect(b).toMatchObject({ method: 'ks', threshold: 0.05, ksMethod: 'exact' });
    expect(b.statistic).toBe(b.ksPValue);
    expect(b.reason).toMatch(/^KS p-value [0-9.e-]+ < 0\.05 \(KS 0\.\d+\)$/);
  });

  it('takes the method and threshold per feature from the thresholds, and refuses a method that does not fit the kind', async () => {
    const report = await check('small_ref', 'small_shifted', { numericMethod: 'wasserstein', features: { b: { method: 'psi', threshold: 5 }, c: { threshold: 0.9 } } });
    expect(feature(report, 'a', 'numeric')).toMatchObject({ method: 'wasserstein', threshold: 0.1 });
    expect(feature(report, 'b', 'numeric')).toMatchObject({ method: 'psi', threshold: 5, drifted: false });
    expect(feature(report, 'c', 'numeric')).toMatchObject({ method: 'wasserstein', threshold: 0.9 });
    await expect(check('small_ref', 'small_shifted', { features: { a: { method: 'chisquare' } } })).rejects.toMatchObject({
      type: 'InvalidDriftThresholds',
      message: 'thresholds.features.a.method: "chisquare" does not apply to a numeric feature: use ks, wasserstein, jensenshannon, psi',
    });
    expect(() => parseDriftThresholds({ categoricalMethod: 'ks' })).toThrow('categoricalMethod: "ks" does not apply to categorical features: use chisquare, jensenshannon, psi');
  });

  it('measures the normed Wasserstein distance like an exact computation on the raw values', async () => {
    const report = await check('small_ref', 'small_shifted', { numericMethod: 'wasserstein' });
    for (const name of Object.keys(base)) {
      const ref = nonNull(await numbers(`SELECT ${name} AS v FROM small_ref`));
      const cur = nonNull(await numbers(`SELECT ${name} AS v FROM small_shifted`));
      const exact = exactNormedWasserstein(ref, cur);
      // Each fine bin's values sit at their mean: off by well under a bin width (range / 1024).
      expect(Math.abs(feature(report, name, 'numeric').wasserstein! - exact)).toBeLessThan(0.01 * Math.max(exact, 0.05));
    }
  });

  it('settles KS exactly at 200 000 rows per window, heavy right tails and ties included, through the finer bracket', async () => {
    const d = wh.dialect;
    const table = (name: string, shift: number) =>
      wh.execute(`CREATE OR REPLACE TABLE ${name} AS SELECT i AS id,
          ${shift} + ${normal(d, `'${name}-x-' || CAST(i AS VARCHAR)`)} AS x,
          exp(2 * ${normal(d, `'${name}-s-' || CAST(i AS VARCHAR)`)} + ${shift}) AS spend,
          CASE WHEN ${d.unitHash(`'${name}-z-' || CAST(i AS VARCHAR)`)} < 0.3 THEN 0 ELSE exp(${normal(d, `'${name}-t-' || CAST(i AS VARCHAR)`)}) END AS spend0,
          CAST(floor(5000 * ${d.unitHash(`'${name}-n-' || CAST(i AS VARCHAR)`)}) AS INTEGER) AS n
        FROM range(200000) t(i)`);
    await table('large_ref', 0);
    await table('large_cur', 0.01);
    const columns = ['x', 'spend', 'spend0', 'n'];
    const report = await computeDrift(wh, { reference: { table: { name: 'large_ref' } }, current: { table: { name: 'large_cur' } }, numericFeatures: columns, thresholds: { exactKs: true } });
    for (const name of columns) {
      const f = feature(report, name, 'numeric');
      const exact = exactKs(nonNull(await numbers(`SELECT CAST(${name} AS DOUBLE) AS v FROM large_ref`)), nonNull(await numbers(`SELECT CAST(${name} AS DOUBLE) AS v FROM large_cur`)));
      expect(f.ksMethod).toBe('exact');
      expect(Math.abs(f.ks! - exact)).toBeLessThan(1e-12);
    }
  });

  it('brackets KS from the fine bins when exact KS is not asked for', async () => {
    const report = await check('small_ref', 'small_shifted', { numericMethod: 'wasserstein', exactKs: false });
    for (const name of Object.keys(base)) {
      const f = feature(report, name, 'numeric');
      const exact = exactKs(nonNull(await numbers(`SELECT ${name} AS v FROM small_ref`)), nonNull(await numbers(`SELECT ${name} AS v FROM small_shifted`)));
      expect(f.ksMethod).toBe('binned');
      expect(f.ks!).toBeLessThanOrEqual(exact + 1e-12);
      expect(f.ksUpperBound!).toBeGreaterThanOrEqual(exact - 1e-12);
    }
  });
});

describe('computeDrift on categorical mixes', () => {
  beforeAll(async () => {
    const table = async (name: string, channelShares: Record<string, number>) =>
      wh.execute(`CREATE OR REPLACE TABLE ${name} AS SELECT i AS id,
          ${categorical(`'${name}-channel-' || CAST(i AS VARCHAR)`, channelShares)} AS channel,
          ${categorical(`'${name}-device-' || CAST(i AS VARCHAR)`, { mobile: 0.6, desktop: 0.3, tablet: 0.1 })} AS device
        FROM range(4000) t(i)`);
    await table('mix_ref', { search: 0.5, social: 0.3, email: 0.2 });
    await table('mix_cur', { search: 0.25, social: 0.3, email: 0.45 });
  });

  it('flags the shifted mix and not the unchanged one', async () => {
    const report = await computeDrift(wh, {
      reference: { table: { name: 'mix_ref' } },
      current: { table: { name: 'mix_cur' } },
      numericFeatures: [],
      categoricalFeatures: ['channel', 'device'],
    });
    const channel = feature(report, 'channel', 'categorical');
    const device = feature(report, 'device', 'categorical');
    expect(channel.drifted).toBe(true);
    expect(channel.jsDistance!).toBeGreaterThan(0.15);
    expect(channel.reason).toMatch(/^JS distance .* ≥ 0\.1/);
    expect(device.drifted).toBe(false);
    expect(device.jsDistance!).toBeLessThan(0.05);
    expect(report.driftedShare).toBe(0.5);
    expect(report.datasetDrift).toBe(true);
  });

  it('judges small windows by the chi-square test, with the p-value of a two-proportion z-test on two categories', async () => {
    await wh.execute(`CREATE OR REPLACE TABLE coin_ref AS SELECT i AS id, CASE WHEN i < 120 THEN 'yes' ELSE 'no' END AS answer FROM range(400) t(i)`);
    await wh.execute(`CREATE OR REPLACE TABLE coin_cur AS SELECT i AS id, CASE WHEN i < 150 THEN 'yes' ELSE 'no' END AS answer FROM range(400) t(i)`);
    const report = await computeDrift(wh, { reference: { table: { name: 'coin_ref' } }, current: { table: { name: 'coin_cur' } }, categoricalFeatures: ['answer'] });
    const answer = feature(report, 'answer', 'categorical');
    // z = (p1 − p2) / sqrt(p(1 − p)(1/n1 + 1/n2)), two-sided p = erfc(|z| / √2)
    const pooled = 270 / 800;
    const z = (150 / 400 - 120 / 400) / Math.sqrt(pooled * (1 - pooled) * (2 / 400));
    expect(answer.chiSquare!).toBeCloseTo(z * z, 9);
    expect(answer).toMatchObject({ method: 'chisquare', threshold: 0.05, drifted: true });
    expect(z).toBeCloseTo(2.2431, 4);
    expect(answer.chiSquarePValue!).toBeCloseTo(0.02489, 5); // 2·(1 − Φ(2.2431))
  });
});

describe('computeDrift edge cases', () => {
  beforeAll(async () => {
    await wh.execute(`CREATE OR REPLACE TABLE edge_ref AS SELECT i AS id, 5 AS flat, 5 AS moved,
        CASE WHEN i % 4 = 0 THEN NULL ELSE i % 10 END AS sparse, i % 3 AS gone, CAST(i % 2 AS VARCHAR) AS tag
      FROM range(400) t(i)`);
    await wh.execute(`CREATE OR REPLACE TABLE edge_cur AS SELECT i AS id, 5 AS flat, CASE WHEN i % 2 = 0 THEN 5 ELSE 7 END AS moved,
        CASE WHEN i % 2 = 0 THEN NULL ELSE i % 10 END AS sparse, CAST(NULL AS INTEGER) AS gone, CAST(i % 2 AS VARCHAR) AS tag
      FROM range(300) t(i)`);
    await wh.execute(`CREATE OR REPLACE TABLE edge_empty AS SELECT * FROM edge_cur LIMIT 0`);
  });

  const edges = (current = 'edge_cur', filter?: { column: string; value: number }) =>
    computeDrift(wh, {
      reference: { table: { name: 'edge_ref' } },
      current: { table: { name: current }, ...(filter ? { filter } : {}) },
      numericFeatures: ['flat', 'moved', 'sparse', 'gone'],
      categoricalFeatures: ['tag'],
    });

  it('gives a constant feature one bin, and judges a moved constant by KS', async () => {
    const report = await edges();
    const flat = feature(report, 'flat', 'numeric');
    expect(flat.bins).toEqual([{ lower: null, upper: null, referenceCount: 400, currentCount: 300, referenceShare: 1, currentShare: 1 }]);
    expect(flat.psi).toBe(0);
    expect(flat.ks).toBe(0);
    expect(flat.drifted).toBe(false);
    const moved = feature(report, 'moved', 'numeric');
    expect(moved.bins).toHaveLength(1);
    expect(moved.ks).toBeCloseTo(0.5, 12);
    expect(moved.drifted).toBe(true);
    expect(moved.reason).toMatch(/reference is constant/);
  });

  it('counts nulls apart from the bins', async () => {
    const report = await edges();
    const sparse = feature(report, 'sparse', 'numeric');
    expect(sparse.referenceNullShare).toBe(0.25);
    expect(sparse.currentNullShare).toBe(0.5);
    expect(sparse.referenceCount).toBe(300);
    expect(sparse.currentCount).toBe(150);
    expect(sparse.bins.reduce((s, b) => s + b.referenceCount, 0)).toBe(300);
    expect(sparse.bins.reduce((s, b) => s + b.currentCount, 0)).toBe(150);
  });

  it('flags a feature that is entirely null in the current window', async () => {
    const gone = feature(await edges(), 'gone', 'numeric');
    expect(gone.currentNullShare).toBe(1);
    expect(gone.psi).toBeUndefined();
    expect(gone.ks).toBeUndefined();
    expect(gone.drifted).toBe(true);
    expect(gone.reason).toMatch(/every value in the current window is null/);
  });

  it('refuses an empty current window with an error that says what to do', async () => {
    await expect(edges('edge_empty')).rejects.toMatchObject({
      type: 'EmptyDriftWindow',
      message: expect.stringMatching(/current window has no rows: edge_empty has no rows; wait for data/),
    });
    await expect(edges('edge_cur', { column: 'id', value: -1 })).rejects.toMatchObject({
      type: 'EmptyDriftWindow',
      message: expect.stringContaining('edge_cur has no rows matching its filter'),
    });
  });

  it('names a column that is not in a table', async () => {
    await expect(
      computeDrift(wh, {
        reference: { table: { name: 'edge_ref' } },
        current: { table: { name: 'edge_cur' } },
        numericFeatures: ['flat', 'spend'],
      }),
    ).rejects.toMatchObject({ type: 'MissingColumn', message: expect.stringContaining('numericFeatures "spend" is not a column of edge_ref') });
  });
});

describe('drift check and thresholds validation', () => {
  it('fills the defaults the field uses', () => {
    expect(parseDriftThresholds(undefined)).toEqual({ psi: 0.1, jsDistance: 0.1, driftedShare: 0.5 });
    const check = parseDriftCheck({ reference: { table: { name: 'a' } }, current: { table: { name: 'b' } }, numericFeatures: ['x'] });
    expect(check).toMatchObject({ bins: 10, maxCategories: 50, categoricalFeatures: [], thresholds: { psi: 0.1 } });
  });

  it('names every bad field by its path', () => {
    expect(() => parseDriftThresholds({ psi: -1, driftedShare: 2, psiThreshold: 0.2 })).toThrow(
      expect.objectContaining({
        type: 'InvalidDriftThresholds',
        details: {
          problems: expect.arrayContaining([
            'thresholds: unknown field "psiThreshold": the fields are psi, jsDistance, ksStatistic, driftedShare, wasserstein, pValue, numericMethod, categoricalMethod, features, minRows, exactKs',
            expect.stringMatching(/^thresholds\.psi: must be above 0/),
            expect.stringMatching(/^thresholds\.driftedShare: must be at most 1/),
          ]),
        },
      }),
    );
    let message = '';
    try {
      parseDriftCheck({
        reference: { table: { name: 'a b' }, filter: { column: 'day', value: 1, from: 2 } },
        current: { table: { name: 'b' } },
        numericFeatures: ['x'],
        bins: 1.5,
        thresholds: { jsDistance: 'high' },
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('reference.table.name: must be a SQL identifier');
    expect(message).toContain('reference.filter.0: give either value');
    expect(message).toContain('bins: must be a whole number of bins');
    expect(message).toContain('thresholds.jsDistance: must be a number');
    expect(() =>
      parseDriftCheck({ reference: { table: { name: 'a' } }, current: { table: { name: 'b' } }, numericFeatures: ['x'], prediction: 'x' }),
    ).toThrow('column "x" is listed twice');
    expect(() => parseDriftCheck({ reference: { table: { name: 'a' } }, current: { table: { name: 'b' } } })).toThrow(
      'numericFeatures: name at least one numeric or categorical feature, or a prediction',
    );
  });
});

describe('drift math on aggregates', () => {
  it('reads PSI bins at the reference quantiles off the fine bins, none empty in the reference', () => {
    const bin = (referenceCount: number, currentCount: number, min: number, max = min) => ({ referenceCount, currentCount, referenceSum: 0, currentSum: 0, min, max });
    // Reference 10 values over five fine bins; quartiles at 2.5, 5 and 7.5 values.
    const fine = [bin(2, 1, 0), bin(3, 0, 1), bin(0, 4, 2), bin(3, 3, 3.5, 3.9), bin(2, 2, 4)];
    const quartiles = psiBinsFromFine(fine, 4);
    // 2.5 falls in bin 1: its start leaves 2 below (0.5 off), the next bin's 5 (2.5 off) → bin 1. 5 falls in bin 1 too:
    // bin 2's start leaves exactly 5 below. 7.5 falls in bin 3: bin 4's start leaves 8 below (0.5 off) against 5.
    // The current-only bin 2 shares its PSI bin with bin 3.
    expect(quartiles.edges).toEqual([1, 2, 4]);
    expect(quartiles.referenceCounts).toEqual([2, 3, 3, 2]);
    expect(quartiles.currentCounts).toEqual([1, 0, 7, 2]);
    expect(quartiles.referenceCounts.reduce((a, b) => a + b)).toBe(10);
    // A point mass at the minimum: the deciles up to 0.9 all fall in it, so it is one bin and the rest another.
    const zeros = psiBinsFromFine([bin(90, 50, 0), bin(5, 25, 1), bin(5, 25, 2)], 10);
    expect(zeros.edges).toEqual([1]);
    expect(zeros.referenceCounts).toEqual([90, 10]);
    expect(zeros.currentCounts).toEqual([50, 50]);
    // A constant reference gets one bin; an empty one too.
    expect(psiBinsFromFine([bin(7, 0, 3), bin(0, 5, 9)], 10)).toEqual({ edges: [], referenceCounts: [7], currentCounts: [5] });
    expect(psiBinsFromFine([], 10)).toEqual({ edges: [], referenceCounts: [0], currentCounts: [0] });
  });

  it('gives the KS p-value of the Kolmogorov distribution', () => {
    // λ = 1.3581 is the 5 % critical value of the Kolmogorov distribution.
    const n = 1e6;
    const effective = Math.sqrt(n / 2);
    const d = 1.3581 / (effective + 0.12 + 0.11 / effective);
    expect(ksPValue(d, n, n)).toBeCloseTo(0.05, 4);
    expect(ksPValue(0, 100, 100)).toBe(1);
    expect(ksPValue(1, 100, 100)).toBeLessThan(1e-10);
  });
});

describe('drift SQL on the other warehouses', () => {
  const check = parseDriftCheck({
    reference: { table: { name: 'features' }, filter: { column: 'day', from: '2026-01-01', to: '2026-02-01' } },
    current: { table: { name: 'features' }, filter: { column: 'day', from: '2026-03-01' } },
    numericFeatures: ['spend'],
    categoricalFeatures: ['channel'],
    bins: 4,
  });
  const columns = comparedColumns(check);

  it.each([
    ['bigquery', new BigQueryDialect('my-project', 'aimo')],
    ['snowflake', new SnowflakeDialect('ANALYTICS', 'AIMO')],
  ] as const)('%s: profile, bins, KS refinement and categories compile from the dialect', (_, dialect) => {
    const profile = profileQuery(dialect, check, columns);
    expect(profile.sql).toContain(`STDDEV_POP(${dialect.quote('col_0')})`);
    expect(profile.sql).toContain(`APPROX_COUNT_DISTINCT(${dialect.quote('col_1')})`);
    const binning: NumericBinning = { column: columns[0]!, low: 0, scale: 10 };
    const bins = binCountsQuery(dialect, check, [binning], [columns[1]!]);
    expect(Object.keys(bins.params).sort()).toEqual(['current_filter_0_from', 'reference_filter_0_from', 'reference_filter_0_to']);
    const refinement = ksRefinementQuery(dialect, check, [{ binning, ranges: [{ from: 3, to: 5 }], referenceValues: 10, currentValues: 12 }]);
    for (const query of [profile, bins, refinement, categoryQuery(dialect, check, columns[1]!)]) {
      expect(query.sql).toContain(dialect.table({ name: 'features' }));
      expect(query.sql).not.toMatch(/ AS [a-z_]+\b(?![`"])/); // every alias quoted, so Snowflake keeps its case
      expect(query.sql).not.toContain('CROSS JOIN'); // no unpivot: every column aggregated on its own
    }
  });
});
