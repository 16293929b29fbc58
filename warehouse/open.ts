import { BigQueryWarehouse, type BigQueryWarehouseOptions } from './bigquery';
import { DuckDbWarehouse } from './duckdb';
import { SnowflakeWarehouse, type SnowflakeWarehouseOptions } from './snowflake';
import type { Warehouse } from './warehouse';

/** Which warehouse aimo works in, with everything needed to connect to it. */
export type WarehouseSettings =
  | { readonly kind: 'duckdb'; /** The database file */ readonly path: string }
  | { readonly kind: 'bigquery'; readonly options: BigQueryWarehouseOptions }
  | { readonly kind: 'snowflake'; readonly options: SnowflakeWarehouseOptions };

/** The warehouse the settings name, connected. */
export async function openWarehouse(settings: WarehouseSettings): Promise<Warehouse> {
  switch (settings.kind) {
    case 'duckdb':
      return DuckDbWarehouse.open(settings.path);
    case 'bigquery':
      return new BigQueryWarehouse(settings.options);
    case 'snowflake':
      return SnowflakeWarehouse.open(settings.options);
  }
}
