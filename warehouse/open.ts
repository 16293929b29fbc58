import type { AimoConfig } from '../config';
import { BigQueryWarehouse, bigQueryOptionsFromEnv } from './bigquery';
import { DuckDbWarehouse } from './duckdb';
import { SnowflakeWarehouse, snowflakeOptionsFromEnv } from './snowflake';
import type { Warehouse } from './warehouse';

/** The warehouse the configuration names, connected. */
export async function openWarehouse(config: AimoConfig): Promise<Warehouse> {
  switch (config.warehouse) {
    case 'duckdb':
      return DuckDbWarehouse.open(config.duckdbPath);
    case 'bigquery':
      return new BigQueryWarehouse(bigQueryOptionsFromEnv(config.env));
    case 'snowflake':
      return SnowflakeWarehouse.open(snowflakeOptionsFromEnv(config.env));
  }
}
