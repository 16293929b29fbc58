import type { ProgressListener, SimulatedDatasetSummary } from '../domain/simulated-market';
import type { Warehouse } from '../warehouse/warehouse';
import { assertDuckDb, createContext, withWorkDatabase, type SimContext } from './context';
import { simulateDays } from './days';
import { datasetOptionsSchema, parseOptions, type DatasetOptions, type DriftFeature } from './options';
import { buildWorkUsers, writeConsent, writeIdentities, writeUsers } from './stages/people';
import { writeUserRegions } from './stages/regions';
import {
  writeTruthConceptDrift,
  writeTruthDrift,
  writeTruthEffect,
  writeTruthFaults,
  writeTruthPropensity,
  writeTruthUsers,
} from './stages/truth';
import { SIMULATED_TABLES, SOURCE_TABLES, type SimulatedTableName, type SourceTableName } from './tables';

/** The summary the simulated market reports, with the simulator's own table and feature names. */
export interface DatasetSummary extends SimulatedDatasetSummary {
  readonly rowCounts: Readonly<Record<SimulatedTableName, number>>;
  readonly driftedFeatures: readonly DriftFeature[];
}

/** Source tables written day by day; a generation creates them empty, then stores its days into them */
const DAILY_SOURCE_TABLES: readonly SourceTableName[] = ['sessions', 'events', 'orders', 'ad_spend'];

/**
 * Generates the simulated marketing dataset into `options.schema` (default
 * raw): source tables, and the ground truth behind them. Every table is
 * created or replaced, so the same options always leave the same tables.
 * The days are stored a piece at a time (see simulateDays), each reported
 * to `onProgress`; truth_dataset, written last, makes the schema a dataset
 * that appendDays can grow.
 */
export async function generateDataset(wh: Warehouse, options: DatasetOptions, listeners: { onProgress?: ProgressListener } = {}): Promise<DatasetSummary> {
  assertDuckDb(wh);
  const resolved = parseOptions(datasetOptionsSchema, options, 'generateDataset options');
  const ctx = createContext(wh, resolved);
  await wh.execute(wh.dialect.createSchemaIfNotExists(resolved.schema));
  await withWorkDatabase(ctx, async () => {
    // Until the last step writes it again, a half-generated schema is no dataset: nothing appends to it.
    await wh.execute(`DROP TABLE IF EXISTS ${ctx.table('truth_dataset')}`);
    await writePopulation(ctx);
    listeners.onProgress?.({ stage: 'population', daysDone: 0, days: resolved.days, rows: 0 });
    await simulateDays(ctx, { fromDay: 0, toDay: resolved.days, mode: 'fresh', newestDay: -1 }, listeners.onProgress);
  });
  return {
    schema: resolved.schema,
    seed: resolved.seed,
    users: resolved.users,
    startDate: resolved.startDate,
    endDate: resolved.endDate,
    days: resolved.days,
    markets: resolved.markets,
    rowCounts: await countRows(ctx),
    driftedFeatures: resolved.drift?.features ?? [],
  };
}

/** The population, its ground truth, and empty day-by-day tables */
async function writePopulation(ctx: SimContext): Promise<void> {
  await buildWorkUsers(ctx);
  await writeUsers(ctx);
  await writeIdentities(ctx);
  await writeConsent(ctx);
  await writeUserRegions(ctx);
  for (const table of DAILY_SOURCE_TABLES) await createEmptySourceTable(ctx, table);
  await writeTruthUsers(ctx);
  await writeTruthPropensity(ctx);
  await writeTruthEffect(ctx);
  await writeTruthDrift(ctx);
  await writeTruthFaults(ctx);
  await writeTruthConceptDrift(ctx);
}

async function createEmptySourceTable(ctx: SimContext, table: SourceTableName): Promise<void> {
  const columns = Object.entries(SOURCE_TABLES[table].columns).map(([column, type]) => `${ctx.wh.dialect.quote(column)} ${type}`);
  await ctx.wh.execute(`CREATE OR REPLACE TABLE ${ctx.table(table)} (${columns.join(', ')})`);
}

async function countRows(ctx: SimContext): Promise<Record<SimulatedTableName, number>> {
  const sql = SIMULATED_TABLES.map((t, i) => `SELECT ${i} AS i, COUNT(*) AS n FROM ${ctx.table(t)}`).join(' UNION ALL ');
  const rows = await ctx.wh.query<{ i: number; n: number }>(sql);
  const counts = {} as Record<SimulatedTableName, number>;
  for (const row of rows) counts[SIMULATED_TABLES[row.i]!] = Number(row.n);
  return counts;
}
