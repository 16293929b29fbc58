import { analyseExperiment, measureExperimentArms, type ExperimentOutcomeSpec } from '../analytics/experiment';
import { type ArmMeasurement } from '../domain/experiment';
import { DuckDbWarehouse } from '../warehouse/duckdb';

/**
 * A simulated A/B test, generated in SQL with a hash-based pseudo-random source:
 * 100,000 users split 50/50; a user converts with probability 5 % in control
 * and 6 % in treatment (the planted effect: +1 pp); each converter places one
 * order worth U(20, 100), and 20 % of them a second one. Orders just outside
 * the window, returns, and orders of users who are not in the test are mixed in.
 */
const USERS = 100_000;
const RATES = { control: 0.05, treatment: 0.06 };
const MEAN_ORDER = 60;
const SECOND_ORDER = 0.2;
const PLANTED = {
  conversion: RATES.treatment - RATES.control,
  revenuePerUser: (RATES.treatment - RATES.control) * MEAN_ORDER * (1 + SECOND_ORDER),
};
const WINDOW = { from: '2024-06-01', to: '2024-06-15' };

let wh: DuckDbWarehouse;

function assignmentSql(share: number): string {
  const u = (s: string) => wh.dialect.unitHash(`'${s}:' || user_id`);
  return `SELECT user_id, CASE WHEN ${u('arm')} < ${share} THEN 'treatment' ELSE 'control' END AS arm, 'exp1' AS experiment_id
          FROM (SELECT 'u' || CAST(i AS VARCHAR) AS user_id FROM range(${USERS}) r(i))`;
}

beforeAll(async () => {
  wh = await DuckDbWarehouse.open(':memory:');
  const u = (s: string) => wh.dialect.unitHash(`'${s}:' || user_id`);
  await wh.execute(`CREATE SCHEMA exp`);
  await wh.execute(`CREATE TABLE exp.assignment AS ${assignmentSql(0.5)}`);
  const inWindow = (s: string) => `TIMESTAMP '2024-06-01 00:00:00' + to_seconds(CAST(FLOOR(${u(s)} * 14 * 86400) AS BIGINT))`;
  const order = (kind: string, ts: string) =>
    `SELECT '${kind}-' || user_id AS order_id, user_id, ${ts} AS order_ts, 20 + 80 * ${u(`rev-${kind}`)} AS revenue,
            0.3 * (20 + 80 * ${u(`rev-${kind}`)}) AS margin, ${u(`ret-${kind}`)} < 0.1 AS returned`;
  await wh.execute(`
    CREATE TABLE exp.orders AS
    WITH converters AS (
      SELECT user_id FROM exp.assignment
      WHERE ${u('convert')} < CASE arm WHEN 'treatment' THEN ${RATES.treatment} ELSE ${RATES.control} END
    )
    ${order('first', inWindow('t1'))} FROM converters
    UNION ALL ${order('second', inWindow('t2'))} FROM converters WHERE ${u('second')} < ${SECOND_ORDER}
    UNION ALL ${order('early', `TIMESTAMP '2024-05-31 23:59:59'`)} FROM exp.assignment WHERE ${u('early')} < 0.02
    UNION ALL ${order('late', `TIMESTAMP '2024-06-15 00:00:00'`)} FROM exp.assignment WHERE ${u('late')} < 0.02
    UNION ALL ${order('outsider', inWindow('t3'))} FROM (SELECT 'x' || CAST(i AS VARCHAR) AS user_id FROM range(500) r(i))`);
});

afterAll(async () => {
  await wh.close();
});

const spec = (overrides: Partial<ExperimentOutcomeSpec> = {}): ExperimentOutcomeSpec => ({
  assignmentTable: { schema: 'exp', name: 'assignment' },
  ordersTable: { schema: 'exp', name: 'orders' },
  timestampColumn: 'order_ts',
  ...WINDOW,
  ...overrides,
});

interface RawRows {
  assignment: Array<{ user_id: string; arm: string }>;
  orders: Array<{ user_id: string; order_ts: Date; revenue: number; margin: number; returned: boolean }>;
}
let raw: RawRows | undefined;

