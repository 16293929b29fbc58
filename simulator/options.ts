import { z } from 'zod';
import { NonRetryableError } from '../domain/errors';
import { addDaysIso } from '../domain/dates';
import { SEGMENTS } from './model';
import { NULLABLE_COLUMNS } from './tables';

type SegmentName = (typeof SEGMENTS)[number]['value'];

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
    fromDate: isoDate.describe('First day with shifted distributions'),
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
    toDate: isoDate.optional().describe('First day without it; default: it lasts to the end of the period'),
    segment: z.enum(SEGMENTS.map((s) => s.value) as [SegmentName, ...SegmentName[]]).describe('The customer segment it targets'),
    hazardFactor: z.number().gt(1).max(20).describe("Multiplies the segment's daily purchase hazard while it runs"),
  })
  .strict()
  .describe(
    'A change in who buys, not in what users do: lasting, it is concept drift a retrained model should learn; short, it is an anomaly a model trained on it over-learns',
  );

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

export const datasetOptionsSchema = z
  .object({
    seed,
    users: z.number().int().min(100).max(50_000_000).default(100_000),
    startDate: isoDate.default('2026-01-01'),
    days: z.number().int().min(14).max(730).default(90),
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
    faults: faultsSchema.optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.drift) {
      const end = addDaysIso(o.startDate, o.days);
      if (!(o.drift.fromDate > o.startDate && o.drift.fromDate < end)) {
        ctx.addIssue({ code: 'custom', path: ['drift', 'fromDate'], message: `must fall inside the simulated period, after ${o.startDate} and before ${end}` });
      }
    }
    if (o.promotion) {
      const end = addDaysIso(o.startDate, o.days);
      const { fromDate, toDate } = o.promotion;
      if (!(fromDate >= o.startDate && fromDate < end)) {
        ctx.addIssue({ code: 'custom', path: ['promotion', 'fromDate'], message: `must fall inside the simulated period, from ${o.startDate} and before ${end}` });
      }
      if (toDate !== undefined && !(toDate > fromDate && toDate <= end)) {
        ctx.addIssue({ code: 'custom', path: ['promotion', 'toDate'], message: `must come after fromDate and no later than ${end}` });
      }
    }
  });

export type DatasetOptions = z.input<typeof datasetOptionsSchema>;
export type ResolvedDatasetOptions = z.output<typeof datasetOptionsSchema>;

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
  })
  .strict();

export type MarketResponseOptions = z.input<typeof marketResponseOptionsSchema>;
export type ResolvedMarketResponseOptions = z.output<typeof marketResponseOptionsSchema>;

/** Parses options at the edge; bad input fails non-retryably with every field named. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(options)'}: ${i.message}`);
  throw new NonRetryableError('InvalidSimulatorOptions', `${what}: ${problems.join('; ')}`, problems);
}
