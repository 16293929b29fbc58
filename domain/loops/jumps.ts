import { z } from 'zod';
import { addDaysIso } from '../dates';

/**
 * Jumps in a daily series against a seasonal baseline: the newest complete
 * day is compared with the median of the same weekday over the previous
 * weeks. How far a day may stray is the MAD of every day of those weeks
 * from its own weekday's median, scaled to a standard deviation: the
 * seasonal median and MAD of the residuals, as seasonal hybrid ESD does it
 * (Hochenbaum, Vallis & Kejariwal 2017), so one earlier outlier neither
 * hides a jump nor raises one, and the spread is measured on some forty
 * days rather than the judged weekday's handful. A jump must be both
 * unusual (more than `sigmas` robust standard deviations off the baseline)
 * and material (at least `minRelativeChange` of the baseline): a very
 * steady series would otherwise alert on a change of a few cents.
 */

/** The factor that makes the MAD a consistent estimate of the standard deviation of normal data. */
export const MAD_TO_SIGMA = 1.4826;

export const jumpSettingsSchema = z
  .object({
    weeks: z.number().int().min(2).max(52).default(8).describe('Weeks of history the baseline reads: the same weekday in each'),
    minWeeks: z.number().int().min(2).max(52).default(4).describe('Fewest same-weekday values with data for a verdict'),
    sigmas: z.number().gt(0).max(100).default(4).describe('Robust standard deviations off the baseline for a jump'),
    minRelativeChange: z.number().min(0).max(100).default(0.25).describe('Smallest change relative to the baseline that counts as a jump, e.g. 0.25 = 25 %'),
    scale: z
      .enum(['log', 'linear'])
      .optional()
      .describe(
        "Where deviations are measured: log suits positive series whose noise grows with their level (costs, ratios of counts); linear suits series that may be zero or negative. Default: the series' own (log, linear for a margin KPI)",
      ),
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
  /** Median of the same weekday over the previous weeks (on the log scale: their median's exponential) */
  readonly baseline: number;
  /** 1.4826 × the median absolute residual of the history's days from their weekday medians, on the scale judged */
  readonly robustSigma: number;
  /** The distance from the baseline in robust sigmas, on the scale judged; null (beyond any bound) when the history does not vary at all and the value differs */
  readonly deviation: number | null;
  /** (value − baseline) / |baseline|; null (beyond any bound) over a zero baseline the value differs from */
  readonly relativeChange: number | null;
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
  // On the log scale a value that is not positive has no place: it stays out of the history, and as the judged value it is a fall beyond any bound.
  const scale = settings.scale ?? 'log';
  const onScale = (v: number): number | null => (scale === 'linear' ? v : v > 0 ? Math.log(v) : null);
  const weekdays: Array<Array<{ raw: number; scaled: number }>> = [[], [], [], [], [], [], []];
  for (let week = 1; week <= settings.weeks; week++) {
    for (let back = 0; back < 7; back++) {
      const past = byDay.get(addDaysIso(day, -7 * week + back));
      const scaled = past === undefined || past === null || !Number.isFinite(past) ? null : onScale(past);
      if (scaled !== null) weekdays[back]!.push({ raw: past!, scaled });
    }
  }
  const sameWeekday = weekdays[0]!;
  if (sameWeekday.length < settings.minWeeks) {
    return {
      verdict: 'no-verdict',
      day,
      reason: `too little history: ${sameWeekday.length} of the previous ${settings.weeks} same weekdays have a value${scale === 'log' ? ' above zero' : ''}, ${settings.minWeeks} are needed`,
    };
  }
  const history = sameWeekday.map((p) => p.raw);
  const centre = median(sameWeekday.map((p) => p.scaled));
  const baseline = scale === 'log' ? Math.exp(centre) : centre;
  // Residuals of every weekday with enough values, each from its own weekday's median.
  const residuals = weekdays
    .filter((values) => values.length >= settings.minWeeks)
    .flatMap((values) => {
      const own = median(values.map((p) => p.scaled));
      return values.map((p) => p.scaled - own);
    });
  const robustSigma = MAD_TO_SIGMA * median(residuals.map(Math.abs));
  const scaled = onScale(value);
  const diff = scaled === null ? -Infinity : scaled - centre;
  // Unbounded ratios are null rather than ±Infinity: verdicts travel as JSON through workflow histories.
  const deviation = diff === 0 ? 0 : robustSigma > 0 && Number.isFinite(diff) ? diff / robustSigma : null;
  const relativeChange = value === baseline ? 0 : baseline !== 0 ? (value - baseline) / Math.abs(baseline) : null;
  const judged: Judged = { day, value, baseline, robustSigma, deviation, relativeChange, history };
  const beyond = (x: number | null, bound: number, strict: boolean) => x === null || (strict ? Math.abs(x) > bound : Math.abs(x) >= bound);
  const jumped = beyond(deviation, settings.sigmas, true) && beyond(relativeChange, settings.minRelativeChange, false);
  return jumped ? { verdict: 'jump', direction: diff > 0 ? 'up' : 'down', ...judged } : { verdict: 'normal', ...judged };
}

/** One series' verdict on the judged day. */
export interface SeriesVerdict {
  readonly series: string;
  readonly verdict: JumpVerdict;
}

export interface JumpCheckResult {
  readonly useCase: string;
  /** The day judged */
  readonly day: string;
  readonly settings: JumpSettings;
  readonly verdicts: readonly SeriesVerdict[];
  /** Incident ids of the jumps alerted, one per series and day */
  readonly alerted: readonly string[];
}

/** One incident per use case, series and day: a re-run or retry of the same day alerts no more. */
export function jumpIncidentId(useCase: string, series: string, day: string): string {
  return `jump-${useCase}-${series}-${day}`;
}
