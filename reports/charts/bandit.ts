import { regularizedBeta } from '../../domain/stats/special';
import { COLOURS, type ChartSpec } from '../vega';

/** One round of a bandit as aimo.bandit_rounds keeps it: the shares served, and every arm's totals after it. */
export interface BanditRoundRecord {
  readonly round: number;
  readonly shares: Readonly<Record<string, number>>;
  /** Cumulative impressions and clicks per arm once the round's outcomes were read; empty before */
  readonly arms: ReadonlyArray<{ readonly armId: string; readonly impressions: number; readonly clicks: number }>;
}

/** The p-quantile of Beta(a, b), by bisection on the regularised incomplete beta function. */
export function betaQuantile(p: number, a: number, b: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (regularizedBeta(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The share of traffic each arm got, round by round. */
export function allocationChart(productId: string, rounds: readonly BanditRoundRecord[]): ChartSpec | undefined {
  const values = rounds.flatMap((r) => Object.entries(r.shares).map(([arm, share]) => ({ round: r.round, arm, share })));
  if (rounds.length === 0 || values.length === 0) return undefined;
  return {
    title: `Bandit ${productId}: traffic allocation per round`,
    width: 480,
    height: 220,
    data: { values },
    mark: { type: 'area', interpolate: 'step-after', opacity: 0.9 },
    encoding: {
      x: { field: 'round', type: 'quantitative', title: 'round', axis: { tickMinStep: 1 } },
      y: { field: 'share', type: 'quantitative', stack: 'normalize', title: 'share of impressions', axis: { format: '.0%' } },
      color: { field: 'arm', type: 'nominal', title: 'arm' },
    },
  };
}

/** Each arm's Beta(1 + clicks, 1 + misses) posterior click rate after every round: mean and 95 % credible band. */
export function posteriorChart(productId: string, rounds: readonly BanditRoundRecord[]): ChartSpec | undefined {
  const values = rounds.flatMap((r) =>
    r.arms.map((a) => {
      const alpha = 1 + a.clicks;
      const beta = 1 + Math.max(0, a.impressions - a.clicks);
      return { round: r.round, arm: a.armId, mean: alpha / (alpha + beta), low: betaQuantile(0.025, alpha, beta), high: betaQuantile(0.975, alpha, beta) };
    }),
  );
  if (values.length === 0) return undefined;
  return {
    title: `Bandit ${productId}: posterior click rate per arm`,
    width: 480,
    height: 240,
    data: { values },
    encoding: {
      x: { field: 'round', type: 'quantitative', title: 'round', axis: { tickMinStep: 1 } },
      color: { field: 'arm', type: 'nominal', title: 'arm' },
    },
    layer: [
      { mark: { type: 'area', opacity: 0.18 }, encoding: { y: { field: 'low', type: 'quantitative', title: 'click rate (posterior)', axis: { format: '.1%' } }, y2: { field: 'high' } } },
      { mark: { type: 'line', point: { filled: true, size: 30 }, strokeWidth: 2 }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
    ],
    config: { line: { color: COLOURS.neutral } },
  };
}
