import type { MeanDifference, MomentSums, ProportionDifference, SrmResult } from './stats';
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
  /** Conversion rate, treatment − control, with its confidence interval and relative lift */
  readonly effect: ProportionDifference;
  /** Welch interval; null when an arm has fewer than 2 users */
  readonly revenuePerUser: MeanDifference | null;
  readonly marginPerUser: MeanDifference | null;
  /** Conversions the treatment added over what its users would have done as control */
  readonly incrementalConversions: number;
  readonly incrementalRevenue: number;
  readonly cost: number | null;
  /** null without a cost, or when the treatment added no conversions */
  readonly costPerIncrementalConversion: number | null;
  /** From the effect's interval; high is null (unbounded) when the interval reaches zero */
  readonly costPerIncrementalConversionCi: { readonly low: number; readonly high: number | null } | null;
}
