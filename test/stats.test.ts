import {
  chiSquareSurvival,
  choleskyDecompose,
  choleskySolve,
  differenceOfProportions,
  lnGamma,
  logistic,
  logit,
  meanAndVariance,
  normalCdf,
  normalQuantile,
  normalSurvival,
  regularizedBeta,
  srmTest,
  studentTCdf,
  studentTQuantile,
  welchDifference,
} from '../domain/stats';

/**
 * Reference values were computed with SciPy 1.17.1 / NumPy (scipy.stats.norm,
 * t, chi2, chisquare, ttest_ind(equal_var=False), scipy.special.gammaln,
 * betainc, expit, logit; numpy.linalg.cholesky, solve) and are pasted as
 * printed by repr(float(...)).
 */
function expectRelative(actual: number, expected: number, tolerance: number): void {
  const scale = Math.max(Math.abs(expected), Number.MIN_VALUE);
  expect(Math.abs(actual - expected) / scale).toBeLessThanOrEqual(tolerance);
}

describe('normal distribution', () => {
  it.each([
    [-8.5, 9.47953482220325e-18],
    [-3, 0.0013498980316300933],
    [-1.959963984540054, 0.025],
    [-0.5, 0.3085375387259869],
    [0, 0.5],
    [0.3, 0.6179114221889526],
    [1.5, 0.9331927987311419],
    [4, 0.9999683287581669],
  ])('cdf(%p) = %p', (x, p) => expectRelative(normalCdf(x), p, 1e-14));

  it.each([
    [5, 2.866515718791933e-7],
    [10, 7.61985302416047e-24],
    [20, 2.7536241186061556e-89],
    [37, 5.7255712225239266e-300],
  ])('keeps the far upper tail: survival(%p) = %p', (x, p) => expectRelative(normalSurvival(x), p, 1e-12));

  it.each([
    [1e-12, -7.034483825301131],
    [0.001, -3.090232306167813],
    [0.025, -1.9599639845400545],
    [0.2, -0.8416212335729142],
    [0.8, 0.8416212335729143],
    [0.975, 1.959963984540054],
    [0.999999, 4.753424308817087],
  ])('quantile(%p) = %p', (p, x) => expectRelative(normalQuantile(p), x, 1e-14));

  it('quantile inverts the cdf and rejects probabilities outside [0, 1]', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    for (const p of [1e-200, 1e-5, 0.1, 0.37, 0.9, 0.99999]) expectRelative(normalCdf(normalQuantile(p)), p, 1e-13);
    expect(() => normalQuantile(1.2)).toThrow(/within \[0, 1\]/);
    expect(() => normalQuantile(NaN)).toThrow(/within \[0, 1\]/);
  });
});

describe('special functions', () => {
  it.each([
    [0.5, 0.5723649429247],
    [3.7, 1.428072326665388],
    [100, 359.1342053695754],
    [1e-3, 6.907178885383853],
  ])('lnGamma(%p) = %p', (x, v) => expectRelative(lnGamma(x), v, 1e-13));

  it.each([
    [2, 3, 0.4, 0.5247999999999999],
    [0.5, 7, 0.01, 0.2874836298717217],
    [30, 0.5, 0.98, 0.2728982652346767],
  ])('regularizedBeta(a=%p, b=%p, x=%p) = %p', (a, b, x, v) => expectRelative(regularizedBeta(x, a, b), v, 1e-12));
});

describe("Student's t", () => {
  it.each([
    [-2.5, 3, 0.04385332350403278],
    [1.7, 7.3, 0.9344173158234566],
    [0.1, 1, 0.5317255174305535],
    [-30, 4, 3.6764280488306595e-6],
    [2, 1000, 0.9771148267533741],
  ])('cdf(%p; df=%p) = %p', (t, df, p) => expectRelative(studentTCdf(t, df), p, 1e-12));

  it.each([
    [0.975, 3, 3.1824463052837078],
    [0.975, 7.3, 2.345066736547703],
    [1e-8, 3, -479.5250695797382],
    [0.025, 1000.5, -1.962337892459348],
    [0.995, 29.4, 2.753774396319786],
    [0.9, 1, 3.0776835371752544],
    [0.2, 2, -1.060660171779821],
  ])('quantile(%p; df=%p) = %p', (p, df, t) => expectRelative(studentTQuantile(p, df), t, 1e-12));
});

