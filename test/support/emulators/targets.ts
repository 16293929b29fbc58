import { DuckDbWarehouse } from '../../../warehouse/duckdb';
import type { Warehouse } from '../../../warehouse/warehouse';
import { openEmulatedBigQuery, startBigQueryEmulator } from './bigquery';
import { openEmulatedSnowflake, startSnowflakeEmulator } from './snowflake';

/** A warehouse a test opened, and how to close it with whatever it started. */
export interface OpenedWarehouse {
  readonly warehouse: Warehouse;
  close(): Promise<void>;
}

export async function openDuckDb(): Promise<OpenedWarehouse> {
  const warehouse = await DuckDbWarehouse.open(':memory:');
  return { warehouse, close: () => warehouse.close() };
}

/** A fresh bqemulator, and the real BigQuery client pointed at it. */
export async function openBigQueryEmulator(): Promise<OpenedWarehouse> {
  const emulator = await startBigQueryEmulator();
  try {
    const warehouse = await openEmulatedBigQuery(emulator.endpoint);
    return { warehouse, close: async () => (await warehouse.close(), await emulator.stop()) };
  } catch (err) {
    await emulator.stop();
    throw err;
  }
}

/** A fresh fakesnow server behind its JSON bridge, and the real snowflake-sdk pointed at it. */
export async function openSnowflakeEmulator(): Promise<OpenedWarehouse> {
  const emulator = await startSnowflakeEmulator();
  try {
    const warehouse = await openEmulatedSnowflake(emulator.accessUrl);
    return { warehouse, close: async () => (await warehouse.close(), await emulator.stop()) };
  } catch (err) {
    await emulator.stop();
    throw err;
  }
}
