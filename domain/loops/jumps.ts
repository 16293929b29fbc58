import { z } from 'zod';
import { addDaysIso } from '../dates';

/**
 * Jumps in a daily series against a seasonal baseline: the newest complete
 * day is compared with the same weekday of the previous weeks, robustly
 * (median and median absolute deviation, as Hampel's filter and
 * Rousseeuw & Croux's MAD scale do it), so one earlier outlier neither hides
 * a jump nor raises one. A jump must be both unusual (more than `sigmas`
 * robust standard deviations off the baseline) and material (at least
 * `minRelativeChange` of the baseline): a very steady series would otherwise
 * alert on a change of a few cents.
 */

/** The factor that makes the MAD a consistent estimate of the standard deviation of normal data. */
export const MAD_TO_SIGMA = 1.4826;

export const jumpSettingsSchema = z
  .object({
    weeks: z.number().int().min(2).max(52).default(6).describe('Weeks of history the baseline reads: the same weekday in each'),
    minWeeks: z.number().int().min(2).max(52).default(4).describe('Fewest same-weekday values with data for a verdict'),
    sigmas: z.number().gt(0).max(100).default(4).describe('Robust standard deviations off the baseline for a jump'),
    minRelativeChange: z.number().min(0).max(100).default(0.25).describe('Smallest change relative to the baseline that counts as a jump, e.g. 0.25 = 25 %'),
  })
  .strict()
  .refine((s) => s.minWeeks <= s.weeks, { path: ['minWeeks'], message: 'must not exceed weeks' });
export type JumpSettings = z.output<typeof jumpSettingsSchema>;
export const DEFAULT_JUMP_SETTINGS: JumpSettings = jumpSettingsSchema.parse({});

/** One day of a series; null where the day has no value (no data, or a ratio over zero). */
export interface DailyValue {
  readonly day: string;
  readonly value: number | null;
}

interface Judged {
  readonly day: string;
  readonly value: number;
  /** Median of the same weekday over the previous weeks */
  readonly baseline: number;
  /** MAD × 1.4826 */
  readonly robustSigma: number;
  /** (value − baseline) / robustSigma; ±Infinity when the history does not vary at all */
  readonly deviation: number;
  /** (value − baseline) / |baseline|; ±Infinity over a zero baseline */
  readonly relativeChange: number;
  /** The same-weekday values the baseline was taken from, newest first */
  readonly history: readonly number[];
}

export type JumpVerdict =
  | ({ readonly verdict: 'jump'; readonly direction: 'up' | 'down' } & Judged)
  | ({ readonly verdict: 'normal' } & Judged)
  | { readonly verdict: 'no-verdict'; readonly day: string; readonly reason: string };

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Judges `day` of a series against the same weekday of the `weeks` weeks before it. */
export function detectJump(series: readonly DailyValue[], day: string, settings: JumpSettings = DEFAULT_JUMP_SETTINGS): JumpVerdict {
  const byDay = new Map(series.map((p) => [p.day, p.value]));
  const value = byDay.get(day);
  if (value === undefined || value === null || !Number.isFinite(value)) return { verdict: 'no-verdict', day, reason: `the series has no value on ${day}` };
  const history: number[] = [];
  for (let week = 1; week <= settings.weeks; week++) {
    const past = byDay.get(addDaysIso(day, -7 * week));
    if (past !== undefined && past !== null && Number.isFinite(past)) history.push(past);
  }
  if (history.length < settings.minWeeks) {
    return {
      verdict: 'no-verdict',
      day,
      reason: `too little history: ${history.length} of the previous ${settings.weeks} same weekdays have a value, ${settings.minWeeks} are needed`,
    };
  }
  const baseline = median(history);
  const robustSigma = MAD_TO_SIGMA * median(history.map((v) => Math.abs(v - baseline)));
  const diff = value - baseline;
  const deviation = diff === 0 ? 0 : robustSigma > 0 ? diff / robustSigma : Math.sign(diff) * Infinity;
  const relativeChange = diff === 0 ? 0 : baseline !== 0 ? diff / Math.abs(baseline) : Math.sign(diff) * Infinity;
  const judged: Judged = { day, value, baseline, robustSigma, deviation, relativeChange, history };
  const jumped = Math.abs(deviation) > settings.sigmas && Math.abs(relativeChange) >= settings.minRelativeChange;
  return jumped ? { verdict: 'jump', direction: diff > 0 ? 'up' : 'down', ...judged } : { verdict: 'normal', ...judged };
}
