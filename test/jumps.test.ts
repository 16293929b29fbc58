import { addDaysIso } from '../domain/dates';
import { DEFAULT_JUMP_SETTINGS, detectJump, jumpSettingsSchema, MAD_TO_SIGMA, median, type DailyValue } from '../domain/loops/jumps';

const DAY = '2026-11-30';

/** A series of `weeks` whole weeks ending on DAY, its value by day offset from DAY (0 = DAY). */
function series(weeks: number, valueAt: (offset: number) => number | null): DailyValue[] {
  const out: DailyValue[] = [];
  for (let offset = -7 * weeks; offset <= 0; offset++) out.push({ day: addDaysIso(DAY, offset), value: valueAt(offset) });
  return out;
}

/** Weekly seasonality: weekends sell half; a small wobble per week. */
const seasonal = (offset: number) => {
  const weekday = ((offset % 7) + 7) % 7;
  const level = weekday === 5 || weekday === 6 ? 50 : 100;
  return level * (1 + 0.02 * Math.sin(offset));
};

describe('seasonal jump detector', () => {
  it('takes the median and MAD of the same weekday: the history and its numbers are those of the previous weeks', () => {
    const verdict = detectJump(series(6, (o) => (o === 0 ? 130 : o % 7 === 0 ? 100 + o / 7 : 1)), DAY);
    const history = [99, 98, 97, 96, 95, 94];
    expect(verdict).toMatchObject({ verdict: 'jump', direction: 'up', value: 130, history });
    if (verdict.verdict === 'no-verdict') throw new Error('expected a verdict');
    expect(verdict.baseline).toBe(median(history));
    expect(verdict.robustSigma).toBeCloseTo(MAD_TO_SIGMA * 1.5, 12);
    expect(verdict.deviation).toBeCloseTo((130 - 96.5) / (MAD_TO_SIGMA * 1.5), 12);
    expect(verdict.relativeChange).toBeCloseTo((130 - 96.5) / 96.5, 12);
  });

  it('sees no jump in a seasonal series whose weekends are always low, and a jump on a weekday that sinks to weekend level', () => {
    expect(detectJump(series(6, seasonal), DAY).verdict).toBe('normal');
    const saturday = addDaysIso(DAY, -2);
    expect(detectJump(series(6, seasonal), saturday).verdict).toBe('normal');
    expect(detectJump(series(6, (o) => (o === 0 ? 50 : seasonal(o))), DAY)).toMatchObject({ verdict: 'jump', direction: 'down' });
  });

  it('needs both: many robust sigmas and the minimum relative change', () => {
    // Very steady history: 1 % up is many sigmas but not material.
    const steady = (o: number) => (o === 0 ? 101 : 100 + 0.01 * Math.sin(o));
    const small = detectJump(series(6, steady), DAY);
    expect(small.verdict).toBe('normal');
    if (small.verdict !== 'normal') throw new Error('expected normal');
    expect(Math.abs(small.deviation)).toBeGreaterThan(DEFAULT_JUMP_SETTINGS.sigmas);
    // Very noisy history: 50 up is material but within the noise.
    const noisy = (o: number) => (o === 0 ? 150 : 100 + 40 * Math.sin(o * 1.3));
    const loud = detectJump(series(6, noisy), DAY);
    expect(loud.verdict).toBe('normal');
    if (loud.verdict !== 'normal') throw new Error('expected normal');
    expect(loud.relativeChange).toBeGreaterThan(DEFAULT_JUMP_SETTINGS.minRelativeChange);
  });

  it('is robust: one outlier week in the history neither raises nor hides a jump', () => {
    const withOutlier = (o: number) => (o === -14 ? 1000 : seasonal(o));
    expect(detectJump(series(6, withOutlier), DAY).verdict).toBe('normal');
    expect(detectJump(series(6, (o) => (o === 0 ? 300 : withOutlier(o))), DAY).verdict).toBe('jump');
  });

  it('gives no verdict, with the reason, without the day or without enough weeks of history', () => {
    expect(detectJump(series(6, (o) => (o === 0 ? null : 100)), DAY)).toEqual({ verdict: 'no-verdict', day: DAY, reason: `the series has no value on ${DAY}` });
    const short = detectJump(series(3, seasonal), DAY);
    expect(short).toEqual({ verdict: 'no-verdict', day: DAY, reason: 'too little history: 3 of the previous 6 same weekdays have a value, 4 are needed' });
    // Days without a value do not count as history.
    expect(detectJump(series(6, (o) => (o % 14 === 0 && o !== 0 ? null : seasonal(o))), DAY).verdict).toBe('no-verdict');
  });

  it('a flat history makes any material change a jump; a zero baseline reads as an infinite relative change', () => {
    expect(detectJump(series(6, (o) => (o === 0 ? 126 : 100)), DAY)).toMatchObject({ verdict: 'jump', deviation: Infinity, robustSigma: 0 });
    expect(detectJump(series(6, () => 100), DAY)).toMatchObject({ verdict: 'normal', deviation: 0, relativeChange: 0 });
    expect(detectJump(series(6, (o) => (o === 0 ? 5 : 0)), DAY)).toMatchObject({ verdict: 'jump', relativeChange: Infinity });
  });

  it('checks its settings and names the field', () => {
    expect(jumpSettingsSchema.safeParse({ weeks: 3, minWeeks: 4 }).error?.issues[0]?.path).toEqual(['minWeeks']);
    expect(jumpSettingsSchema.safeParse({ sigmas: 0 }).success).toBe(false);
    expect(DEFAULT_JUMP_SETTINGS).toEqual({ weeks: 6, minWeeks: 4, sigmas: 4, minRelativeChange: 0.25 });
  });
});
