import { join, resolve } from 'node:path';
import { NonRetryableError } from '../domain/errors';
import type { BigQueryWarehouseOptions } from '../warehouse/bigquery';
import { WarehouseErrorType } from '../warehouse/errors';
import type { WarehouseSettings } from '../warehouse/open';
import type { SnowflakeAuth, SnowflakeWarehouseOptions } from '../warehouse/snowflake';
import type { Env } from './env';

/**
 * The warehouse the environment names, as settings the adapters take. The
 * embedded DuckDB file defaults to the data folder, and DuckDB spills to
 * duckdb-spill/ there beyond its memory limit; relative paths are taken
 * from the working directory.
 */
export function warehouseSettingsFromEnv(env: Env, paths: { readonly cwd: string; readonly dataDir: string }): WarehouseSettings {
  switch (env.AIMO_WAREHOUSE) {
    case 'duckdb':
      return {
        kind: 'duckdb',
        path: env.AIMO_DUCKDB_PATH ? resolve(paths.cwd, env.AIMO_DUCKDB_PATH) : join(paths.dataDir, 'warehouse.duckdb'),
        spillDirectory: env.AIMO_DUCKDB_SPILL_DIR ? resolve(paths.cwd, env.AIMO_DUCKDB_SPILL_DIR) : join(paths.dataDir, 'duckdb-spill'),
        ...(env.AIMO_DUCKDB_MEMORY_LIMIT ? { memoryLimit: env.AIMO_DUCKDB_MEMORY_LIMIT } : {}),
      };
    case 'bigquery':
      return { kind: 'bigquery', options: bigQueryOptionsFromEnv(env) };
    case 'snowflake':
      return { kind: 'snowflake', options: snowflakeOptionsFromEnv(env) };
  }
}

/** Reads the BigQuery settings the environment schema validated (see env.ts). */
export function bigQueryOptionsFromEnv(
  env: Pick<Env, 'BIGQUERY_PROJECT' | 'BIGQUERY_DATASET' | 'BIGQUERY_LOCATION' | 'GOOGLE_APPLICATION_CREDENTIALS'>,
): BigQueryWarehouseOptions {
  if (!env.BIGQUERY_PROJECT || !env.BIGQUERY_DATASET) {
    throw new NonRetryableError(WarehouseErrorType.ConfigError, 'BIGQUERY_PROJECT and BIGQUERY_DATASET are required when AIMO_WAREHOUSE=bigquery');
  }
  return {
    projectId: env.BIGQUERY_PROJECT,
    dataset: env.BIGQUERY_DATASET,
    location: env.BIGQUERY_LOCATION,
    ...(env.GOOGLE_APPLICATION_CREDENTIALS ? { keyFilename: env.GOOGLE_APPLICATION_CREDENTIALS } : {}),
  };
}

/** Reads the Snowflake settings the environment schema validated (see env.ts); key-pair wins over a password. */
export function snowflakeOptionsFromEnv(
  env: Pick<
    Env,
    | 'SNOWFLAKE_ACCOUNT'
    | 'SNOWFLAKE_USER'
    | 'SNOWFLAKE_PASSWORD'
    | 'SNOWFLAKE_PRIVATE_KEY_PATH'
    | 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE'
    | 'SNOWFLAKE_WAREHOUSE'
    | 'SNOWFLAKE_DATABASE'
    | 'SNOWFLAKE_SCHEMA'
    | 'SNOWFLAKE_ROLE'
  >,
): SnowflakeWarehouseOptions {
  const missing = (['SNOWFLAKE_ACCOUNT', 'SNOWFLAKE_USER', 'SNOWFLAKE_WAREHOUSE', 'SNOWFLAKE_DATABASE', 'SNOWFLAKE_SCHEMA'] as const).filter((k) => !env[k]);
  if (missing.length > 0) {
    throw new NonRetryableError(WarehouseErrorType.ConfigError, `${missing.join(', ')}: required when AIMO_WAREHOUSE=snowflake`);
  }
  let auth: SnowflakeAuth;
  if (env.SNOWFLAKE_PRIVATE_KEY_PATH) {
    auth = {
      kind: 'keyPair',
      privateKeyPath: env.SNOWFLAKE_PRIVATE_KEY_PATH,
      ...(env.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE ? { passphrase: env.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE } : {}),
    };
  } else if (env.SNOWFLAKE_PASSWORD) {
    auth = { kind: 'password', password: env.SNOWFLAKE_PASSWORD };
  } else {
    throw new NonRetryableError(WarehouseErrorType.ConfigError, 'Snowflake needs SNOWFLAKE_PRIVATE_KEY_PATH (key-pair auth, preferred) or SNOWFLAKE_PASSWORD');
  }
  return {
    account: env.SNOWFLAKE_ACCOUNT!,
    username: env.SNOWFLAKE_USER!,
    auth,
    warehouse: env.SNOWFLAKE_WAREHOUSE!,
    database: env.SNOWFLAKE_DATABASE!,
    schema: env.SNOWFLAKE_SCHEMA!,
    ...(env.SNOWFLAKE_ROLE ? { role: env.SNOWFLAKE_ROLE } : {}),
  };
}
