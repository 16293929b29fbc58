import type {
  AdjustedDifference,
  CovariateSums,
  MeanDifference,
  MomentSums,
  PairedRandomizationInterval,
  ProportionDifference,
  RatioSums,
  SrmResult,
} from './stats';
import type { GUARDRAIL_METRICS, RolloutPlan } from './plan';

/** What the warehouse sends back per arm: counts and one-pass sums, never user rows. */
export interface ArmMeasurement {
  readonly arm: string;
  readonly users: number;
  /** Users with at least one order in the window */
  readonly converters: number;
  readonly orders: number;
  /** Over users (non-buyers contribute 0): n, Σ revenue per user, Σ (revenue per user)² */
  readonly revenue: MomentSums;
  readonly margin: MomentSums;
  /** With a pre-period: each metric's outcome y and the user's own pre-period value x */
  readonly covariates?: { readonly conversion: CovariateSums; readonly revenue: CovariateSums; readonly margin: CovariateSums };
  /** With a return flag: returned orders over orders, per user */
  readonly returns?: RatioSums;
  /** With a return flag: revenue of the orders kept */
  readonly netRevenue?: MomentSums;
}

export interface ArmSummary extends ArmMeasurement {
  readonly conversionRate: number;
  readonly revenuePerUser: number;
  readonly marginPerUser: number;
}

export interface SrmCheck extends SrmResult {
  readonly flagged: boolean;
  readonly alpha: number;
  /** The arms tested, in the order of `expected` */
  readonly arms: string[];
  /** Arms found in the data that the design does not have; any such arm flags the check */
  readonly unexpectedArms: string[];
}

export interface ExperimentAnalysis {
  readonly arms: { readonly control: ArmSummary; readonly treatment: ArmSummary };
  readonly allArms: ArmSummary[];
  readonly srm: SrmCheck;
  /** Conversion rate, treatment − control, with its (Newcombe) confidence interval and relative lift */
  readonly effect: ProportionDifference;
  /** Welch interval; null when an arm has fewer than 2 users */
  readonly revenuePerUser: MeanDifference | null;
  readonly marginPerUser: MeanDifference | null;
  /** CUPED-adjusted differences, when a pre-period was measured and both arms have 2 users or more */
  readonly adjusted?: {
    readonly conversion: AdjustedDifference;
    readonly revenuePerUser: AdjustedDifference;
    readonly marginPerUser: AdjustedDifference;
  } | null;
  /** Conversions the treatment added over what its users would have done as control */
  readonly incrementalConversions: number;
  /** null when an arm has fewer than 2 users */
  readonly incrementalRevenue: number | null;
  readonly cost: number | null;
  /** null without a cost, or when the treatment added no conversions */
  readonly costPerIncrementalConversion: number | null;
  /** From the effect's interval; high is null (unbounded) when the interval reaches zero */
  readonly costPerIncrementalConversionCi: { readonly low: number; readonly high: number | null } | null;
}

export type GuardrailMetric = (typeof GUARDRAIL_METRICS)[number];

/** One guardrail metric read out: its effect with its interval, and whether it failed. */
export interface GuardrailReadout {
  readonly metric: GuardrailMetric;
  /** What the effect is a difference of, e.g. "margin per user net of media cost" */
  readonly measure: string;
  readonly better: 'higher' | 'lower';
  /** Control's value of the measure (the reference the tolerance is relative to); null when not measurable */
  readonly control: number | null;
  readonly treatment: number | null;
  /** treatment − control (for iROAS and incremental CAC: the treatment's value) */
  readonly absolute: number | null;
  readonly ciLow: number | null;
  readonly ciHigh: number | null;
  readonly tolerance: number;
  /** The effect beyond which the metric counts as worse; the whole interval must lie past it */
  readonly threshold: number | null;
  /** Significantly worse by more than the tolerance: blocks the ship */
  readonly failed: boolean;
  readonly measurable: boolean;
  readonly detail: string;
}

/** The numbers a test is designed with, measured in the warehouse before it starts. */
export interface ExperimentDesign {
  readonly design: 'ab' | 'geo';
  readonly analysis: 'fixed' | 'sequential';
  readonly alpha: number;
  readonly targetPower: number;
  /** Users the test will assign, and the split */
  readonly eligibleUsers: number;
  readonly controlUsers: number;
  readonly treatmentUsers: number;
  /** Conversion in a window of measureDays before the start, over the eligible users */
  readonly baselineRate: number;
  readonly baselineWindow: { readonly from: string; readonly to: string };
  readonly measureDays: number;
  /** The effect the test must detect: relative lift and the absolute change it means at the baseline */
  readonly mdeRelative: number;
  readonly mdeAbsolute: number;
  readonly mdeSource: 'plan' | 'kpi-target';
  /** Power at the MDE with measureDays of outcomes */
  readonly power: number;
  /** The smallest relative lift the test detects with the target power in measureDays; null when none is */
  readonly detectableRelative: number | null;
  /** Users needed at the MDE and the target power; null when no sample suffices */
  readonly requiredUsers: number | null;
  /** The shortest outcome window (of those measured) that reaches the power; null when none does */
  readonly requiredDays: number | null;
  readonly byDays: ReadonlyArray<{ readonly days: number; readonly baselineRate: number; readonly power: number }>;
  /** Share of variance CUPED removed when the pre-period predicted the window before it; null without CUPED */
  readonly expectedVarianceReduction: number | null;
  /** Variance of the effect estimate at the final look expected under the design (sequential information) */
  readonly plannedVariance: number;
  readonly underpowered: boolean;
  readonly summary: string;
}