/** The same per-arm numbers computed in the test from raw rows. */
async function measureInMemory(excludeReturned: boolean): Promise<ArmMeasurement[]> {
  raw ??= {
    assignment: await wh.query(`SELECT user_id, arm FROM exp.assignment`),
    orders: await wh.query(`SELECT user_id, order_ts, revenue, margin, returned FROM exp.orders`),
  };
  const { assignment, orders } = raw;
  const from = Date.parse(`${WINDOW.from}T00:00:00Z`);
  const to = Date.parse(`${WINDOW.to}T00:00:00Z`);
  const perUser = new Map<string, { orders: number; revenue: number; margin: number }>();
  for (const o of orders) {
    const t = o.order_ts.getTime();
    if (t < from || t >= to || (excludeReturned && o.returned)) continue;
    const u = perUser.get(o.user_id) ?? { orders: 0, revenue: 0, margin: 0 };
    perUser.set(o.user_id, { orders: u.orders + 1, revenue: u.revenue + o.revenue, margin: u.margin + o.margin });
  }
  const arms = new Map<string, ArmMeasurement>();
  for (const a of assignment) {
    const u = perUser.get(a.user_id) ?? { orders: 0, revenue: 0, margin: 0 };
    const m = arms.get(a.arm) ?? { arm: a.arm, users: 0, converters: 0, orders: 0, revenue: { n: 0, sum: 0, sumOfSquares: 0 }, margin: { n: 0, sum: 0, sumOfSquares: 0 } };
    arms.set(a.arm, {
      arm: a.arm,
      users: m.users + 1,
      converters: m.converters + (u.orders > 0 ? 1 : 0),
      orders: m.orders + u.orders,
      revenue: { n: m.revenue.n + 1, sum: m.revenue.sum + u.revenue, sumOfSquares: m.revenue.sumOfSquares + u.revenue ** 2 },
      margin: { n: m.margin.n + 1, sum: m.margin.sum + u.margin, sumOfSquares: m.margin.sumOfSquares + u.margin ** 2 },
    });
  }
  return [...arms.values()].sort((a, b) => (a.arm < b.arm ? -1 : 1));
}

function expectSameArms(actual: ArmMeasurement[], expected: ArmMeasurement[]): void {
  expect(actual.map((a) => [a.arm, a.users, a.converters, a.orders])).toEqual(expected.map((a) => [a.arm, a.users, a.converters, a.orders]));
  actual.forEach((a, i) => {
    const e = expected[i]!;
    for (const metric of ['revenue', 'margin'] as const) {
      expect(a[metric].n).toBe(e[metric].n);
      expect(a[metric].sum).toBeCloseTo(e[metric].sum, 6);
      expect(a[metric].sumOfSquares / e[metric].sumOfSquares).toBeCloseTo(1, 12);
    }
  });
}

describe('measureExperimentArms', () => {
  it('sums per arm exactly what the raw rows say, counting only orders inside the window', async () => {
    const arms = await measureExperimentArms(wh, spec());
    expectSameArms(arms, await measureInMemory(false));
    expect(arms.reduce((s, a) => s + a.users, 0)).toBe(USERS);
  });

  it('leaves returned orders out when told which column flags them', async () => {
    const arms = await measureExperimentArms(wh, spec({ returnedColumn: 'returned' }));
    expectSameArms(arms, await measureInMemory(true));
  });

  it('counts a user once even if the assignment lists them twice, and honours an assignment filter', async () => {
    await wh.execute(`CREATE TABLE exp.assignment_dup AS SELECT * FROM exp.assignment UNION ALL SELECT * FROM exp.assignment WHERE user_id < 'u2'`);
    const arms = await measureExperimentArms(wh, spec({ assignmentTable: { schema: 'exp', name: 'assignment_dup' } }));
    expect(arms.reduce((s, a) => s + a.users, 0)).toBe(USERS);
    const none = await measureExperimentArms(wh, spec({ assignmentFilter: { column: 'experiment_id', value: 'other' } }));
    expect(none).toEqual([]);
  });

  it('rejects a window that is malformed or empty', async () => {
    await expect(measureExperimentArms(wh, spec({ from: '2024-06-01T00:00:00Z' }))).rejects.toThrow(/from must be a date/);
    await expect(measureExperimentArms(wh, spec({ from: '2024-06-15', to: '2024-06-01' }))).rejects.toThrow(/window is empty/);
    await expect(measureExperimentArms(wh, spec({ timestampColumn: 'ts; --' }))).rejects.toThrow(/not a valid SQL identifier/);
  });
});

