import { z } from 'zod';
import { NonRetryableError } from '../domain/errors';
import { addDaysIso } from '../domain/dates';
import { daysBetween } from './calendar';
import { SEGMENTS } from './model';
import { NULLABLE_COLUMNS } from './tables';

type SegmentName = (typeof SEGMENTS)[number]['value'];

/** The calendar of a dataset generated without dates: 90 days from 2026-01-01 */
export const DEFAULT_START_DATE = '2026-01-01';
const DEFAULT_DAYS = 90;
const MIN_DAYS = 14;
const MAX_DAYS = 730;

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be a SQL identifier: letters, digits, underscores');
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date, e.g. 2026-01-01')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'is not a calendar date');
const seed = z.number().int().min(0).max(4294967295).describe('Seed: the same seed and options give the same tables');
const rate = z.number().min(0).max(1);

/** Feature distributions a drift can shift; each names the source column it changes */
export const DRIFT_FEATURES = {
  channel_mix: { sourceColumn: 'sessions.channel', describe: (s: number) => `${pct(s * 0.5)} of sessions move to paid_social` },
  device_mix: { sourceColumn: 'sessions.device', describe: (s: number) => `${pct(s)} of desktop sessions move to mobile` },
  order_value: { sourceColumn: 'orders.revenue', describe: (s: number) => `order values ×${(1 + s).toFixed(2)}` },
  session_rate: { sourceColumn: 'sessions.started_at', describe: (s: number) => `browse sessions per user ×${(1 + s).toFixed(2)}` },
} as const;
export type DriftFeature = keyof typeof DRIFT_FEATURES;

function pct(x: number): string {
  return `${(x * 100).toFixed(0)} %`;
}

const driftSchema = z
  .object({
    fromDate: isoDate.describe('First day with shifted distributions; may lie after the last simulated day, so appended days shift'),
    features: z
      .array(z.enum(Object.keys(DRIFT_FEATURES) as [DriftFeature, ...DriftFeature[]]))
      .min(1, 'name at least one feature to shift')
      .refine((f) => new Set(f).size === f.length, 'list each feature once')
      .describe('Which distributions shift; the others stay as they were'),
    strength: z.number().gt(0).max(1).default(0.5).describe('How far they shift, 0 < strength ≤ 1'),
  })
  .strict();

const promotionSchema = z
  .object({
    fromDate: isoDate.describe('First day of the promotion'),
    toDate: isoDate.optional().describe('First day without it; default: it never ends (appended days keep it)'),
    segment: z.enum(SEGMENTS.map((s) => s.value) as [SegmentName, ...SegmentName[]]).describe('The customer segment it targets'),
    hazardFactor: z.number().gt(1).max(20).describe("Multiplies the segment's daily purchase hazard while it runs"),
  })
  .strict()
  .describe(
    'A change in who buys, not in what users do: lasting, it is concept drift a retrained model should learn; short, it is an anomaly a model trained on it over-learns',
  );

const conceptDriftSchema = z
  .object({
    fromDate: isoDate.describe('First day on which purchases follow the new drivers; may lie after the last simulated day'),
    strength: z.number().gt(0).max(1).default(1).describe('0 < strength ≤ 1: how far the drivers of purchase move from intent, segment and age to engagement and device'),
  })
  .strict()
  .describe("A change in what makes users buy: from fromDate each user's purchase hazard is a different function of their traits");

/** The daily series a planted jump moves, and how: a source table's rows of that one day */
export const JUMP_SERIES = {
  orders: 'the share `factor` of the day\'s orders is kept, the rest never reaches the orders table (a tracking outage): conversion falls, CAC rises',
  spend: 'every campaign\'s spend of the day is multiplied by `factor` (a bidding error): cost rises',
} as const;
export type JumpSeries = keyof typeof JUMP_SERIES;

const jumpSchema = z
  .object({
    date: isoDate.describe('The one day that jumps; may lie after the last simulated day, so an appended day jumps'),
    series: z.enum(Object.keys(JUMP_SERIES) as [JumpSeries, ...JumpSeries[]]).describe(Object.entries(JUMP_SERIES).map(([k, v]) => `${k}: ${v}`).join('; ')),
    factor: z.number().gt(0).max(20).describe('The factor of that day: below 1 for orders (the share kept), any for spend'),
  })
  .strict()
  .refine((j) => j.series !== 'orders' || j.factor < 1, { path: ['factor'], message: 'orders can only be lost: give the share kept, below 1' })
  .describe('A one-day jump in a KPI or cost series, for the daily jump check: what people, users and the truth tables do is unchanged');

