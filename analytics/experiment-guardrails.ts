import type { ExperimentAnalysis, GuardrailMetric, GuardrailReadout } from '../domain/experiment';
import { ratioDifference, welchDifference } from '../domain/stats';

export interface GuardrailOptions {
  readonly metrics: readonly GuardrailMetric[];
  /** Relative worsening of the control value allowed before a metric fails */
  readonly tolerance: number;
  readonly tolerances?: Partial<Record<GuardrailMetric, number>>;
  /** Media cost of treating one user (the control arm costs nothing extra) */
  readonly costPerTreatedUser: number;
  readonly confidence: number;
  /** The KPI step's CAC over the baseline window, for the cac guardrail; null when it was not measurable */
  readonly baselineCac?: number | null;
}

const fmt = (v: number) => Number(v.toPrecision(4)).toString();

/**
 * Every guardrail metric of the plan read out with its interval. A metric
 * fails only when its whole interval lies beyond the tolerated worsening:
 * "significantly worse by more than the tolerance", a non-inferiority test
 * at the readout's confidence. What each metric means per user, and why, is
 * in docs/experiments.md.
 */
export function evaluateGuardrails(analysis: ExperimentAnalysis, options: GuardrailOptions): GuardrailReadout[] {
  return options.metrics.map((metric) => evaluateOne(metric, analysis, options, options.tolerances?.[metric] ?? options.tolerance));
}

