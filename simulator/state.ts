import { addDaysIso } from '../domain/dates';
import { NonRetryableError } from '../domain/errors';
import type { Warehouse } from '../warehouse/warehouse';
import { daysBetween } from './calendar';
import { parseOptions, recordedOptionsSchema, recordedOptionsOf, type ResolvedDatasetOptions } from './options';

/**
 * What a schema holds, read from its truth_dataset row: the options and
 * calendar a living dataset was generated with (so appended days follow
 * them), a dataset from before the simulator recorded its options (it
 * cannot grow), or nothing. A generation writes that row last, so a
 * half-finished one reads as nothing.
 */
export type SimulatorState =
  | { readonly kind: 'none' }
  | { readonly kind: 'legacy'; readonly newestDay: string }
  /** `options.endDate` is the newest simulated day */
  | { readonly kind: 'living'; readonly options: ResolvedDatasetOptions };

export async function readSimulatorState(wh: Warehouse, schema: string): Promise<SimulatorState> {
  const table = { schema, name: 'truth_dataset' };
  if (!(await wh.tableExists(table))) return { kind: 'none' };
  const hasOptions = (await wh.columns(table)).some((c) => c.name === 'options');
  const [row] = await wh.query<{ start_date: Date; end_date: Date; options: string | null }>(
    `SELECT start_date, end_date, ${hasOptions ? 'options' : 'CAST(NULL AS VARCHAR) AS options'} FROM ${wh.dialect.table(table)}`,
  );
  if (!row) return { kind: 'none' };
  const startDate = isoDay(row.start_date);
  // Before the living market, end_date was the first day after the period.
  if (row.options === null) return { kind: 'legacy', newestDay: addDaysIso(isoDay(row.end_date), -1) };
  const endDate = isoDay(row.end_date);
  const market = parseOptions(recordedOptionsSchema, { ...parseJson(row.options, schema), schema }, `${schema}.truth_dataset options`);
  return { kind: 'living', options: { ...market, startDate, endDate, days: daysBetween(startDate, endDate) + 1 } };
}

/** The options of a living dataset, or a refusal that says what to do */
export function livingOptions(state: SimulatorState, schema: string): ResolvedDatasetOptions {
  if (state.kind === 'living') return state.options;
  if (state.kind === 'legacy') {
    throw new NonRetryableError(
      'LegacySimulatedDataset',
      `${schema} holds a simulated dataset from before the simulator recorded its options, so it cannot grow by a day: generate it again (for the embedded stack, delete the warehouse file and restart)`,
    );
  }
  throw new NonRetryableError('MissingSimulatedDataset', `no simulated dataset in schema ${schema}: run generateDataset first`);
}

/** The JSON truth_dataset records (see recordedOptionsOf) */
export function recordedOptionsJson(options: ResolvedDatasetOptions): string {
  return JSON.stringify(recordedOptionsOf(options));
}

function parseJson(text: string, schema: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new NonRetryableError('InvalidSimulatorOptions', `${schema}.truth_dataset options are not a JSON object: generate the dataset again`);
  }
  return value as Record<string, unknown>;
}

function isoDay(value: Date): string {
  return value.toISOString().slice(0, 10);
}