describe('chi-square and sample-ratio mismatch', () => {
  it.each([
    [3.841458820694124, 1, 0.04999999999999989],
    [10.8, 1, 0.0010150009471130682],
    [50, 3, 7.989179244951495e-11],
    [0.1, 5, 0.9998376833880774],
    [200, 1, 2.0884875837625688e-45],
    [7.5, 2.5, 0.038169088215206766],
  ])('survival(%p; df=%p) = %p', (x, df, p) => expectRelative(chiSquareSurvival(x, df), p, 1e-12));

  it('matches scipy.stats.chisquare for two and three arms', () => {
    const two = srmTest([50000, 50600], [0.5, 0.5]);
    expectRelative(two.chiSquare, 3.5785288270377733, 1e-14);
    expectRelative(two.pValue, 0.058530965566157854, 1e-12);
    expect(two.degreesOfFreedom).toBe(1);

    const three = srmTest([1010, 980, 1030], [3, 3, 4]); // shares are normalised
    expectRelative(three.chiSquare, 44.21081677704194, 1e-14);
    expectRelative(three.pValue, 2.5104011006169797e-10, 1e-11);
    expect(three.expected).toEqual([906, 906, 1208]);
  });

  it('flags 52/48 on 100k users and not an exact split', () => {
    const skewed = srmTest([52000, 48000], [0.5, 0.5]);
    expect(skewed.chiSquare).toBeCloseTo(160, 10);
    expectRelative(skewed.pValue, 1.1314837902433038e-36, 1e-10);
    expect(srmTest([50000, 50000], [0.5, 0.5]).pValue).toBe(1);
  });

  it('rejects malformed input with the field at fault', () => {
    expect(() => srmTest([10], [1])).toThrow(/at least two arms/);
    expect(() => srmTest([10, 20], [0.5])).toThrow(/expectedShares has 1/);
    expect(() => srmTest([10, 2.5], [0.5, 0.5])).toThrow(/observed\[1\]/);
    expect(() => srmTest([10, 20], [0.5, 0])).toThrow(/expectedShares\[1\]/);
  });
});

describe('difference of two proportions', () => {
  // control 480/10000, treatment 560/10000; Wald CI, pooled z, Katz log-ratio CI computed with scipy.stats.norm.
  const d = differenceOfProportions({ successes: 480, trials: 10000 }, { successes: 560, trials: 10000 });

  it('gives the absolute effect with its Wald interval for comparison, and Newcombe\'s as the interval (statsmodels, method newcomb)', () => {
    expect(d.absolute).toBeCloseTo(0.008, 15);
    expectRelative(d.waldCiLow, 0.0018468367373552248, 1e-12);
    expectRelative(d.waldCiHigh, 0.014153163262644776, 1e-12);
    expectRelative(d.ciLow, 0.0018450668953932294, 1e-10);
    expectRelative(d.ciHigh, 0.014168252122184238, 1e-10);
  });

  it('gives the relative lift with its log-ratio interval, and the pooled test', () => {
    expectRelative(d.relative!, 1 / 6, 1e-12);
    expectRelative(d.relativeCiLow!, 0.03606557692132806, 1e-12);
    expectRelative(d.relativeCiHigh!, 0.31373065704552894, 1e-12);
    expectRelative(d.zScore, 2.5478223832249745, 1e-12);
    expectRelative(d.pValue, 0.010839764531605182, 1e-11);
  });

  it('has no relative lift against a zero control rate, and rejects impossible counts', () => {
    const zero = differenceOfProportions({ successes: 0, trials: 100 }, { successes: 3, trials: 100 });
    expect(zero.relative).toBeNull();
    expect(zero.relativeCiLow).toBeNull();
    expect(() => differenceOfProportions({ successes: 5, trials: 4 }, { successes: 1, trials: 4 })).toThrow(/control.successes/);
    expect(() => differenceOfProportions({ successes: 0, trials: 0 }, { successes: 1, trials: 4 })).toThrow(/control.trials/);
    expect(() => differenceOfProportions({ successes: 1, trials: 4 }, { successes: 1, trials: 4 }, 1)).toThrow(/confidence/);
  });
});