/** One interim look of a sequential test. */
export interface SequentialLookRecord {
  readonly look: number;
  /** Days of outcomes read at this look */
  readonly days: number;
  /** Share of the outcome window (the spending function's time) */
  readonly fraction: number;
  /** 1 / variance of the estimate; 0 when the look had no information yet (then it spent nothing) */
  readonly information: number;
  readonly alphaSpent: number;
  readonly boundary: number | null;
  readonly estimate: number | null;
  readonly zScore: number | null;
  readonly ciLow: number | null;
  readonly ciHigh: number | null;
  readonly stop: 'win' | 'harm' | null;
}

export interface SequentialReadout {
  readonly method: 'group-sequential, O\'Brien–Fleming alpha spending';
  readonly looks: SequentialLookRecord[];
  /** Stopped before the planned end */
  readonly stoppedEarly: boolean;
  readonly stop: 'win' | 'harm' | null;
  /**
   * Once the test has ended (stopped, or its last look taken): the interval
   * of the effect at that look under the stage-wise ordering, which has its
   * nominal coverage where the looks' repeated intervals are conservative.
   */
  readonly end?: { readonly method: 'stage-wise ordering'; readonly ciLow: number; readonly ciHigh: number; readonly confidence: number };
}

/** A geo test's readout: regions, pairs, the estimate and its randomisation interval. */
export interface GeoReadout {
  readonly method: 'matched-pairs difference-in-differences, randomisation interval';
  readonly regions: number;
  /** Per pair: treated − control conversion in the window, and in the pre-period */
  readonly pairs: ReadonlyArray<{ readonly treatment: string; readonly control: string; readonly difference: number; readonly preDifference: number }>;
  /** Effect on the per-user conversion rate of a region: (treated − control in the window) − (treated − control in the pre-period) */
  readonly effect: PairedRandomizationInterval;
  readonly preWindow: { readonly from: string; readonly to: string };
  readonly users: { readonly control: number; readonly treatment: number };
}

/** The interval the ship decision is taken on, and where it comes from. */
export interface PrimaryEffect {
  /** sequential: the repeated interval of an interim look; sequential-stagewise: the interval at the test's end */
  readonly method: 'newcombe' | 'cuped' | 'sequential' | 'sequential-stagewise' | 'geo-randomisation';
  readonly absolute: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly confidence: number;
}

export interface ShipDecision {
  readonly ship: boolean;
  readonly rule: string;
  readonly primary: PrimaryEffect;
  /** Why not, in words; empty when it ships */
  readonly reasons: string[];
}

/** What a readout adds to the analysis in this release; optional, as readouts of earlier releases lack it. */
export interface ExperimentReadoutDetails {
  readonly design?: ExperimentDesign;
  readonly guardrails?: GuardrailReadout[];
  readonly sequential?: SequentialReadout;
  readonly geo?: GeoReadout;
  readonly decision?: ShipDecision;
}

/** The automated A/A check: many re-randomisations of the eligible users over the pre-period. */
export interface AaCheck {
  readonly splits: number;
  readonly alpha: number;
  readonly falsePositives: number;
  readonly falsePositiveRate: number;
  /** Above it the check fails: alpha plus three binomial standard errors */
  readonly limit: number;
  /** Kolmogorov–Smirnov distance of the p-values from uniform */
  readonly ksDistance: number;
  readonly passed: boolean;
  readonly window: { readonly from: string; readonly to: string };
  readonly summary: string;
}

/**
 * The experiment settings of a plan, with what a plan recorded by an earlier
 * release (without these fields) meant: a fixed-horizon A/B test at 95 %, no
 * CUPED, no guardrail metrics read out. A running workflow of that release
 * keeps deciding as it did.
 */
export function experimentSettings(plan: RolloutPlan) {
  const e: Partial<RolloutPlan['experiment']> = plan.experiment;
  const current = e.design !== undefined;
  return {
    design: e.design ?? 'ab',
    analysis: e.analysis ?? 'fixed',
    alpha: e.alpha ?? 0.05,
    power: e.power ?? 0.8,
    minimumDetectableEffect: e.minimumDetectableEffect,
    onUnderpowered: e.onUnderpowered ?? 'proceed',
    cuped: e.cuped?.enabled ?? false,
    cupedPreDays: e.cuped?.preDays ?? 28,
    guardrailMetrics: current ? plan.kpi.guardrailMetrics : [],
    guardrailTolerance: e.guardrailTolerance ?? 0.05,
    guardrailTolerances: e.guardrailTolerances ?? {},
    aaCheck: e.aaCheck ?? false,
    geo: { regionsTable: e.geo?.regionsTable ?? 'user_regions', minRegions: e.geo?.minRegions ?? 12, permutations: e.geo?.permutations ?? 4096 },
  } as const;
}
export type ExperimentSettings = ReturnType<typeof experimentSettings>;
