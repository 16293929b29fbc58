import { addDaysIso } from '../domain/dates';
import type { Warehouse } from '../warehouse/warehouse';
import { assertDuckDb, createContext, workDatabaseName, type SimContext } from './context';
import { datasetOptionsSchema, parseOptions, type DatasetOptions, type DriftFeature } from './options';
import { writeEvents, writeOrders, writeSessions } from './stages/activity';
import { buildWorkOrders, buildWorkSessions } from './stages/behaviour';
import { writeAdSpend, writeCampaigns } from './stages/marketing';
import { buildWorkUsers, writeConsent, writeIdentities, writeUsers } from './stages/people';
import { writeTruthDataset, writeTruthDrift, writeTruthEffect, writeTruthFaults, writeTruthPropensity, writeTruthUsers } from './stages/truth';
import { SIMULATED_TABLES, type SimulatedTableName } from './tables';

export interface DatasetSummary {
  readonly schema: string;
  readonly seed: number;
  readonly users: number;
  readonly startDate: string;
  /** First day after the period (exclusive) */
  readonly endDate: string;
  readonly days: number;
  readonly markets: readonly string[];
  readonly rowCounts: Readonly<Record<SimulatedTableName, number>>;
  readonly driftedFeatures: readonly DriftFeature[];
}

/**
 * Generates the simulated marketing dataset into `options.schema` (default
 * raw): source tables, and the ground truth behind them. Every table is
 * created or replaced, so the same options always leave the same tables.
 */
export async function generateDataset(wh: Warehouse, options: DatasetOptions): Promise<DatasetSummary> {
  assertDuckDb(wh);
  const resolved = parseOptions(datasetOptionsSchema, options, 'generateDataset options');
  const ctx = createContext(wh, resolved);
  await wh.execute(wh.dialect.createSchemaIfNotExists(resolved.schema));
  await wh.execute(`ATTACH IF NOT EXISTS ':memory:' AS ${wh.dialect.quote(workDatabaseName(resolved.schema))}`);
  try {
    await buildWorkUsers(ctx);
    await buildWorkOrders(ctx);
    await buildWorkSessions(ctx);
    await writeUsers(ctx);
    await writeIdentities(ctx);
    await writeConsent(ctx);
    await writeSessions(ctx);
    await writeEvents(ctx);
    await writeOrders(ctx);
    await writeCampaigns(ctx);
    await writeAdSpend(ctx);
    await writeTruthUsers(ctx);
    await writeTruthPropensity(ctx);
    await writeTruthEffect(ctx);
    await writeTruthDrift(ctx);
    await writeTruthFaults(ctx);
    await writeTruthDataset(ctx);
  } finally {
    await wh.execute(`DETACH DATABASE IF EXISTS ${wh.dialect.quote(workDatabaseName(resolved.schema))}`);
  }
  return {
    schema: resolved.schema,
    seed: resolved.seed,
    users: resolved.users,
    startDate: resolved.startDate,
    endDate: addDaysIso(resolved.startDate, resolved.days),
    days: resolved.days,
    markets: resolved.markets,
    rowCounts: await countRows(ctx),
    driftedFeatures: resolved.drift?.features ?? [],
  };
}

async function countRows(ctx: SimContext): Promise<Record<SimulatedTableName, number>> {
  const sql = SIMULATED_TABLES.map((t, i) => `SELECT ${i} AS i, COUNT(*) AS n FROM ${ctx.table(t)}`).join(' UNION ALL ');
  const rows = await ctx.wh.query<{ i: number; n: number }>(sql);
  const counts = {} as Record<SimulatedTableName, number>;
  for (const row of rows) counts[SIMULATED_TABLES[row.i]!] = Number(row.n);
  return counts;
}
