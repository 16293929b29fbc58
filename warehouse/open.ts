import type { AimoConfig } from '../config';
import { DuckDbWarehouse } from './duckdb';
import type { Warehouse } from './warehouse';

/** The warehouse the configuration names, connected. */
export async function openWarehouse(config: AimoConfig): Promise<Warehouse> {
  switch (config.warehouse) {
    case 'duckdb':
      return DuckDbWarehouse.open(config.duckdbPath);
    default:
      throw new Error(`AIMO_WAREHOUSE=${config.warehouse} is not available in this build`);
  }
}
