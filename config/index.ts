import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { config as loadDotenv } from 'dotenv';
import { parseEnv, type Env } from './env';

export { ConfigError, parseEnv, type Env } from './env';

export interface AimoConfig {
  readonly env: Env;
  readonly temporal: {
    readonly address: string;
    readonly namespace: string;
    readonly apiKey?: string;
    readonly tls: boolean | { certPath: string; keyPath: string };
    readonly devServer: 'auto' | 'always' | 'never';
    readonly uiPort: number;
  };
  readonly taskQueues: { readonly main: string; readonly llm: string };
  readonly dataDir: string;
  readonly warehouse: Env['AIMO_WAREHOUSE'];
  readonly duckdbPath: string;
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
  const tls =
    env.TEMPORAL_TLS_CERT_PATH && env.TEMPORAL_TLS_KEY_PATH
      ? { certPath: env.TEMPORAL_TLS_CERT_PATH, keyPath: env.TEMPORAL_TLS_KEY_PATH }
      : env.TEMPORAL_TLS || Boolean(env.TEMPORAL_API_KEY);
  return {
    env,
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
      tls,
      devServer: env.AIMO_DEV_SERVER,
      uiPort: env.AIMO_UI_PORT,
    },
    taskQueues: { main: env.AIMO_TASK_QUEUE, llm: env.AIMO_LLM_TASK_QUEUE },
    dataDir,
    warehouse: env.AIMO_WAREHOUSE,
    duckdbPath: env.AIMO_DUCKDB_PATH ? resolve(cwd, env.AIMO_DUCKDB_PATH) : join(dataDir, 'warehouse.duckdb'),
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