const faultsSchema = z
  .object({
    nullRate: z
      .record(z.string(), rate)
      .default({})
      .superRefine((rates, ctx) => {
        for (const column of Object.keys(rates)) {
          if (!NULLABLE_COLUMNS.includes(column)) {
            ctx.addIssue({ code: 'custom', path: [column], message: `is not a column a null fault can target; use one of ${NULLABLE_COLUMNS.join(', ')}` });
          }
        }
      })
      .describe('Share of NULLs per `table.column`, e.g. {"users.email": 0.03}'),
    duplicateRate: z.number().min(0).max(0.5).default(0).describe('Share of sessions, events and orders rows delivered twice'),
    lateRowRate: rate.default(0).describe('Share of events and orders rows loaded 2–10 days after they happened'),
  })
  .strict();

/**
 * What the simulated market is, apart from its calendar. Recorded with the
 * dataset (truth_dataset.options), so appended days follow the same options
 * without the caller repeating them.
 */
const marketOptionsObject = z.object({
  seed,
  users: z.number().int().min(100).max(50_000_000).default(100_000),
  schema: identifier.default('raw'),
  consentRate: rate.default(0.85).describe('Share of users whose marketing consent is granted'),
  markets: z
    .array(z.string().regex(/^[A-Z]{2}$/, 'use two-letter market codes, e.g. DE'))
    .min(1)
    .max(20)
    .refine((m) => new Set(m).size === m.length, 'list each market once')
    .default(['DE', 'FR', 'UK']),
  truthWindows: z
    .array(z.number().int().min(1).max(365))
    .min(1)
    .refine((w) => new Set(w).size === w.length, 'list each window once')
    .default([7, 14, 28, 30])
    .describe('Window lengths (days) that truth_propensity is written for'),
  upliftAbsolute: z.number().min(-0.5).max(0.5).default(0.02).describe('Planted treatment effect on window conversion'),
  drift: driftSchema.optional(),
  promotion: promotionSchema.optional(),
  conceptDrift: conceptDriftSchema.optional(),
  faults: faultsSchema.optional(),
  jump: jumpSchema.optional(),
});

/** The market options as truth_dataset records them, checked again when read back */
export const recordedOptionsSchema = marketOptionsObject.strict();
export type MarketOptions = z.output<typeof recordedOptionsSchema>;

/**
 * What truth_dataset records: the options without the calendar (its own
 * columns) and the schema (where the dataset is, not what it is); a plain
 * object parse drops the keys it does not know.
 */
export function recordedOptionsOf(options: MarketOptions): Omit<MarketOptions, 'schema'> {
  return marketOptionsObject.omit({ schema: true }).parse(options);
}

export const datasetOptionsSchema = marketOptionsObject
  .extend({
    startDate: isoDate.optional().describe(`First simulated day; default ${DEFAULT_START_DATE}, or endDate − days + 1 when both of those are given`),
    endDate: isoDate.optional().describe('Last simulated day (inclusive); the embedded stack passes yesterday'),
    days: z.number().int().min(MIN_DAYS).max(MAX_DAYS).optional().describe(`Length of the period; default ${DEFAULT_DAYS}, or what startDate and endDate span`),
  })
  .strict()
  .superRefine((o, ctx) => {
    const calendar = resolveCalendar(o);
    if ('problem' in calendar) {
      ctx.addIssue({ code: 'custom', path: [calendar.field], message: calendar.problem });
      return;
    }
    for (const issue of plantedDateIssues(o, calendar.startDate)) ctx.addIssue({ code: 'custom', ...issue });
  })
  .transform((o): MarketOptions & Calendar => ({ ...o, ...(resolveCalendar(o) as Calendar) }));

export type DatasetOptions = z.input<typeof datasetOptionsSchema>;
export type ResolvedDatasetOptions = z.output<typeof datasetOptionsSchema>;

/** The simulated period: first day, length and last day (inclusive) */
interface Calendar {
  readonly startDate: string;
  readonly days: number;
  readonly endDate: string;
}

