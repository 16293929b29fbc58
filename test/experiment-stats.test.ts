import {
  cupedDifference,
  differenceOfProportions,
  groupSequentialBoundaries,
  minimumDetectableEffect,
  obrienFlemingSpending,
  pairedRandomizationInterval,
  proportionTestPower,
  ratioDifference,
  requiredUsers,
  sequentialDecision,
  stagewiseInterval,
  wilsonInterval,
} from '../domain/stats';

/**
 * Reference values, computed once and pasted as printed by repr(float(...)):
 * - Newcombe and Wilson: statsmodels 0.15.0 confint_proportions_2indep(method='newcomb', compare='diff'), proportion_confint(method='wilson');
 * - power: statsmodels power_proportions_2indep (pooled null variance, unpooled alternative);
 * - group-sequential boundaries: SciPy 1.17.1 multivariate_normal.cdf (Genz) of the looks' rectangles, solved by brentq
 *   for Lan–DeMets O'Brien–Fleming spending — an independent algorithm; the equal-looks row is also the published
 *   gsDesign table (4.877, 3.357, 2.680, 2.290, 2.031);
 * - stage-wise interval: the same SciPy multivariate_normal.cdf of the more extreme ends under drift μ, solved for α/2 by brentq;
 * - randomisation: brute-force enumeration of all 2^8 sign patterns in NumPy;
 * - CUPED: NumPy least squares of y on (1, treatment, x), whose treatment coefficient is CUPED's estimate.
 */
function expectRelative(actual: number, expected: number, tolerance: number): void {
  const scale = Math.max(Math.abs(expected), 1e-300);
  expect(Math.abs(actual - expected) / scale).toBeLessThanOrEqual(tolerance);
}

describe('experiment statistics: small-sample intervals', () => {
  it.each([
    [480, 10000, 560, 10000, 0.0018450668953932294, 0.014168252122184238],
    [0, 1000, 0, 1000, -0.003826758485555125, 0.003826758485555125],
    [0, 1, 1, 1, -0.12210872068194178, 1.0],
    [3, 7, 5, 9, -0.3048579116764056, 0.49907959532167434],
    [0, 20, 20, 20, 0.7721346162421941, 1.0],
    [1, 2, 0, 3, -0.9054687942657693, 0.19259213090610794],
    [50, 60, 60, 60, 0.07165070564647813, 0.2803161316361453],
  ])('Newcombe interval of control %p/%p vs treatment %p/%p = [%p, %p]', (c, nc, t, nt, lo, hi) => {
    const d = differenceOfProportions({ successes: c, trials: nc }, { successes: t, trials: nt });
    expect(Math.abs(d.ciLow - lo)).toBeLessThan(1e-12);
    expect(Math.abs(d.ciHigh - hi)).toBeLessThan(1e-12);
    expect(d.ciHigh - d.ciLow).toBeGreaterThan(0);
    for (const v of Object.values(d)) if (typeof v === 'number') expect(Number.isNaN(v)).toBe(false);
  });

  it('keeps a width where Wald collapses: 0/1000 vs 0/1000 and 0/1 vs 1/1', () => {
    const none = differenceOfProportions({ successes: 0, trials: 1000 }, { successes: 0, trials: 1000 });
    expect([none.waldCiLow, none.waldCiHigh]).toEqual([0, 0]);
    expect(none.ciLow).toBeLessThan(0);
    expect(none.ciHigh).toBeGreaterThan(0);
    const tiny = differenceOfProportions({ successes: 0, trials: 1 }, { successes: 1, trials: 1 });
    expect([tiny.waldCiLow, tiny.waldCiHigh]).toEqual([1, 1]);
    expect(tiny.ciLow).toBeLessThan(0);
  });

  it.each([
    [0, 10, 0.0, 0.27753279986288926],
    [10, 10, 0.7224672001371106, 1.0],
    [3, 17, 0.061911266376209945, 0.4102945856883413],
    [480, 10000, 0.04398103638811836, 0.05236609813897328],
  ])('Wilson interval of %p/%p = [%p, %p]', (k, n, lo, hi) => {
    const w = wilsonInterval({ successes: k, trials: n });
    expect(Math.abs(w.ciLow - lo)).toBeLessThan(1e-12);
    expect(Math.abs(w.ciHigh - hi)).toBeLessThan(1e-12);
  });
});

