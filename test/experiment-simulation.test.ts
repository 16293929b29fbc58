import { analyseExperiment } from '../analytics/experiment';
import { analyseGeo, pairRegions, type RegionOutcome } from '../analytics/experiment-geo';
import { sequentialLook } from '../analytics/experiment-sequential';
import { seededRandom } from '../domain/content/bandit';
import type { ArmMeasurement, SequentialLookRecord } from '../domain/experiment';
import { cupedDifference, differenceOfProportions, groupSequentialBoundaries, normalQuantile, obrienFlemingSpending, stagewiseInterval, type CovariateSums } from '../domain/stats';

/**
 * Simulated experiments against planted truth, computed in-process with the
 * product's own analysis functions. Each user has a daily purchase hazard
 * (log-normal, as in the market simulator); conversion in an N-day window
 * is 1 − exp(−h·N), the treatment adds the planted absolute uplift. The
 * 95 % intervals must cover the planted effect 95 % ± 2 % of the time.
 */
// Held once: each Math lookup is slow in the V8 context Jest runs tests in, and these loops draw millions of numbers.
const { abs, ceil, cos, exp, floor, log, min, sqrt, PI } = Math;
const REPS = 1000;
const Z95 = normalQuantile(0.975);
const rand = seededRandom(20260416);
const gauss = () => sqrt(-2 * log(1 - rand())) * cos(2 * PI * rand());
/** The population users are drawn from (with replacement): its means are the exact truth. */
const POOL = Array.from({ length: 50_000 }, () => min(0.2, exp(-5.8 + 1.1 * gauss())));
const windowRate = (days: number) => POOL.map((h) => 1 - exp(-h * days));
const RATE = { 14: windowRate(14), 28: windowRate(28), 56: windowRate(56) } as const;
const pick = () => floor(rand() * POOL.length);

function expectCoverage(covered: number, reps: number, label: string): void {
  const rate = covered / reps;
  process.stdout.write(`[experiment simulation] ${label}: ${(rate * 100).toFixed(1)} % of ${reps}\n`);
  expect(rate).toBeGreaterThanOrEqual(0.93);
  expect(rate).toBeLessThanOrEqual(0.97);
}

interface UserDraw {
  /** Converted in the outcome window */
  y: number;
  /** Converted in the pre-period */
  x: number;
}

function simulateArm(users: number, days: 14 | 28, preDays: 28 | 56, uplift: number): UserDraw[] {
  const out: UserDraw[] = [];
  for (let i = 0; i < users; i++) {
    const k = pick();
    out.push({ y: rand() < RATE[days][k]! + uplift ? 1 : 0, x: rand() < RATE[preDays][k]! ? 1 : 0 });
  }
  return out;
}

function covariateSums(draws: UserDraw[]): CovariateSums {
  let sumY = 0;
  let sumX = 0;
  let sumXY = 0;
  for (const d of draws) {
    sumY += d.y;
    sumX += d.x;
    sumXY += d.x * d.y;
  }
  return { n: draws.length, sumY, sumY2: sumY, sumX, sumX2: sumX, sumXY };
}

function arm(name: string, s: CovariateSums): ArmMeasurement {
  return { arm: name, users: s.n, converters: s.sumY, orders: s.sumY, revenue: { n: s.n, sum: 0, sumOfSquares: 0 }, margin: { n: s.n, sum: 0, sumOfSquares: 0 } };
}