describe('analyseExperiment', () => {
  it('reads out the planted effect: the 95 % CIs cover it and exclude zero', async () => {
    const arms = await measureExperimentArms(wh, spec());
    const readout = analyseExperiment(arms, { expectedTreatmentShare: 0.5, costPerTreatedUser: 0.4 });

    expect(readout.srm.flagged).toBe(false);
    expect(readout.effect.ciLow).toBeLessThan(PLANTED.conversion);
    expect(readout.effect.ciHigh).toBeGreaterThan(PLANTED.conversion);
    expect(readout.effect.ciLow).toBeGreaterThan(0);
    expect(readout.effect.relative!).toBeGreaterThan(0);
    expect(readout.effect.relativeCiLow!).toBeLessThan(RATES.treatment / RATES.control - 1);
    expect(readout.effect.relativeCiHigh!).toBeGreaterThan(RATES.treatment / RATES.control - 1);

    const rpu = readout.revenuePerUser!;
    expect(rpu.ciLow).toBeLessThan(PLANTED.revenuePerUser);
    expect(rpu.ciHigh).toBeGreaterThan(PLANTED.revenuePerUser);
    expect(rpu.ciLow).toBeGreaterThan(0);

    const { control, treatment } = readout.arms;
    expect(control.conversionRate).toBeCloseTo(control.converters / control.users, 15);
    expect(readout.effect.absolute).toBeCloseTo(treatment.conversionRate - control.conversionRate, 15);
    expect(readout.incrementalConversions).toBeCloseTo(readout.effect.absolute * treatment.users, 9);
    expect(readout.cost).toBeCloseTo(0.4 * treatment.users, 9);
    expect(readout.costPerIncrementalConversion).toBeCloseTo(readout.cost! / readout.incrementalConversions, 9);
    expect(readout.costPerIncrementalConversionCi!.low).toBeLessThan(readout.costPerIncrementalConversion!);
    expect(readout.costPerIncrementalConversionCi!.high!).toBeGreaterThan(readout.costPerIncrementalConversion!);
  });

  it('flags a 52/48 split at large n, but not when 52/48 was the design', async () => {
    await wh.execute(`CREATE TABLE exp.assignment_skewed AS ${assignmentSql(0.52)}`);
    const arms = await measureExperimentArms(wh, spec({ assignmentTable: { schema: 'exp', name: 'assignment_skewed' } }));
    const treatmentShare = arms.find((a) => a.arm === 'treatment')!.users / USERS;
    expect(treatmentShare).toBeGreaterThan(0.515);
    expect(treatmentShare).toBeLessThan(0.525);
    const skewed = analyseExperiment(arms, { expectedTreatmentShare: 0.5 });
    expect(skewed.srm.flagged).toBe(true);
    expect(skewed.srm.pValue).toBeLessThan(1e-20);
    const designed = analyseExperiment(arms, { expectedTreatmentShare: 0.52 });
    expect(designed.srm.flagged).toBe(false);
    expect(designed.srm.pValue).toBeGreaterThan(0.001);
  });

  it('does not flag the balanced split', async () => {
    const arms = await measureExperimentArms(wh, spec());
    const readout = analyseExperiment(arms, {});
    expect(readout.srm.pValue).toBeGreaterThan(0.001);
    expect(readout.srm.arms).toEqual(['control', 'treatment']);
  });

  it('shows no effect in an A/A comparison of two halves of control', () => {
    const half = (arm: string, users: number, converters: number, sum: number, sumOfSquares: number): ArmMeasurement => ({
      arm,
      users,
      converters,
      orders: converters,
      revenue: { n: users, sum, sumOfSquares },
      margin: { n: users, sum: 0.3 * sum, sumOfSquares: 0.09 * sumOfSquares },
    });
    const readout = analyseExperiment([half('control', 40000, 2000, 144000, 24e6), half('treatment', 40000, 2000, 144000, 24e6)], { totalCost: 1000 });
    expect(readout.effect.absolute).toBe(0);
    expect(readout.effect.ciLow).toBeLessThan(0);
    expect(readout.effect.ciHigh).toBeGreaterThan(0);
    expect(readout.costPerIncrementalConversion).toBeNull();
    expect(readout.costPerIncrementalConversionCi).toEqual({ low: expect.any(Number), high: null });
  });

  it('supports more arms, flags arms the design does not know, and names a missing arm', () => {
    const arm = (name: string, users: number): ArmMeasurement => ({
      arm: name,
      users,
      converters: Math.round(users * 0.05),
      orders: Math.round(users * 0.05),
      revenue: { n: users, sum: users * 3, sumOfSquares: users * 200 },
      margin: { n: users, sum: users, sumOfSquares: users * 20 },
    });
    const three = analyseExperiment([arm('control', 10000), arm('treatment', 10050), arm('treatment_b', 9950)], {
      expectedShares: { control: 1, treatment: 1, treatment_b: 1 },
    });
    expect(three.srm.degreesOfFreedom).toBe(2);
    expect(three.srm.flagged).toBe(false);
    const stray = analyseExperiment([arm('control', 10000), arm('treatment', 10000), arm('Treatment', 12)], {});
    expect(stray.srm.unexpectedArms).toEqual(['Treatment']);
    expect(stray.srm.flagged).toBe(true);
    expect(() => analyseExperiment([arm('control', 10000)], {})).toThrow(/no users in arm "treatment"/);
  });
});