function evaluateOne(metric: GuardrailMetric, a: ExperimentAnalysis, o: GuardrailOptions, tolerance: number): GuardrailReadout {
  const { control, treatment } = a.arms;
  const cost = o.costPerTreatedUser;
  const unmeasurable = (measure: string, better: 'higher' | 'lower', detail: string): GuardrailReadout => ({
    metric, measure, better, control: null, treatment: null, absolute: null, ciLow: null, ciHigh: null, tolerance, threshold: null, failed: false, measurable: false, detail,
  });
  const higherIsBetter = (measure: string, controlValue: number, diff: { absolute: number; ciLow: number; ciHigh: number }, shift = 0): GuardrailReadout => {
    const threshold = -tolerance * Math.abs(controlValue);
    const failed = diff.ciHigh + shift < threshold;
    return {
      metric, measure, better: 'higher', control: controlValue, treatment: controlValue + diff.absolute + shift,
      absolute: diff.absolute + shift, ciLow: diff.ciLow + shift, ciHigh: diff.ciHigh + shift, tolerance, threshold, failed, measurable: true,
      detail: `${measure}: ${fmt(diff.absolute + shift)} (CI ${fmt(diff.ciLow + shift)} to ${fmt(diff.ciHigh + shift)}) vs tolerated ${fmt(threshold)}${failed ? ': significantly worse' : ''}`,
    };
  };
  switch (metric) {
    case 'conversion_rate':
      return higherIsBetter('conversion rate', a.effect.controlRate, a.effect);
    case 'revenue_per_user': {
      const d = a.revenuePerUser;
      return d ? higherIsBetter('revenue per user', d.controlMean, d) : unmeasurable('revenue per user', 'higher', 'fewer than 2 users in an arm');
    }
    case 'clv': {
      if (!control.netRevenue || !treatment.netRevenue) return unmeasurable('revenue kept per user', 'higher', 'no return flag measured');
      if (control.users < 2 || treatment.users < 2) return unmeasurable('revenue kept per user', 'higher', 'fewer than 2 users in an arm');
      const d = welchDifference(control.netRevenue, treatment.netRevenue, o.confidence);
      return higherIsBetter('revenue kept per user (returns netted out)', d.controlMean, d);
    }
    case 'contribution_margin': {
      const d = a.marginPerUser;
      // The treatment's media cost is the same for every treated user: it shifts the difference, not its uncertainty.
      return d ? higherIsBetter('margin per user net of media cost', d.controlMean, d, -cost) : unmeasurable('margin per user net of media cost', 'higher', 'fewer than 2 users in an arm');
    }
    case 'return_rate': {
      if (!control.returns || !treatment.returns) return unmeasurable('returned orders per order', 'lower', 'no return flag measured');
      if (control.users < 2 || treatment.users < 2 || !(control.returns.sumDenominator > 0 && treatment.returns.sumDenominator > 0)) {
        return unmeasurable('returned orders per order', 'lower', 'an arm has no orders yet');
      }
      const d = ratioDifference(control.returns, treatment.returns, o.confidence);
      const threshold = tolerance * d.controlRatio;
      const failed = d.ciLow > threshold;
      return {
        metric, measure: 'returned orders per order', better: 'lower', control: d.controlRatio, treatment: d.treatmentRatio, absolute: d.absolute,
        ciLow: d.ciLow, ciHigh: d.ciHigh, tolerance, threshold, failed, measurable: true,
        detail: `return rate ${fmt(d.absolute)} (CI ${fmt(d.ciLow)} to ${fmt(d.ciHigh)}) vs tolerated +${fmt(threshold)}${failed ? ': significantly worse' : ''}`,
      };
    }
    case 'roas':
    case 'mer': {
      // In a user-level test only the treatment costs: its return on that spend (iROAS) must not fall significantly below break-even.
      const d = a.revenuePerUser;
      if (!d) return unmeasurable('incremental ROAS', 'higher', 'fewer than 2 users in an arm');
      if (!(cost > 0)) return unmeasurable('incremental ROAS', 'higher', 'the treatment has no media cost, so its return on spend is unbounded');
      const threshold = 1 - tolerance;
      const iroas = { absolute: d.absolute / cost, ciLow: d.ciLow / cost, ciHigh: d.ciHigh / cost };
      const failed = iroas.ciHigh < threshold;
      return {
        metric, measure: 'incremental ROAS (revenue added per unit of media cost)', better: 'higher', control: 1, treatment: iroas.absolute,
        absolute: iroas.absolute, ciLow: iroas.ciLow, ciHigh: iroas.ciHigh, tolerance, threshold, failed, measurable: true,
        detail: `iROAS ${fmt(iroas.absolute)} (CI ${fmt(iroas.ciLow)} to ${fmt(iroas.ciHigh)}) vs break-even less tolerance ${fmt(threshold)}${failed ? ': significantly below' : ''}`,
      };
    }
    case 'cac': {
      const baseline = o.baselineCac ?? null;
      if (baseline === null || !(baseline > 0)) return unmeasurable('incremental CAC', 'lower', 'no baseline CAC was measured in the KPI step');
      if (!(cost > 0)) return unmeasurable('incremental CAC', 'lower', 'the treatment has no media cost');
      const threshold = baseline * (1 + tolerance);
      const total = cost * treatment.users;
      const perConversion = (lift: number) => (lift > 0 ? total / (lift * treatment.users) : Infinity);
      // The cost per incremental conversion falls as the lift rises: its lower bound comes from the lift's upper bound.
      const low = perConversion(a.effect.ciHigh);
      const failed = low > threshold;
      const point = perConversion(a.effect.absolute);
      return {
        metric, measure: 'cost per incremental conversion', better: 'lower', control: baseline, treatment: Number.isFinite(point) ? point : null,
        absolute: Number.isFinite(point) ? point : null, ciLow: Number.isFinite(low) ? low : null, ciHigh: Number.isFinite(perConversion(a.effect.ciLow)) ? perConversion(a.effect.ciLow) : null,
        tolerance, threshold, failed, measurable: true,
        detail: `incremental CAC ${Number.isFinite(point) ? fmt(point) : 'unbounded'} (lower bound ${Number.isFinite(low) ? fmt(low) : 'unbounded'}) vs baseline CAC ${fmt(baseline)} + tolerance = ${fmt(threshold)}${failed ? ': significantly worse' : ''}`,
      };
    }
  }
}
