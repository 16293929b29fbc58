import { generateDataset } from '../../simulator';
import { aimoTableKey, type AimoTable } from '../../store/aimo-tables';
import { DuckDbWarehouse } from '../../warehouse/duckdb';
import { testPlan } from './rollout-fixtures';

/*
 * What the reliability tests compare between an interrupted run and an
 * uninterrupted one: every aimo table's rows, and for aimo's keyed
 * bookkeeping how many keys repeat.
 */

/** The seeded market the scenarios copy for each of their runs. */
export async function seedWarehouseFile(file: string, users: number): Promise<void> {
  const warehouse = await DuckDbWarehouse.open(file);
  try {
    await generateDataset(warehouse, { seed: 7, users });
  } finally {
    await warehouse.close();
  }
}

/** A rollout of a few seconds (its experiment's outcomes simulated), so a scenario can run it twice. */
export function shortRolloutPlan(useCase: string) {
  return testPlan({ useCase, experiment: { duration: '2 seconds', checkEvery: '1 second', startDate: '2026-04-01', measureDays: 14, outcomeSource: 'simulator' } });
}

const KEYED = new Set<string>(['audit_log', 'model_registry', 'model_aliases', 'experiments', 'kpi_specs', 'dq_results', 'inventory_reports']);

export type TableFigures = Record<string, { rows: number; repeatedKeys?: number }>;

/** Per aimo table of a DuckDB file: its rows, and for aimo's keyed bookkeeping how many keys repeat. */
export async function tableFigures(file: string): Promise<TableFigures> {
  const wh = await DuckDbWarehouse.open(file);
  try {
    const figures: TableFigures = {};
    for (const { table_name: table } of await wh.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'aimo' AND table_type = 'BASE TABLE' ORDER BY 1`)) {
      const [row] = await wh.query<{ n: bigint }>(`SELECT COUNT(*) AS n FROM aimo."${table}"`);
      const key = KEYED.has(table) ? aimoTableKey(table as AimoTable).join(', ') : undefined;
      const repeated = key ? await wh.query<{ n: bigint }>(`SELECT COUNT(*) AS n FROM (SELECT ${key} FROM aimo."${table}" GROUP BY ${key} HAVING COUNT(*) > 1)`) : undefined;
      figures[table] = { rows: Number(row!.n), ...(repeated ? { repeatedKeys: Number(repeated[0]!.n) } : {}) };
    }
    return figures;
  } finally {
    await wh.close();
  }
}

/** Rows the clean run has that the other lacks, and keys the other holds twice. */
export function lossesAndDuplicates(clean: TableFigures, other: TableFigures): { lost: number; duplicates: number } {
  const lost = Object.entries(clean).reduce((n, [t, f]) => n + Math.max(0, f.rows - (other[t]?.rows ?? 0)), 0);
  const duplicates = Object.values(other).reduce((n, f) => n + (f.repeatedKeys ?? 0), 0);
  return { lost, duplicates };
}

/** Numbers to 12 significant digits: DuckDB's parallel sums may add in another order. */
export function rounded(value: unknown): unknown {
  if (typeof value === 'number') return Number(value.toPrecision(12));
  if (Array.isArray(value)) return value.map(rounded);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]));
  return value;
}
