import { evaluateBySegment, evaluateClassifier, LOG_LOSS_EPSILON } from '../analytics/evaluation';
import { scoreExpression, trainLogisticRegression, unstandardisedCoefficients } from '../analytics/logistic';
import { type LogisticModel } from '../domain/stats/logistic';
import { choleskySolve, logistic } from '../domain/stats';
import { DuckDbWarehouse } from '../warehouse/duckdb';
import type { SqlParams } from '../warehouse/params';

/**
 * Synthetic propensity data from a known logistic model, generated in SQL
 * with a hash-based (deterministic) pseudo-random source:
 *   logit P(label = 1) = −7.2 + 1.5·x1 − 0.8·x2 + 0.6·x3
 * x1 ~ U(−2, 2), x2 ~ Bernoulli(0.3), x3 ≈ 10 + 1.5·N(0, 1) (sum of three uniforms).
 */
const TRUE = { intercept: -7.2, x1: 1.5, x2: -0.8, x3: 0.6 };
const ROWS = 120_000;
const FEATURES = ['x1', 'x2', 'x3'];

let wh: DuckDbWarehouse;

beforeAll(async () => {
  wh = await DuckDbWarehouse.open(':memory:');
  const u = (stream: string) => wh.dialect.unitHash(`'${stream}:' || CAST(i AS VARCHAR)`);
  await wh.execute(`
    CREATE TABLE features AS
    SELECT i AS user_id, x1, x2, x3, 4.0 AS constant_feature,
           CASE WHEN ${u('label')} < 1.0 / (1.0 + EXP(-(${TRUE.intercept} + ${TRUE.x1} * x1 + ${TRUE.x2} * x2 + ${TRUE.x3} * x3))) THEN 1 ELSE 0 END AS label,
           CASE WHEN ${u('split')} < 0.25 THEN 'holdout' ELSE 'train' END AS split,
           CASE WHEN ${u('segment')} < 0.5 THEN 'a' WHEN ${u('segment')} < 0.8 THEN 'b' WHEN ${u('segment')} < 0.9998 THEN 'c' ELSE 'tiny' END AS segment
    FROM (SELECT i, 4 * ${u('x1')} - 2 AS x1, CASE WHEN ${u('x2')} < 0.3 THEN 1.0 ELSE 0.0 END AS x2,
                 10 + 3 * (${u('x3a')} + ${u('x3b')} + ${u('x3c')} - 1.5) AS x3
          FROM range(${ROWS}) r(i))`);
});

afterAll(async () => {
  await wh.close();
});

interface TrainingRow {
  x: number[];
  y: number;
}

async function trainingRows(): Promise<TrainingRow[]> {
  const rows = await wh.query<{ x1: number; x2: number; x3: number; label: number }>(
    `SELECT x1, x2, x3, label FROM features WHERE split = 'train' ORDER BY user_id`,
  );
  return rows.map((r) => ({ x: [r.x1, r.x2, r.x3], y: r.label }));
}

/** Reference fit in the test: plain Newton on the same standardised objective, all rows in memory. */
function fitInMemory(rows: TrainingRow[], l2: number): { mean: number[]; std: number[]; beta: number[] } {
  const k = rows[0]!.x.length;
  const mean = Array.from({ length: k }, (_, j) => rows.reduce((s, r) => s + r.x[j]!, 0) / rows.length);
  const std = mean.map((m, j) => Math.sqrt(rows.reduce((s, r) => s + (r.x[j]! - m) ** 2, 0) / rows.length));
  const z = rows.map((r) => [1, ...r.x.map((v, j) => (v - mean[j]!) / std[j]!)]);
  let beta = new Array<number>(k + 1).fill(0);
  for (let it = 0; it < 50; it++) {
    const g = new Array<number>(k + 1).fill(0);
    const h = Array.from({ length: k + 1 }, () => new Array<number>(k + 1).fill(0));
    z.forEach((zi, n) => {
      const p = logistic(zi.reduce((s, v, j) => s + v * beta[j]!, 0));
      for (let a = 0; a <= k; a++) {
        g[a]! += (p - rows[n]!.y) * zi[a]!;
        for (let b = 0; b <= k; b++) h[a]![b]! += p * (1 - p) * zi[a]! * zi[b]!;
      }
    });
    for (let a = 1; a <= k; a++) {
      g[a]! += l2 * beta[a]!;
      h[a]![a]! += l2;
    }
    const step = choleskySolve(h, g);
    beta = beta.map((b, j) => b - step[j]!);
    if (Math.max(...step.map(Math.abs)) < 1e-12) break;
  }
  return { mean, std, beta };
}