describe('experiment statistics: power and MDE', () => {
  it.each([
    [0.05, 0.01, 10000, 10000, 0.05, 0.8732575496321595],
    [0.05, 0.005, 8000, 12000, 0.05, 0.3383632205798487],
    [0.2, -0.03, 1500, 1500, 0.01, 0.32264766267051787],
    [0.001, 0.002, 20000, 5000, 0.1, 0.8991979368497092],
  ])('power(control %p, effect %p, %p vs %p users, alpha %p) = %p', (controlRate, absoluteEffect, controlUsers, treatmentUsers, alpha, power) => {
    expectRelative(proportionTestPower({ controlRate, absoluteEffect, controlUsers, treatmentUsers, alpha }), power, 1e-12);
  });

  it('inverts power: the MDE has the target power, the required users reach it and one user fewer does not', () => {
    const base = { controlRate: 0.05, controlUsers: 10000, treatmentUsers: 10000, alpha: 0.05 };
    const mde = minimumDetectableEffect({ ...base, power: 0.8 });
    expectRelative(proportionTestPower({ ...base, absoluteEffect: mde }), 0.8, 1e-9);
    const n = requiredUsers({ controlRate: 0.05, absoluteEffect: 0.01, treatmentShare: 0.5, alpha: 0.05, power: 0.8 });
    const at = (users: number) => proportionTestPower({ ...base, absoluteEffect: 0.01, controlUsers: users / 2, treatmentUsers: users / 2 });
    expect(at(n)).toBeGreaterThanOrEqual(0.8);
    expect(at(n - 2)).toBeLessThan(0.8);
    expect(minimumDetectableEffect({ ...base, controlRate: 0.999, controlUsers: 5, treatmentUsers: 5, power: 0.8 })).toBe(Infinity);
  });
});

describe('experiment statistics: group-sequential boundaries', () => {
  const boundaries = (info: number[], alpha: number) =>
    groupSequentialBoundaries(info.map((i) => ({ information: i, alphaSpent: obrienFlemingSpending(i / info.at(-1)!, alpha) })));

  it.each([
    [[1, 2, 3, 4, 5], 0.05, [4.876884948790766, 3.35701192157315, 2.6802800676572383, 2.289816713160577, 2.0310317465200183]],
    [[0.1, 0.3, 0.55, 0.8, 1.0], 0.05, [6.991351707077423, 3.9285725386357977, 2.807876872678073, 2.276098157271275, 2.0292446456845314]],
    [[0.2, 0.4, 0.6, 0.8, 1.0], 0.1, [4.229195059299923, 2.8881365483802526, 2.298090265029802, 1.9618214836442416, 1.7397042569635892]],
  ])('O\'Brien–Fleming boundaries at information %p, alpha %p', (info, alpha, expected) => {
    boundaries(info, alpha).forEach((c, i) => expect(Math.abs(c - expected[i]!)).toBeLessThan(2e-6));
  });

  it('spends alpha by the information fraction and stops for a win or for harm', () => {
    expect(obrienFlemingSpending(1, 0.05)).toBe(0.05);
    expect(obrienFlemingSpending(0, 0.05)).toBe(0);
    expectRelative(obrienFlemingSpending(0.5, 0.05), 0.003050645515977797, 1e-12); // scipy: 4·norm.sf(norm.ppf(1 − 0.05/4) / √0.5)
    expect(sequentialDecision(0.03, 0.01, 2.5).stop).toBe('win');
    expect(sequentialDecision(-0.03, 0.01, 2.5).stop).toBe('harm');
    const look = sequentialDecision(0.02, 0.01, 2.5);
    expect(look.stop).toBeNull();
    expect(look.ciLow).toBeCloseTo(-0.005, 15);
    expect(look.ciHigh).toBeCloseTo(0.045, 15);
    expect(() => groupSequentialBoundaries([{ information: 2, alphaSpent: 0.01 }, { information: 1, alphaSpent: 0.05 }])).toThrow(/looks\[1\].information must exceed/);
  });

  const gsDesign = [4.876884948790766, 3.35701192157315, 2.6802800676572383, 2.289816713160577, 2.0310317465200183];
  const taken = (k: number) => gsDesign.slice(0, k).map((boundary, i) => ({ information: i + 1, boundary }));

  it('the stage-wise interval at a stop equals SciPy\'s, and shrinks toward what earlier looks allow', () => {
    // Stopped at look 3 of 5 with z = 3.0 (SE 1): SciPy gives [1.0104253660857212, 4.948814465360092].
    const end = stagewiseInterval(taken(3), 3.0, 1, 0.95);
    expect(Math.abs(end.ciLow - 1.0104253660857212)).toBeLessThan(2e-5);
    expect(Math.abs(end.ciHigh - 4.948814465360092)).toBeLessThan(2e-5);
    // Narrower at the bottom than the repeated interval 3.0 ± 2.68, and than the naive 3.0 ± 1.96 would suggest at the top.
    expect(end.ciLow).toBeGreaterThan(3.0 - gsDesign[2]!);
  });

  it('the stage-wise interval is the fixed one for a single look, and excludes 0 exactly from the final boundary on', () => {
    const one = stagewiseInterval([{ information: 4, boundary: 1.96 }], 1.2, 0.5, 0.95);
    expect(one.ciLow).toBeCloseTo(0.6 - 1.959963984540054 * 0.5, 8);
    expect(one.ciHigh).toBeCloseTo(0.6 + 1.959963984540054 * 0.5, 8);
    expect(Math.abs(stagewiseInterval(taken(5), gsDesign[4]!, 1, 0.95).ciLow)).toBeLessThan(1e-5);
    expect(stagewiseInterval(taken(5), gsDesign[4]! - 0.01, 1, 0.95).ciLow).toBeLessThan(0);
    expect(stagewiseInterval(taken(5), gsDesign[4]! + 0.01, 1, 0.95).ciLow).toBeGreaterThan(0);
    const zero = stagewiseInterval(taken(5), 0, 0.01, 0.95);
    expect(zero.ciLow).toBeCloseTo(-zero.ciHigh, 8);
    expect(() => stagewiseInterval([], 1, 1, 0.95)).toThrow(/at least one look/);
    expect(() => stagewiseInterval(taken(2), 1, 0, 0.95)).toThrow(/standardError must be positive/);
  });
});