describe('Welch interval from sums', () => {
  // scipy.stats.ttest_ind(b, a, equal_var=False) on these per-user revenues; the test feeds only their sums.
  const a = [0, 0, 0, 12.5, 0, 40, 0, 7.25, 0, 0, 18, 0, 0, 3.5, 0, 0, 0, 55, 0, 0];
  const b = [0, 9.5, 0, 0, 22, 0, 31, 0, 0, 14, 0, 0, 0, 60, 5, 0, 0, 0, 11, 0, 0, 8];
  const sums = (xs: number[]) => ({ n: xs.length, sum: xs.reduce((s, x) => s + x, 0), sumOfSquares: xs.reduce((s, x) => s + x * x, 0) });

  it('matches scipy on statistic, degrees of freedom, p-value and interval', () => {
    expect(sums(a)).toEqual({ n: 20, sum: 136.25, sumOfSquares: 5170.0625 });
    const w = welchDifference(sums(a), sums(b));
    expect(w.absolute).toBeCloseTo(160.5 / 22 - 136.25 / 20, 14);
    expectRelative(w.tStatistic, 0.10634985736287635, 1e-12);
    expectRelative(w.degreesOfFreedom, 39.30724349536043, 1e-12);
    expectRelative(w.pValue, 0.9158456984065243, 1e-12);
    expectRelative(w.ciLow, -8.700167317670576, 1e-12);
    expectRelative(w.ciHigh, 9.66607640857967, 1e-12);
  });

  it('handles arms without variance and rejects a single unit', () => {
    const flat = welchDifference({ n: 3, sum: 6, sumOfSquares: 12 }, { n: 3, sum: 6, sumOfSquares: 12 });
    expect(flat).toMatchObject({ absolute: 0, standardError: 0, ciLow: 0, ciHigh: 0, pValue: 1 });
    expect(meanAndVariance({ n: 3, sum: 0.3, sumOfSquares: 0.03 }).variance).toBeGreaterThanOrEqual(0);
    expect(() => welchDifference({ n: 1, sum: 1, sumOfSquares: 1 }, sums(b))).toThrow(/at least 2 units/);
  });
});

describe('Cholesky solver', () => {
  const A = [
    [4, 12, -16],
    [12, 37, -43],
    [-16, -43, 98],
  ];

  it('factorises and solves like numpy.linalg', () => {
    expect(choleskyDecompose(A)).toEqual([
      [2, 0, 0],
      [6, 1, 0],
      [-8, 5, 3],
    ]);
    const x = choleskySolve(A, [1, 2, 3]);
    [28.583333333333393, -7.666666666666683, 1.3333333333333357].forEach((v, i) => expectRelative(x[i]!, v, 1e-12));
    const ridged = choleskySolve(A, [1, 2, 3], 0.5);
    [1.0771098967820285, -0.11171827565270204, 0.15664845173041897].forEach((v, i) => expectRelative(ridged[i]!, v, 1e-12));
  });

  it('names a singular matrix, which a ridge then makes solvable', () => {
    const singular = [
      [1, 1],
      [1, 1],
    ];
    expect(() => choleskySolve(singular, [1, 1])).toThrow(expect.objectContaining({ type: 'NotPositiveDefinite' }));
    const x = choleskySolve(singular, [1, 1], 1e-6);
    expect(x[0]! + x[1]!).toBeCloseTo(1, 5);
    expect(() => choleskySolve([[1, 2], [0, 1]], [1, 1])).toThrow(/not symmetric/);
    expect(() => choleskySolve(A, [1, 2])).toThrow(/right-hand side/);
  });
});

describe('logistic function', () => {
  it('matches scipy.special.expit and logit, without overflow', () => {
    expectRelative(logistic(-3), 0.04742587317756678, 1e-15);
    expect(logistic(40)).toBe(1);
    expect(logistic(-800)).toBe(0);
    expect(logistic(0)).toBe(0.5);
    expectRelative(logit(0.2), -1.3862943611198906, 1e-15);
    expect(logit(logistic(2.5))).toBeCloseTo(2.5, 12);
  });
});
