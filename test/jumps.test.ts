import { naturalScale } from '../activities/loops/jump-series';
import { addDaysIso } from '../domain/dates';
import { DEFAULT_JUMP_SETTINGS, detectJump, jumpSettingsSchema, MAD_TO_SIGMA, type DailyValue } from '../domain/loops/jumps';

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

/** The linear scale, whose numbers are easy to check by hand */
const LINEAR = { ...DEFAULT_JUMP_SETTINGS, scale: 'linear' as const };

describe('seasonal jump detector', () => {
  it('takes the median of the same weekday and the MAD of every day from its weekday median', () => {
    // Each weekday has its own level; within it the weeks wobble by -2, -1, 0, 0, 1, 2 (newest first): median 0, MAD 1.
    const wobble = [-2, -1, 0, 0, 1, 2];
    const level = (offset: number) => 100 * (1 + (((offset % 7) + 7) % 7));
    const verdict = detectJump(series(6, (o) => (o === 0 ? level(0) + 10 : level(o) + wobble[Math.floor((-o - 1) / 7)]!)), DAY, LINEAR);
    expect(verdict).toMatchObject({ verdict: 'normal', value: 110, baseline: 100, history: [98, 99, 100, 100, 101, 102] });
    if (verdict.verdict === 'no-verdict') throw new Error('expected a verdict');
    expect(verdict.robustSigma).toBeCloseTo(MAD_TO_SIGMA, 12);
    expect(verdict.deviation!).toBeCloseTo(10 / MAD_TO_SIGMA, 12);
    expect(verdict.relativeChange!).toBeCloseTo(0.1, 12);
    // 10 % is many sigmas but below the default minimum change; with a lower minimum it is a jump.
    expect(detectJump(series(6, (o) => (o === 0 ? 110 : level(o) + wobble[Math.floor((-o - 1) / 7)]!)), DAY, { ...LINEAR, minRelativeChange: 0.05 })).toMatchObject({
      verdict: 'jump',
      direction: 'up',
    });
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
    expect(Math.abs(small.deviation!)).toBeGreaterThan(DEFAULT_JUMP_SETTINGS.sigmas);
    // Very noisy history: 50 up is material but within the noise.
    const noisy = (o: number) => (o === 0 ? 150 : 100 + 40 * Math.sin(o * 1.3));
    const loud = detectJump(series(6, noisy), DAY);
    expect(loud.verdict).toBe('normal');
    if (loud.verdict !== 'normal') throw new Error('expected normal');
    expect(loud.relativeChange!).toBeGreaterThan(DEFAULT_JUMP_SETTINGS.minRelativeChange);
  });

  it('is robust: one outlier week in the history neither raises nor hides a jump', () => {
    const withOutlier = (o: number) => (o === -14 ? 1000 : seasonal(o));
    expect(detectJump(series(6, withOutlier), DAY).verdict).toBe('normal');
    expect(detectJump(series(6, (o) => (o === 0 ? 300 : withOutlier(o))), DAY).verdict).toBe('jump');
  });

  it('gives no verdict, with the reason, without the day or without enough weeks of history', () => {
    expect(detectJump(series(6, (o) => (o === 0 ? null : 100)), DAY)).toEqual({ verdict: 'no-verdict', day: DAY, reason: `the series has no value on ${DAY}` });
    const short = detectJump(series(3, seasonal), DAY);
    expect(short).toEqual({ verdict: 'no-verdict', day: DAY, reason: 'too little history: 3 of the previous 8 same weekdays have a value above zero, 4 are needed' });
    // Days without a value do not count as history.
    expect(detectJump(series(6, (o) => (o % 14 === 0 && o !== 0 ? null : seasonal(o))), DAY).verdict).toBe('no-verdict');
  });

  it('a flat history makes any material change a jump; a zero baseline makes the relative change unbounded (null)', () => {
    expect(detectJump(series(6, (o) => (o === 0 ? 126 : 100)), DAY, LINEAR)).toMatchObject({ verdict: 'jump', deviation: null, robustSigma: 0 });
    expect(detectJump(series(6, () => 100), DAY, LINEAR)).toMatchObject({ verdict: 'normal', deviation: 0, relativeChange: 0 });
    expect(detectJump(series(6, (o) => (o === 0 ? 5 : 0)), DAY, LINEAR)).toMatchObject({ verdict: 'jump', relativeChange: null });
  });

  it('on the log scale judges ratios: a doubling and a halving are equally far, and a fall to zero is a jump down', () => {
    // Noise that multiplies: ×0.9 … ×1.1 around 100.
    const noisy = (o: number) => 100 * Math.exp(0.1 * Math.sin(o * 2.1));
    const up = detectJump(series(8, (o) => (o === 0 ? 200 : noisy(o))), DAY);
    const down = detectJump(series(8, (o) => (o === 0 ? 50 : noisy(o))), DAY);
    if (up.verdict === 'no-verdict' || down.verdict === 'no-verdict') throw new Error('expected verdicts');
    expect(up).toMatchObject({ verdict: 'jump', direction: 'up' });
    expect(down).toMatchObject({ verdict: 'jump', direction: 'down' });
    // Symmetric about 100 on the log scale: the two deviations differ only by how far the baseline is from 100.
    expect(up.deviation! + down.deviation!).toBeCloseTo((2 * Math.log(100 / up.baseline)) / up.robustSigma, 9);
    // Eight weeks: the median of the logs is the mean of the middle two, so the baseline is their geometric mean.
    const middle = [...up.history].sort((a, b) => a - b).slice(3, 5);
    expect(up.baseline).toBeCloseTo(Math.sqrt(middle[0]! * middle[1]!), 9);
    expect(detectJump(series(8, (o) => (o === 0 ? 0 : noisy(o))), DAY)).toMatchObject({ verdict: 'jump', direction: 'down', deviation: null, relativeChange: -1 });
    // Days at zero are no history on the log scale.
    expect(detectJump(series(8, (o) => (o === 0 ? 5 : 0)), DAY).verdict).toBe('no-verdict');
  });

  it('checks its settings and names the field', () => {
    expect(jumpSettingsSchema.safeParse({ weeks: 3, minWeeks: 4 }).error?.issues[0]?.path).toEqual(['minWeeks']);
    expect(jumpSettingsSchema.safeParse({ sigmas: 0 }).success).toBe(false);
    expect(DEFAULT_JUMP_SETTINGS).toEqual({ weeks: 8, minWeeks: 4, sigmas: 4, minRelativeChange: 0.25 });
  });

  it('judges each series on its own scale unless the settings name one: linear for a margin KPI, log for the rest', () => {
    const plan = (metric: string) => ({ kpi: { metric } }) as Parameters<typeof naturalScale>[1];
    expect(naturalScale('kpi', plan('contribution_margin'))).toBe('linear');
    for (const metric of ['cac', 'conversion_rate', 'roas', 'mer', 'clv']) expect(naturalScale('kpi', plan(metric))).toBe('log');
    for (const series of ['cost', 'llm-cost', 'model-capture'] as const) expect(naturalScale(series, plan('contribution_margin'))).toBe('log');
  });
});
