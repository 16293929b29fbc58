import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { config as loadDotenv } from 'dotenv';
import type { DevServerOptions } from '../platform/dev-server';
import type { WarehouseSettings } from '../warehouse/open';
import { parseEnv, type Env } from './env';
import { devServerOptionsFromEnv, temporalSettingsFromEnv, type TemporalSettings } from './temporal';
import { warehouseSettingsFromEnv } from './warehouse';

export { ConfigError, parseEnv, type Env } from './env';

export interface AimoConfig {
  readonly env: Env;
  readonly temporal: TemporalSettings;
  /** Whether `npm start` runs a local Temporal dev server, and where */
  readonly devServer: DevServerOptions;
  readonly taskQueues: { readonly main: string; readonly llm: string };
  readonly dataDir: string;
  readonly warehouse: WarehouseSettings;
  /** Secret; never logged */
  readonly hashSalt: string;
  /** The OpenAI-compatible endpoint of the content use case; absent means the local stand-in */
  readonly llm?: { readonly baseURL: string; readonly apiKey: string };
  readonly llmRequestsPerSecond: number;
}

/**
 * Reads .env (if present) under the real environment, validates it, and
 * derives paths. On the embedded DuckDB default a missing salt is generated
 * once and kept in the data folder, so hashes stay stable across restarts;
 * production warehouses must be given one explicitly (the schema says so).
 */
export function loadConfig(source: Record<string, string | undefined> = process.env, cwd = process.cwd()): AimoConfig {
  if (source === process.env) loadDotenv({ path: join(cwd, '.env'), quiet: true });
  const env = parseEnv(source);
  const dataDir = resolve(cwd, env.AIMO_DATA_DIR);
  return {
    env,
    temporal: temporalSettingsFromEnv(env),
    devServer: devServerOptionsFromEnv(env, dataDir),
    taskQueues: { main: env.AIMO_TASK_QUEUE, llm: env.AIMO_LLM_TASK_QUEUE },
    dataDir,
    warehouse: warehouseSettingsFromEnv(env, { cwd, dataDir }),
    hashSalt: env.AIMO_HASH_SALT ?? localSalt(dataDir),
    ...(env.AIMO_LLM_API_KEY ? { llm: { baseURL: env.AIMO_LLM_BASE_URL ?? 'https://api.openai.com/v1', apiKey: env.AIMO_LLM_API_KEY } } : {}),
    llmRequestsPerSecond: env.AIMO_LLM_REQUESTS_PER_SECOND,
  };
}

function localSalt(dataDir: string): string {
  const file = join(dataDir, '.hash-salt');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const salt = randomBytes(24).toString('hex');
  writeFileSync(file, salt, { mode: 0o600 });
  return salt;
}