/** Any two of startDate, endDate and days fix the period; missing ones take the defaults. */
function resolveCalendar(o: { startDate?: string | undefined; endDate?: string | undefined; days?: number | undefined }): Calendar | { field: string; problem: string } {
  if (o.startDate !== undefined && o.endDate !== undefined && o.days !== undefined) {
    return { field: 'days', problem: 'give at most two of startDate, endDate and days' };
  }
  let startDate = o.startDate ?? DEFAULT_START_DATE;
  let days = o.days ?? DEFAULT_DAYS;
  if (o.endDate !== undefined) {
    if (o.days !== undefined) startDate = addDaysIso(o.endDate, 1 - o.days);
    else days = daysBetween(startDate, o.endDate) + 1;
    if (!(days >= MIN_DAYS && days <= MAX_DAYS)) {
      return { field: 'endDate', problem: `must leave ${MIN_DAYS} to ${MAX_DAYS} days from ${startDate} (it leaves ${days}); append later days with appendDays` };
    }
  }
  return { startDate, days, endDate: addDaysIso(startDate, days - 1) };
}

/**
 * Planted changes start after the first day (a drift needs a before), but
 * may start after the last simulated day: appended days then carry them.
 */
function plantedDateIssues(o: PlantedDates, startDate: string): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  if (o.drift && !(o.drift.fromDate > startDate)) issues.push({ path: ['drift', 'fromDate'], message: `must come after the first simulated day, ${startDate}` });
  if (o.conceptDrift && !(o.conceptDrift.fromDate > startDate)) issues.push({ path: ['conceptDrift', 'fromDate'], message: `must come after the first simulated day, ${startDate}` });
  if (o.jump && !(o.jump.date > startDate)) issues.push({ path: ['jump', 'date'], message: `must come after the first simulated day, ${startDate}` });
  if (o.promotion) {
    const { fromDate, toDate } = o.promotion;
    if (!(fromDate >= startDate)) issues.push({ path: ['promotion', 'fromDate'], message: `must not come before the first simulated day, ${startDate}` });
    if (toDate !== undefined && !(toDate > fromDate)) issues.push({ path: ['promotion', 'toDate'], message: 'must come after fromDate' });
  }
  return issues;
}

interface PlantedDates {
  readonly drift?: { readonly fromDate: string } | undefined;
  readonly conceptDrift?: { readonly fromDate: string } | undefined;
  readonly promotion?: { readonly fromDate: string; readonly toDate?: string | undefined } | undefined;
  readonly jump?: { readonly date: string } | undefined;
}

export const marketResponseOptionsSchema = z
  .object({
    assignmentTable: z.object({ name: identifier, schema: identifier.optional() }).describe('Table with user_id and arm (control | treatment)'),
    experimentId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'use letters, digits, dot, dash and underscore (at most 100)')
      .describe('Keys the rows this experiment writes; a rerun replaces them'),
    startDate: isoDate,
    days: z.number().int().min(1).max(365),
    schema: identifier.default('raw'),
    seed,
    upliftAbsolute: z.number().min(-0.5).max(0.5).optional().describe('Defaults to the dataset’s planted uplift'),
    regionNoise: z
      .object({
        table: z.object({ name: identifier, schema: identifier.optional() }).describe('Table with user_id and region'),
        sd: z.number().min(0).max(2).describe('Standard deviation of the log factor each region multiplies its conversion probability by'),
      })
      .strict()
      .optional()
      .describe('Region-level noise for geo tests: every region of the window converts higher or lower than its users alone say'),
  })
  .strict();

export const appendDaysOptionsSchema = z
  .object({
    schema: identifier.default('raw'),
    through: isoDate.describe('Last day to simulate'),
    from: isoDate
      .optional()
      .describe('First day to simulate; default: the day after the newest simulated day. Earlier days are simulated again and stored once'),
  })
  .strict();

export type AppendDaysOptions = z.input<typeof appendDaysOptionsSchema>;

export type MarketResponseOptions = z.input<typeof marketResponseOptionsSchema>;
export type ResolvedMarketResponseOptions = z.output<typeof marketResponseOptionsSchema>;

/** Parses options at the edge; bad input fails non-retryably with every field named. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(options)'}: ${i.message}`);
  throw new NonRetryableError('InvalidSimulatorOptions', `${what}: ${problems.join('; ')}`, problems);
}