describe('experiment statistics: CUPED, ratios, randomisation', () => {
  it('CUPED equals the treatment coefficient of least squares on (1, treatment, pre-period value)', () => {
    const control = { n: 400, sumY: 446.3992660447856, sumY2: 1239.146587949307, sumX: 740.0, sumX2: 2124.0, sumXY: 1292.0369025781329 };
    const treatment = { n: 400, sumY: 622.9606184366703, sumY2: 1579.0335403609938, sumX: 789.0, sumX2: 2359.0, sumXY: 1686.8280505206121 };
    const c = cupedDifference(control, treatment);
    expectRelative(c.absolute, 0.36871983994971713, 1e-10);
    expectRelative(c.theta, 0.5933350288162876, 1e-10);
    expect(c.varianceReduction).toBeGreaterThan(0.3);
    expect(c.standardError).toBeLessThan(c.unadjusted.standardError);
    const flat = cupedDifference({ ...control, sumX: 400, sumX2: 400, sumXY: control.sumY }, { ...treatment, sumX: 400, sumX2: 400, sumXY: treatment.sumY });
    expect(flat.theta).toBe(0);
    expect(flat.absolute).toBeCloseTo(flat.unadjusted.absolute, 12);
  });

  it('the delta-method ratio of sums matches the per-unit computation', () => {
    // users' (returned, orders): control [(0,1),(1,2),(0,0),(1,1)], treatment [(0,2),(0,1),(2,3),(0,0),(0,1)]
    const sums = (rows: [number, number][]) => ({
      n: rows.length,
      sumNumerator: rows.reduce((s, r) => s + r[0], 0),
      sumNumerator2: rows.reduce((s, r) => s + r[0] ** 2, 0),
      sumDenominator: rows.reduce((s, r) => s + r[1], 0),
      sumDenominator2: rows.reduce((s, r) => s + r[1] ** 2, 0),
      sumCross: rows.reduce((s, r) => s + r[0] * r[1], 0),
    });
    const d = ratioDifference(sums([[0, 1], [1, 2], [0, 0], [1, 1]]), sums([[0, 2], [0, 1], [2, 3], [0, 0], [0, 1]]));
    expect(d.controlRatio).toBeCloseTo(0.5, 15);
    expect(d.treatmentRatio).toBeCloseTo(2 / 7, 15);
    // Var of the control ratio by hand: residuals r − 0.5·o = (−0.5, 0, 0, 0.5), variance 1/6, over n·D̄² = 4·1
    const controlVariance = (1 / 6) / 4;
    const tRes = [0, 1, 0, 0, 1].map((_r, i) => [0, 0, 2, 0, 0][i]! - (2 / 7) * [2, 1, 3, 0, 1][i]!);
    const tMean = tRes.reduce((s, v) => s + v, 0) / 5;
    const treatmentVariance = tRes.reduce((s, v) => s + (v - tMean) ** 2, 0) / 4 / (5 * (7 / 5) ** 2);
    expect(d.standardError).toBeCloseTo(Math.sqrt(controlVariance + treatmentVariance), 12);
    expect(() => ratioDifference(sums([[0, 0], [0, 0]]), sums([[0, 1], [0, 1]]))).toThrow(/denominator/);
  });

  it('the paired randomisation interval equals brute-force enumeration', () => {
    const r = pairedRandomizationInterval([0.012, -0.004, 0.021, 0.009, 0.015, -0.002, 0.018, 0.007]);
    expect(r.exact).toBe(true);
    expect(r.flips).toBe(256);
    expect(r.pValue).toBe(0.03125);
    expect(r.estimate).toBeCloseTo(0.0095, 15);
    expect(r.ciLow).toBeCloseTo(0.0015, 9);
    expect(r.ciHigh).toBeCloseTo(0.017, 9);
    expect(() => pairedRandomizationInterval([0.1, 0.2, 0.3, 0.4, 0.5])).toThrow(/at least 6 pairs/);
  });
});
