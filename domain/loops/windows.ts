import { z } from 'zod';
import { addDaysIso } from '../dates';
import type { SourceName } from '../propensity/sources';

/**
 * Where a loop's window ends. The windows come from the data, not the wall
 * clock: a warehouse whose newest rows are months old must neither train on an
 * empty label window nor report the gap as drift.
 */

/**
 * The sources whose newest rows say how far the data reaches, with their
 * timestamp (or date) column. The loops' data path reads orders, sessions and
 * events, so they bound a window; spend is reported for people, but no loop
 * window reads it, so a spend table loaded later does not hold a window back.
 */
export const FRESHNESS_COLUMNS = {
  orders: { column: 'order_ts', boundsWindows: true },
  sessions: { column: 'started_at', boundsWindows: true },
  events: { column: 'event_ts', boundsWindows: true },
  spend: { column: 'spend_date', boundsWindows: false },
} as const satisfies Partial<Record<SourceName, { column: string; boundsWindows: boolean }>>;
export type FreshnessSource = keyof typeof FRESHNESS_COLUMNS;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

const sourceFreshnessSchema = z.object({
  source: z.enum(Object.keys(FRESHNESS_COLUMNS) as [FreshnessSource, ...FreshnessSource[]]),
  /** schema.name, as people name the table */
  table: z.string(),
  /** The day of the newest row */
  newestRowDay: isoDate,
  /** The newest day whose rows have all landed: the day before the newest row's */
  newestCompleteDay: isoDate,
});
export type SourceFreshness = z.infer<typeof sourceFreshnessSchema>;

export const dataFreshnessSchema = z.object({
  sources: z.array(sourceFreshnessSchema),
  /** The newest day every source a window reads holds completely */
  newestCompleteDay: isoDate,
});
export type DataFreshness = z.infer<typeof dataFreshnessSchema>;

/** What a loop run reads: features in [from, asOf), labels (retrain) in [asOf, to). */
export const loopWindowSchema = z.object({
  from: isoDate,
  asOf: isoDate,
  /** Exclusive end: asOf for the drift check, asOf + labelDays for a retrain */
  to: isoDate,
  /** The last day the window reads, the day before `to` */
  lastDay: isoDate,
  /** Whether asOf was given, or taken from the newest complete day of the data */
  endFrom: z.enum(['input', 'data']),
  freshness: dataFreshnessSchema,
});
export type LoopWindow = z.infer<typeof loopWindowSchema>;

export type LoopKind = 'retrain' | 'drift';

export interface WindowRequest {
  readonly loop: LoopKind;
  readonly featureDays: number;
  readonly labelDays: number;
  /** An explicit asOf; without it the window ends on the newest complete day */
  readonly asOf?: string;
}

/**
 * A day is complete once a row of a later day has landed, so the newest row's
 * own day may still be loading: the newest complete day is the one before it.
 */
export function sourceFreshness(source: FreshnessSource, table: string, newestRowDay: string): SourceFreshness {
  return { source, table, newestRowDay, newestCompleteDay: addDaysIso(newestRowDay, -1) };
}

export function dataFreshness(sources: readonly SourceFreshness[]): DataFreshness {
  const days = windowSources(sources).map((s) => s.newestCompleteDay).sort();
  if (days.length === 0) throw new Error('data freshness needs a source that bounds the windows');
  return { sources: [...sources], newestCompleteDay: days[0]! };
}

function windowSources(sources: readonly SourceFreshness[]): SourceFreshness[] {
  return sources.filter((s) => FRESHNESS_COLUMNS[s.source].boundsWindows);
}

/** The loop's window, or why the data cannot fill it (a message naming each stale table and by how many days). */
export function loopWindow(request: WindowRequest, freshness: DataFreshness): { ok: true; window: LoopWindow } | { ok: false; problem: string } {
  // asOf is exclusive: the window's last day is the newest complete day, labels included for a retrain.
  const labels = request.loop === 'retrain' ? request.labelDays : 0;
  const asOf = request.asOf ?? addDaysIso(freshness.newestCompleteDay, 1 - labels);
  const to = addDaysIso(asOf, labels);
  const window: LoopWindow = {
    from: addDaysIso(asOf, -request.featureDays),
    asOf,
    to,
    lastDay: addDaysIso(to, -1),
    endFrom: request.asOf === undefined ? 'data' : 'input',
    freshness,
  };
  const problem = windowPastData(request.loop, window);
  return problem ? { ok: false, problem } : { ok: true, window };
}

/** A window that reads days some source has not (fully) delivered; one from the data never does. */
function windowPastData(loop: LoopKind, window: LoopWindow): string | undefined {
  const stale = windowSources(window.freshness.sources).filter((s) => s.newestCompleteDay < window.lastDay);
  if (stale.length === 0) return undefined;
  const what = loop === 'retrain' ? `The retrain's label window ${window.asOf} – ${window.lastDay}` : `The drift window ${window.from} – ${window.lastDay}`;
  const gaps = stale.map((s) => `${possessive(s.table)} newest complete day, ${s.newestCompleteDay}, is ${days(daysBetween(window.lastDay, s.newestCompleteDay))} before the window's last day, ${window.lastDay}`);
  return `${what} reaches past the data: ${gaps.join('; ')}. Load fresh data or pass an earlier asOf`;
}

function daysBetween(later: string, earlier: string): number {
  return Math.round((Date.parse(`${later}T00:00:00Z`) - Date.parse(`${earlier}T00:00:00Z`)) / 86_400_000);
}

function days(n: number): string {
  return n === 1 ? '1 day' : `${n} days`;
}

function possessive(table: string): string {
  return table.endsWith('s') ? `${table}'` : `${table}'s`;
}

/** Counts as people read them, whatever the worker's locale: 27 517. */
