import { z } from 'zod';
import { isIdentifier } from './table-ref';

const column = z
  .string()
  .refine(isIdentifier, { message: 'must be a column name: letters, digits and underscores, starting with a letter or underscore' });

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** An optional display name; by default it is derived from the kind and columns. */
const named = { name: z.string().min(1).max(200).optional() };

const notNullSchema = z.strictObject({ kind: z.literal('not_null'), column, ...named });

const uniqueSchema = z.strictObject({
  kind: z.literal('unique'),
  columns: z.array(column).min(1, 'list at least one column whose combined values must be unique'),
  ...named,
});

const inSetSchema = z.strictObject({
  kind: z.literal('in_set'),
  column,
  values: z.array(scalar).min(1, 'list at least one allowed value').max(1000, 'at most 1000 allowed values'),
  ...named,
});

const betweenSchema = z
  .strictObject({ kind: z.literal('between'), column, min: z.number().optional(), max: z.number().optional(), ...named })
  .refine((e) => e.min !== undefined || e.max !== undefined, { message: 'give min, max or both', path: ['min'] })
  .refine((e) => e.min === undefined || e.max === undefined || e.min <= e.max, { message: 'min must not exceed max', path: ['max'] });

const rowCountSchema = z
  .strictObject({
    kind: z.literal('row_count'),
    min: z.number().int().min(0).optional(),
    max: z.number().int().min(0).optional(),
    ...named,
  })
  .refine((e) => e.min !== undefined || e.max !== undefined, { message: 'give min, max or both', path: ['min'] })
  .refine((e) => e.min === undefined || e.max === undefined || e.min <= e.max, { message: 'min must not exceed max', path: ['max'] });

const freshnessSchema = z.strictObject({
  kind: z.literal('freshness'),
  column,
  maxAgeHours: z.number().positive('must be a positive number of hours'),
  /** The moment the age is measured from; defaults to the run's `now`, then the warehouse clock */
  now: z.union([z.date(), z.iso.datetime({ offset: true, error: 'must be an ISO date-time with a zone, e.g. 2024-05-01T00:00:00Z' })]).optional(),
  ...named,
});

/** One data-quality expectation, told apart by `kind`. */
export const expectationSchema = z.discriminatedUnion('kind', [
  notNullSchema,
  uniqueSchema,
  inSetSchema,
  betweenSchema,
  rowCountSchema,
  freshnessSchema,
]);

export const expectationsSchema = z.array(expectationSchema);

export type Expectation = z.infer<typeof expectationSchema>;
export type ExpectationKind = Expectation['kind'];

export interface ExpectationResult {
  readonly name: string;
  readonly kind: ExpectationKind;
  readonly success: boolean;
  /**
   * Column expectations: rows that break it. row_count: rows missing below
   * min or beyond max. freshness: 1 when stale, else 0.
   */
  readonly unexpectedCount: number;
  /**
   * not_null: share of all rows. unique, in_set, between: share of the rows
   * where the column is not NULL (NULLs are not_null's business).
   * row_count: the miss relative to the bound it misses. freshness: 0 or 100.
   */
  readonly unexpectedPercent: number;
  /** Rows in the table */
  readonly elementCount: number;
  /**
   * Up to sampleSize offending values, most frequent first: distinct values
   * (in_set, between), duplicated keys (unique; an object per key when the
   * key has several columns). Empty for not_null, row_count and freshness.
   */
  readonly sample: unknown[];
  readonly observed?: Record<string, number | string | null>;
}

export interface CalibrationBin {
  /** 1 = lowest scores */
  readonly bin: number;
  readonly meanPredicted: number;
  readonly observedRate: number;
  readonly count: number;
}
