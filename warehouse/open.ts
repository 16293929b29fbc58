import type { BigQueryWarehouseOptions } from './bigquery';
import { DuckDbWarehouse } from './duckdb';
import type { SnowflakeWarehouseOptions } from './snowflake';
import type { Warehouse } from './warehouse';

/** Which warehouse aimo works in, with everything needed to connect to it. */
export type WarehouseSettings =
  | {
      readonly kind: 'duckdb';
      /** The database file */
      readonly path: string;
      /** Where large aggregates and sorts spill beyond the memory limit */
      readonly spillDirectory?: string;
      /** e.g. "8GB"; DuckDB's own default (80 % of RAM) when unset */
      readonly memoryLimit?: string;
    }
  | { readonly kind: 'bigquery'; readonly options: BigQueryWarehouseOptions }
  | { readonly kind: 'snowflake'; readonly options: SnowflakeWarehouseOptions };

/** The warehouse the settings name, connected. The cloud SDKs load only when used: they take seconds to load, and warn about Node versions. */
export async function openWarehouse(settings: WarehouseSettings): Promise<Warehouse> {
  switch (settings.kind) {
    case 'duckdb':
      return DuckDbWarehouse.open(settings.path, {
        ...(settings.spillDirectory ? { tempDirectory: settings.spillDirectory } : {}),
        ...(settings.memoryLimit ? { memoryLimit: settings.memoryLimit } : {}),
      });
    case 'bigquery': {
      const { BigQueryWarehouse } = await import('./bigquery');
      return new BigQueryWarehouse(settings.options);
    }
    case 'snowflake': {
      const { SnowflakeWarehouse } = await import('./snowflake');
      return SnowflakeWarehouse.open(settings.options);
    }
  }
}
