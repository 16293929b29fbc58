import type { SequentialLookRecord } from '../domain/experiment';
import { groupSequentialBoundaries, obrienFlemingSpending, sequentialDecision, stagewiseInterval, type StagewiseInterval } from '../domain/stats';

export interface LookInput {
  /** Days of outcomes read */
  readonly days: number;
  /** Share of the planned outcome window: the spending function's time */
  readonly fraction: number;
  /** The last planned look: it spends all the alpha left */
  readonly final: boolean;
  /** Conversion difference, treatment − control, and its unpooled standard error */
  readonly estimate: number;
  readonly standardError: number;
  /** Pooled conversion rate so far: its odds are the look's information (see below) */
  readonly pooledRate: number;
}

/**
 * One interim look of the group-sequential test. Every user is assigned at
 * the start and converts at some point of the window, so the look-k estimate
 * is a difference of cumulative conversion rates over the same users; the
 * covariance of two looks is p_j(1 − p_k)/n per arm, which makes the z
 * statistics exactly those of a Brownian motion in the odds p/(1 − p). The
 * odds are therefore the information the boundaries are computed with, and
 * the alpha is spent by calendar time (the share of the outcome window). A
 * look without information yet (no conversions) decides nothing and spends
 * nothing; the next one takes the alpha it left.
 */
export function sequentialLook(previous: readonly SequentialLookRecord[], input: LookInput, alpha: number): SequentialLookRecord {
  const look = previous.length + 1;
  const alphaSpent = input.final ? alpha : obrienFlemingSpending(Math.min(input.fraction, 1), alpha);
  const information = input.pooledRate > 0 && input.pooledRate < 1 ? input.pooledRate / (1 - input.pooledRate) : 0;
  const taken = previous.filter((l) => l.information > 0 && l.boundary !== null);
  const last = taken.at(-1);
  const base = { look, days: input.days, fraction: input.fraction, alphaSpent };
  if (!(information > 0) || !(input.standardError > 0) || (last && !(information > last.information))) {
    return { ...base, information: 0, boundary: null, estimate: null, zScore: null, ciLow: null, ciHigh: null, stop: null };
  }
  const boundaries = groupSequentialBoundaries([...taken, { information, alphaSpent }].map((l) => ({ information: l.information, alphaSpent: l.alphaSpent })));
  const decision = sequentialDecision(input.estimate, input.standardError, boundaries.at(-1)!);
  return { ...base, information, boundary: decision.boundary, estimate: input.estimate, zScore: decision.zScore, ciLow: decision.ciLow, ciHigh: decision.ciHigh, stop: decision.stop };
}

/**
 * The interval at the look a sequential test ended on (its stop, or its last
 * planned look), under the stage-wise ordering over the looks that had
 * information: nominal coverage, and it excludes 0 exactly when the test
 * rejected at that look.
 */
export function sequentialEndInterval(looks: readonly SequentialLookRecord[], z: number, standardError: number, confidence: number): StagewiseInterval {
  const taken = looks.filter((l) => l.information > 0 && l.boundary !== null).map((l) => ({ information: l.information, boundary: l.boundary! }));
  return stagewiseInterval(taken, z, standardError, confidence);
}