describe('experiment simulations against planted truth', () => {
  it('fixed horizon: the Newcombe interval covers the planted uplift 95 % ± 2 % (1000 experiments)', () => {
    const uplift = 0.01;
    let covered = 0;
    for (let r = 0; r < REPS; r++) {
      const c = covariateSums(simulateArm(2500, 14, 28, 0));
      const t = covariateSums(simulateArm(2500, 14, 28, uplift));
      const readout = analyseExperiment([arm('control', c), arm('treatment', t)]);
      // The planted effect on the arms' expected rates: the same users' hazards, plus the uplift.
      if (readout.effect.ciLow <= uplift && uplift <= readout.effect.ciHigh) covered++;
    }
    expectCoverage(covered, REPS, 'fixed-horizon Newcombe coverage');
  });

  it('CUPED: keeps its coverage and narrows the interval by the share the pre-period explains (1000 experiments)', () => {
    const uplift = 0.01;
    let covered = 0;
    let widthRatio = 0;
    let reduction = 0;
    for (let r = 0; r < REPS; r++) {
      const c = covariateSums(simulateArm(2500, 28, 56, 0));
      const t = covariateSums(simulateArm(2500, 28, 56, uplift));
      const adjusted = cupedDifference(c, t);
      if (adjusted.ciLow <= uplift && uplift <= adjusted.ciHigh) covered++;
      widthRatio += adjusted.standardError / adjusted.unadjusted.standardError / REPS;
      reduction += adjusted.varianceReduction / REPS;
    }
    expectCoverage(covered, REPS, 'CUPED coverage');
    process.stdout.write(`[experiment simulation] CUPED: variance −${(reduction * 100).toFixed(1)} %, interval width ×${widthRatio.toFixed(3)}\n`);
    expect(reduction).toBeGreaterThan(0.03);
    expect(widthRatio).toBeLessThan(0.985);
  });

  describe('sequential looks every day for 14 days', () => {
    const USERS = 3000;
    const DAYS = 14;
    const ALPHA = 0.05;

    /**
     * Per arm: users converted by each day 1…14 (cumulative). A user converts at an exponential time with
     * their hazard; treated users also convert, with probability `uplift`, on a uniform day of the window
     * if they had not by then. The planted effect on 14-day conversion is uplift · (1 − mean 14-day rate).
     */
    function cumulative(uplift: number): number[] {
      const byDay = new Array<number>(DAYS + 2).fill(0);
      for (let i = 0; i < USERS; i++) {
        let day = ceil(-log(1 - rand()) / POOL[pick()]!);
        if (uplift > 0 && rand() < uplift) day = min(day, 1 + floor(rand() * DAYS));
        byDay[min(day, DAYS + 1)]!++;
      }
      const out: number[] = [];
      let acc = 0;
      for (let d = 1; d <= DAYS; d++) out.push((acc += byDay[d]!));
      return out;
    }

    function look(c: number, t: number) {
      const diff = differenceOfProportions({ successes: c, trials: USERS }, { successes: t, trials: USERS });
      return { estimate: diff.absolute, se: diff.standardError, pooled: (c + t) / (2 * USERS), waldZ: diff.standardError > 0 ? diff.absolute / diff.standardError : 0 };
    }

    /** The planned boundaries: information in the odds of the expected pooled rate (see analytics/experiment-sequential.ts). */
    let planned: number[] | undefined;
    function plannedInformation(): number[] {
      const rates = Array.from({ length: DAYS }, (_, d) => POOL.reduce((s, h) => s + 1 - exp(-h * (d + 1)), 0) / POOL.length);
      return rates.map((p) => p / (1 - p));
    }
    function plannedBoundaries(): number[] {
      if (planned) return planned;
      return (planned = groupSequentialBoundaries(plannedInformation().map((information, d) => ({ information, alphaSpent: d === DAYS - 1 ? ALPHA : obrienFlemingSpending((d + 1) / DAYS, ALPHA) }))));
    }

    it('under a null effect: the sequential test rejects ≤ 5 % of the time, as one fixed look does, naive daily Wald looks far more (4000 experiments)', () => {
      // 4000 runs: the Monte-Carlo standard error of a 5 % rate is 0.34 pp.
      const NULL_REPS = 4000;
      const boundaries = plannedBoundaries();
      let sequential = 0;
      let naive = 0;
      let fixed = 0;
      for (let r = 0; r < NULL_REPS; r++) {
        const c = cumulative(0);
        const t = cumulative(0);
        let stopped = false;
        let naiveStopped = false;
        for (let d = 0; d < DAYS; d++) {
          const l = look(c[d]!, t[d]!);
          if (l.se > 0 && abs(l.estimate / l.se) >= boundaries[d]!) stopped = true;
          if (abs(l.waldZ) >= Z95) naiveStopped = true;
        }
        if (stopped) sequential++;
        if (naiveStopped) naive++;
        if (abs(look(c[DAYS - 1]!, t[DAYS - 1]!).waldZ) >= Z95) fixed++;
      }
      const pct = (n: number) => `${((n / NULL_REPS) * 100).toFixed(2)} %`;
      process.stdout.write(`[experiment simulation] null, 14 daily looks: sequential false positives ${pct(sequential)}, one fixed look at the end ${pct(fixed)}, naive daily Wald ${pct(naive)} (${NULL_REPS} runs)\n`);
      const mcError = sqrt((0.05 * 0.95) / NULL_REPS);
      // Within two Monte-Carlo standard errors of 5 %, and no more often than a single look at the end rejects on the same data.
      expect(sequential / NULL_REPS).toBeLessThanOrEqual(0.05 + 2 * mcError);
      expect(sequential / NULL_REPS).toBeLessThanOrEqual(fixed / NULL_REPS + 2 * mcError);
      expect(naive / NULL_REPS).toBeGreaterThan(0.1);
    });

    it('with an effect: the interval at the look the test ends on covers the effect there 95 % ± 2 %, the repeated one more, and the test often stops early (1000 experiments)', () => {
      const boundaries = plannedBoundaries();
      const information = plannedInformation();
      const uplift = 0.014;
      // The planted effect on conversion by day d: a treated user not converted by then converted through the uplift by day d with probability uplift · d / 14.
      const truthBy = (d: number) => (uplift * d * POOL.reduce((acc, h) => acc + exp(-h * d), 0)) / POOL.length / DAYS;
      let covered = 0;
      let repeatedCovered = 0;
      let early = 0;
      for (let r = 0; r < REPS; r++) {
        const c = cumulative(0);
        const t = cumulative(uplift);
        // As the product runs it: look every day, end at the first crossing or at the last look.
        let end = DAYS - 1;
        for (let d = 0; d < DAYS - 1; d++) {
          const l = look(c[d]!, t[d]!);
          if (l.se > 0 && abs(l.estimate / l.se) >= boundaries[d]!) {
            end = d;
            early++;
            break;
          }
        }
        const l = look(c[end]!, t[end]!);
        const taken = Array.from({ length: end + 1 }, (_, d) => ({ information: information[d]!, boundary: boundaries[d]! }));
        const interval = stagewiseInterval(taken, l.estimate / l.se, l.se, 1 - ALPHA);
        const truth = truthBy(end + 1);
        if (interval.ciLow <= truth && truth <= interval.ciHigh) covered++;
        if (abs(l.estimate - truth) <= boundaries[end]! * l.se) repeatedCovered++;
      }
      expectCoverage(covered, REPS, 'sequential stage-wise interval at the end look');
      process.stdout.write(`[experiment simulation] sequential: stopped early for a win in ${((early / REPS) * 100).toFixed(1)} %; the repeated interval covered ${((repeatedCovered / REPS) * 100).toFixed(1)} % (valid at every look, so conservative at one)\n`);
      expect(repeatedCovered).toBeGreaterThanOrEqual(covered);
      expect(early / REPS).toBeGreaterThan(0.2);
    });

    it('the product\'s look-by-look boundaries from observed information agree with the planned ones', () => {
      const planned = plannedBoundaries();
      const c = cumulative(0);
      const t = cumulative(0);
      let looks: SequentialLookRecord[] = [];
      for (let d = 0; d < DAYS; d++) {
        const l = look(c[d]!, t[d]!);
        const record = sequentialLook(looks, { days: d + 1, fraction: (d + 1) / DAYS, final: d === DAYS - 1, estimate: l.estimate, standardError: l.se, pooledRate: l.pooled }, ALPHA);
        looks = [...looks, record];
      }
      // The first days spend almost nothing (their boundaries are capped); from day 5 on they must agree closely.
      for (let d = 4; d < DAYS; d++) expect(abs(looks[d]!.boundary! - planned[d]!)).toBeLessThan(0.05);
    });
  });

  it('geo: the randomisation interval of matched-pairs DiD covers the planted geo effect 95 % ± 2 % (600 experiments)', () => {
    const GEO_REPS = 600;
    const effect = 0.02;
    let covered = 0;
    let unbounded = 0;
    let width = 0;
    for (let r = 0; r < GEO_REPS; r++) {
      const regions = Array.from({ length: 20 }, (_, i) => {
        const users = 150 + floor(rand() * 500);
        const rate = 0.03 + 0.06 * rand();
        return { region: `R${String(i).padStart(2, '0')}`, users, rate, noise: exp(0.1 * gauss() - 0.005) };
      });
      const binomial = (n: number, p: number) => {
        let k = 0;
        for (let i = 0; i < n; i++) if (rand() < p) k++;
        return k;
      };
      const pre: RegionOutcome[] = regions.map((g) => ({ region: g.region, users: g.users, converters: binomial(g.users, g.rate), preConverters: 0 }));
      // Pairing on the window before the pre-period, as the product pairs on the design's baseline window
      const { pairs } = pairRegions(pre.map((p) => ({ ...p, preConverters: p.converters })), `geo-${r}`, 12);
      const treated = new Set(pairs.map((p) => p.treatment));
      const outcomes: RegionOutcome[] = regions.map((g) => ({
        region: g.region,
        users: g.users,
        preConverters: binomial(g.users, g.rate),
        converters: binomial(g.users, min(1, g.rate * g.noise + (treated.has(g.region) ? effect : 0))),
      }));
      const geo = analyseGeo(outcomes, pairs, { confidence: 0.95, permutations: 4096, preWindow: { from: 'a', to: 'b' } });
      if (geo.effect.ciLow <= effect && effect <= geo.effect.ciHigh) covered++;
      if (!Number.isFinite(geo.effect.ciLow) || !Number.isFinite(geo.effect.ciHigh)) unbounded++;
      width += (geo.effect.ciHigh - geo.effect.ciLow) / GEO_REPS;
    }
    expectCoverage(covered, GEO_REPS, 'geo randomisation-interval coverage');
    process.stdout.write(`[experiment simulation] geo: ${unbounded} of ${GEO_REPS} intervals unbounded, mean width ${width.toFixed(4)}\n`);
    expect(unbounded / GEO_REPS).toBeLessThan(0.02);
  });
});