/** Mann–Whitney AUC with average ranks for ties, straight from the definition. */
function mannWhitneyAuc(pairs: Array<{ s: number; y: number }>): number {
  const sorted = [...pairs].sort((a, b) => a.s - b.s);
  const ranks = new Array<number>(sorted.length);
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1]!.s === sorted[i]!.s) j++;
    for (let t = i; t <= j; t++) ranks[t] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const positives = sorted.filter((p) => p.y === 1).length;
  const negatives = sorted.length - positives;
  const rankSum = sorted.reduce((s, p, i) => s + (p.y === 1 ? ranks[i]! : 0), 0);
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const clip = (p: number) => Math.min(Math.max(p, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
const logLoss = (pairs: Array<{ s: number; y: number }>) =>
  pairs.reduce((sum, p) => sum - (p.y === 1 ? Math.log(clip(p.s)) : Math.log(1 - clip(p.s))), 0) / pairs.length;
const brier = (pairs: Array<{ s: number; y: number }>) => pairs.reduce((sum, p) => sum + (p.s - p.y) ** 2, 0) / pairs.length;

/** The warehouse, with every query's SQL kept: which passes ran, not how long they took. */
function recordingQueries(target: DuckDbWarehouse): { warehouse: DuckDbWarehouse; sent: string[] } {
  const sent: string[] = [];
  const warehouse = new Proxy(target, {
    get: (t, key) => (key === 'query' ? (sql: string, params?: SqlParams) => (sent.push(sql), t.query(sql, params)) : Reflect.get(t, key, t)),
  });
  return { warehouse, sent };
}

const relativeError = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('trainLogisticRegression', () => {
  let model: LogisticModel;

  beforeAll(async () => {
    model = await trainLogisticRegression(wh, {
      table: { name: 'features' },
      features: FEATURES,
      label: 'label',
      filter: { column: 'split', value: 'train' },
      l2: 1,
      maxIterations: 25,
      tolerance: 1e-9,
    });
  });

  it('recovers the generating coefficients', () => {
    expect(model.converged).toBe(true);
    expect(model.iterations).toBeLessThanOrEqual(10);
    const raw = unstandardisedCoefficients(model);
    expect(Math.abs(raw.coefficients['x1']! - TRUE.x1)).toBeLessThan(0.08);
    expect(Math.abs(raw.coefficients['x2']! - TRUE.x2)).toBeLessThan(0.08);
    expect(Math.abs(raw.coefficients['x3']! - TRUE.x3)).toBeLessThan(0.05);
    expect(Math.abs(raw.intercept - TRUE.intercept)).toBeLessThan(0.5);
  });

  it('equals an in-memory Newton fit of the same objective on the same rows', async () => {
    const rows = await trainingRows();
    expect(model.trainRows).toBe(rows.length);
    expect(model.positives).toBe(rows.filter((r) => r.y === 1).length);
    const reference = fitInMemory(rows, 1);
    FEATURES.forEach((f, j) => {
      expect(relativeError(model.standardisation[f]!.mean, reference.mean[j]!)).toBeLessThan(1e-10);
      expect(relativeError(model.standardisation[f]!.std, reference.std[j]!)).toBeLessThan(1e-10);
      expect(Math.abs(model.coefficients[f]! - reference.beta[j + 1]!)).toBeLessThan(1e-8);
    });
    expect(Math.abs(model.intercept - reference.beta[0]!)).toBeLessThan(1e-8);
  });

  it('warm-started from hash samples of any size, reaches the same optimum as plain Newton and the in-memory fit', async () => {
    const rows = await trainingRows();
    const reference = fitInMemory(rows, 1);
    const spec = { table: { name: 'features' }, features: FEATURES, label: 'label', filter: { column: 'split', value: 'train' }, l2: 1, maxIterations: 25, tolerance: 1e-9 };
    const plain = await trainLogisticRegression(wh, { ...spec, warmStartRows: 0 });
    // 40 rows: a sample too small to trust (singular, unconverged or a poor Hessian) must still end at the optimum.
    for (const warmStartRows of [40, 400, 5000]) {
      const { warehouse, sent } = recordingQueries(wh);
      const warm = await trainLogisticRegression(warehouse, { ...spec, warmStartRows });
      expect(warm.converged).toBe(true);
      expect(Math.abs(warm.intercept - reference.beta[0]!)).toBeLessThan(1e-8);
      FEATURES.forEach((f, j) => expect(Math.abs(warm.coefficients[f]! - reference.beta[j + 1]!)).toBeLessThan(1e-8));
      expect(Math.abs(warm.intercept - plain.intercept)).toBeLessThan(1e-9);
      expect(Math.abs(warm.trainLogLoss - plain.trainLogLoss)).toBeLessThan(1e-12);
      expect(sent.filter((sql) => sql.includes('aimo_sample')).length).toBeGreaterThan(0);
      if (warmStartRows === 5000) {
        // The sample's Hessian serves every full-data pass: each one sums the gradient only.
        expect(sent.filter((sql) => !sql.includes('aimo_sample') && sql.includes('h_1_1'))).toEqual([]);
        expect(warm.iterations).toBeLessThanOrEqual(plain.iterations);
      }
    }
  });

  it('with separable data and no penalty, fails the same way with or without the warm start', async () => {
    await wh.execute(`CREATE OR REPLACE TABLE separable_large AS SELECT x1, x3, CASE WHEN x1 > 0.3 THEN 1 ELSE 0 END AS label FROM features`);
    const spec = { table: { name: 'separable_large' }, features: ['x1', 'x3'], label: 'label', l2: 0, maxIterations: 25, tolerance: 1e-8 };
    const outcome = (p: Promise<LogisticModel>) => p.then((m) => ({ converged: m.converged, iterations: m.iterations, x1: m.coefficients['x1'] }), (err: { type?: string }) => ({ error: err.type }));
    const plain = await outcome(trainLogisticRegression(wh, { ...spec, warmStartRows: 0 }));
    const warm = await outcome(trainLogisticRegression(wh, { ...spec, warmStartRows: 5000 }));
    expect(plain).not.toMatchObject({ converged: true });
    expect(warm).toEqual(plain);
  });

  it('scores in SQL exactly as the model says', async () => {
    const rows = await wh.query<{ x1: number; x2: number; x3: number; score: number }>(
      `SELECT x1, x2, x3, ${scoreExpression(wh.dialect, model)} AS score FROM features WHERE user_id < 500`,
    );
    for (const r of rows) {
      const eta = model.intercept + FEATURES.reduce((s, f) => s + model.coefficients[f]! * (((r as unknown as Record<string, number>)[f]! - model.standardisation[f]!.mean) / model.standardisation[f]!.std), 0);
      expect(Math.abs(r.score - logistic(eta))).toBeLessThan(1e-14);
    }
    const [joined] = await wh.query<{ score: number }>(
      `SELECT ${scoreExpression(wh.dialect, model, 'f')} AS score FROM features f WHERE f.user_id = 0`,
    );
    expect(joined!.score).toBeCloseTo(rows[0]!.score, 15);
  });

  it('ignores a constant feature and leaves NULL rows out, counting them', async () => {
    await wh.execute(`CREATE OR REPLACE TABLE with_nulls AS
      SELECT user_id, CASE WHEN user_id % 100 = 0 THEN NULL ELSE x1 END AS x1, constant_feature, label FROM features WHERE user_id < 20000`);
    const m = await trainLogisticRegression(wh, {
      table: { name: 'with_nulls' },
      features: ['x1', 'constant_feature'],
      label: 'label',
      l2: 0,
      maxIterations: 25,
      tolerance: 1e-8,
    });
    expect(m.converged).toBe(true);
    expect(m.skippedRows).toBe(200);
    expect(m.trainRows).toBe(19800);
    expect(m.coefficients['constant_feature']).toBe(0);
    expect(m.standardisation['constant_feature']).toEqual({ mean: 4, std: 1 });
    expect(m.coefficients['x1']).toBeGreaterThan(0.5);
  });

  it('stays finite and converges on perfectly separable data thanks to the L2 penalty', async () => {
    await wh.execute(`CREATE OR REPLACE TABLE separable AS SELECT x1, CASE WHEN x1 > 0.3 THEN 1 ELSE 0 END AS label FROM features WHERE user_id < 5000`);
    const m = await trainLogisticRegression(wh, { table: { name: 'separable' }, features: ['x1'], label: 'label', l2: 1, maxIterations: 50, tolerance: 1e-9 });
    expect(m.converged).toBe(true);
    expect(Number.isFinite(m.coefficients['x1']!)).toBe(true);
    expect(m.coefficients['x1']!).toBeGreaterThan(5);
  });

  it('refuses bad labels, a single class, no rows and malformed specs', async () => {
    const spec = { table: { name: 'features' }, features: ['x1'], label: 'label', l2: 1, maxIterations: 10, tolerance: 1e-6 };
    await wh.execute(`CREATE OR REPLACE TABLE bad_label AS SELECT x1, label * 2 AS label FROM features WHERE user_id < 100`);
    await expect(trainLogisticRegression(wh, { ...spec, table: { name: 'bad_label' } })).rejects.toMatchObject({ type: 'InvalidLabel' });
    await expect(trainLogisticRegression(wh, { ...spec, label: 'x2', features: ['x1', 'x3'], filter: { column: 'x2', value: 1 } })).rejects.toMatchObject({
      type: 'SingleClassLabel',
    });
    await expect(trainLogisticRegression(wh, { ...spec, filter: { column: 'split', value: 'nowhere' } })).rejects.toMatchObject({
      type: 'NoTrainingRows',
      message: expect.stringContaining('split = "nowhere"'),
    });
    await expect(trainLogisticRegression(wh, { ...spec, features: [] })).rejects.toThrow(/at least one/);
    await expect(trainLogisticRegression(wh, { ...spec, features: ['x1', 'x1'] })).rejects.toThrow(/twice/);
    await expect(trainLogisticRegression(wh, { ...spec, features: ['label'] })).rejects.toThrow(/also listed as a feature/);
    await expect(trainLogisticRegression(wh, { ...spec, features: ['x1; DROP TABLE features'] })).rejects.toThrow(/not a valid SQL identifier/);
    await expect(trainLogisticRegression(wh, { ...spec, l2: -1 })).rejects.toThrow(/l2/);
  });
});

describe('evaluateClassifier', () => {
  let model: LogisticModel;
  let holdout: Array<{ s: number; y: number; segment: string }>;
  // Rounding the score creates many ties, which is what the AUC's tie handling must get right.
  let score: string;

  beforeAll(async () => {
    model = await trainLogisticRegression(wh, {
      table: { name: 'features' },
      features: ['x1', 'x2'],
      label: 'label',
      filter: { column: 'split', value: 'train' },
      l2: 1,
      maxIterations: 25,
      tolerance: 1e-9,
    });
    score = `ROUND(${scoreExpression(wh.dialect, model)}, 2)`;
    const rows = await wh.query<{ s: number; y: number; segment: string }>(`SELECT ${score} AS s, label AS y, segment FROM features WHERE split = 'holdout'`);
    holdout = rows;
  });

  it('computes AUC (with ties), log loss, Brier and prevalence exactly', async () => {
    const e = await evaluateClassifier(wh, { table: { name: 'features' }, filter: { column: 'split', value: 'holdout' }, label: 'label', score });
    expect(new Set(holdout.map((r) => r.s)).size).toBeLessThan(100);
    expect(e.rows).toBe(holdout.length);
    expect(e.positives).toBe(holdout.filter((r) => r.y === 1).length);
    expect(e.prevalence).toBeCloseTo(e.positives / e.rows, 15);
    expect(Math.abs(e.auc - mannWhitneyAuc(holdout))).toBeLessThan(1e-9);
    expect(relativeError(e.logLoss, logLoss(holdout))).toBeLessThan(1e-9);
    expect(relativeError(e.brier, brier(holdout))).toBeLessThan(1e-9);
    expect(e.auc).toBeGreaterThan(0.7);
  });

  it('bins calibration by score rank into deciles; tied scores share a bin', async () => {
    const e = await evaluateClassifier(wh, { table: { name: 'features' }, filter: { column: 'split', value: 'holdout' }, label: 'label', score });
    const sorted = [...holdout].sort((a, b) => a.s - b.s);
    const bins = new Map<number, Array<{ s: number; y: number }>>();
    let below = 0;
    for (let i = 0; i < sorted.length; ) {
      let j = i;
      while (j < sorted.length && sorted[j]!.s === sorted[i]!.s) j++;
      const bin = Math.floor((below * 10) / sorted.length) + 1;
      bins.set(bin, [...(bins.get(bin) ?? []), ...sorted.slice(i, j)]);
      below += j - i;
      i = j;
    }
    expect(e.calibration.map((b) => b.bin)).toEqual([...bins.keys()]);
    for (const b of e.calibration) {
      const members = bins.get(b.bin)!;
      expect(b.count).toBe(members.length);
      expect(b.meanPredicted).toBeCloseTo(members.reduce((s, m) => s + m.s, 0) / members.length, 12);
      expect(b.observedRate).toBeCloseTo(members.filter((m) => m.y === 1).length / members.length, 12);
    }
    expect(e.calibration.reduce((s, b) => s + b.count, 0)).toBe(holdout.length);
    expect(e.calibrationError).toBeLessThan(0.02);
  });

  it('clips the log loss of certain mistakes instead of returning infinity', async () => {
    await wh.execute(`CREATE OR REPLACE TABLE extreme AS SELECT * FROM (VALUES (0.0, 1), (1.0, 0), (0.5, 1), (0.5, 0), (0.2, 0), (NULL, 1)) t(p, y)`);
    const e = await evaluateClassifier(wh, { table: { name: 'extreme' }, label: 'y', score: wh.dialect.quote('p') });
    const pairs = [
      { s: 0, y: 1 },
      { s: 1, y: 0 },
      { s: 0.5, y: 1 },
      { s: 0.5, y: 0 },
      { s: 0.2, y: 0 },
    ];
    expect(e.rows).toBe(5);
    expect(relativeError(e.logLoss, logLoss(pairs))).toBeLessThan(1e-12);
    // 1 − (1 − 1e-15) is not 1e-15 in floating point, so the two clipped terms differ slightly.
    expect(e.logLoss).toBeCloseTo((-Math.log(1e-15) - Math.log(1 - (1 - 1e-15)) + 2 * -Math.log(0.5) - Math.log(0.8)) / 5, 9);
    expect(relativeError(e.brier, brier(pairs))).toBeLessThan(1e-12);
    expect(e.auc).toBeCloseTo(mannWhitneyAuc(pairs), 12);
  });

  it('is NaN rather than a number when the holdout is empty or has one class', async () => {
    const empty = await evaluateClassifier(wh, { table: { name: 'features' }, filter: { column: 'split', value: 'none' }, label: 'label', score });
    expect(empty.rows).toBe(0);
    expect(empty.auc).toBeNaN();
    expect(empty.calibration).toEqual([]);
    const oneClass = await evaluateClassifier(wh, { table: { name: 'features' }, filter: { column: 'label', value: 1 }, label: 'label', score });
    expect(oneClass.auc).toBeNaN();
    expect(oneClass.brier).toBeGreaterThan(0);
  });

  it('per segment: the same metrics per group, and the largest gaps between measured groups', async () => {
    const fairness = await evaluateBySegment(wh, {
      table: { name: 'features' },
      filter: { column: 'split', value: 'holdout' },
      label: 'label',
      score,
      segment: 'segment',
      threshold: 0.4,
    });
    expect(fairness.groups.map((g) => g.value)).toEqual(['a', 'b', 'c', 'tiny']);
    for (const g of fairness.groups) {
      const members = holdout.filter((r) => r.segment === g.value);
      expect(g.rows).toBe(members.length);
      expect(g.positiveRate).toBeCloseTo(members.filter((m) => m.s >= 0.4).length / members.length, 12);
      expect(relativeError(g.logLoss, logLoss(members))).toBeLessThan(1e-9);
      const both = members.some((m) => m.y === 1) && members.some((m) => m.y === 0);
      if (both) expect(Math.abs(g.auc! - mannWhitneyAuc(members))).toBeLessThan(1e-9);
      else expect(g.auc).toBeNull();
    }
    const tiny = fairness.groups.find((g) => g.value === 'tiny')!;
    expect(tiny.rows).toBeLessThan(30);
    expect(tiny.measured).toBe(false);
    const measured = fairness.groups.filter((g) => g.measured);
    expect(measured.map((g) => g.value)).toEqual(['a', 'b', 'c']);
    const aucs = measured.map((g) => g.auc!);
    expect(fairness.maxAucGap).toBeCloseTo(Math.max(...aucs) - Math.min(...aucs), 15);
    const rates = measured.map((g) => g.positiveRate);
    expect(fairness.maxPositiveRateGap).toBeCloseTo(Math.max(...rates) - Math.min(...rates), 15);
    // The segments are random, so the model treats them alike.
    expect(fairness.maxAucGap).toBeLessThan(0.05);
  });

  it('fails closed when no group can be measured', async () => {
    const fairness = await evaluateBySegment(wh, {
      table: { name: 'features' },
      filter: { column: 'split', value: 'holdout' },
      label: 'label',
      score,
      segment: 'segment',
      minRows: 1_000_000,
    });
    expect(fairness.maxAucGap).toBeNaN();
  });
});
