import { z } from 'zod';
import { parsePayloadKeys } from '../platform/payload-codec';

/**
 * Every setting aimo reads comes from the environment (optionally a .env
 * file) and is validated here once, at start-up. A bad value stops the
 * process with one message that lists every problem and what is expected.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number({ message: 'expected a port number' }).int().min(1).max(65535);

const envSchema = z
  .object({
    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected host:port, e.g. localhost:7233')
      .default('localhost:7233'),
    TEMPORAL_NAMESPACE: z.string().regex(/^[A-Za-z0-9._-]{1,255}$/, 'expected a namespace name').default('default'),
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    TEMPORAL_TLS: bool.default(false),
    TEMPORAL_TLS_CERT_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_KEY_PATH: z.string().min(1).optional(),
    AIMO_TASK_QUEUE: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected a task queue name').default('aimo'),
    AIMO_LLM_TASK_QUEUE: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected a task queue name').default('aimo-llm'),
    AIMO_LLM_BASE_URL: z.url({ message: 'expected the http(s) base URL of an OpenAI-compatible API, e.g. https://api.openai.com/v1' }).optional(),
    AIMO_LLM_API_KEY: z.string().min(1).optional(),
    AIMO_LLM_REQUESTS_PER_SECOND: z.coerce.number({ message: 'expected a number of requests per second' }).positive().max(1000).default(2),
    AIMO_DEV_SERVER: z
      .enum(['auto', 'always', 'never'], { message: 'expected auto, always or never' })
      .default('auto'),
    AIMO_UI_PORT: port.default(8233),
    AIMO_TEMPORAL_CLI: z.string().min(1).optional(),
    AIMO_TEMPORAL_TEST_SERVER: z.string().min(1).optional(),
    AIMO_TEMPORAL_DOWNLOAD: z.enum(['auto', 'never'], { message: 'expected auto or never' }).default('auto'),
    AIMO_PYTHON: z.string().min(1).optional(),
    AIMO_WEBHOOK_PORT: port.default(8787),
    /** The URL people reach aimo's HTTP server at (reports, webhooks), when it is not http://<AIMO_WEBHOOK_HOST>:<AIMO_WEBHOOK_PORT> */
    AIMO_PUBLIC_URL: z
      .url({ message: 'expected the http(s) URL people reach aimo\'s HTTP server at, e.g. https://aimo.example.com' })
      .refine((u) => /^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(u), 'expected an http(s) URL without query or fragment, e.g. https://aimo.example.com')
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    AIMO_METRICS_PORT: port.default(9464),
    /** Secret: "keyId:key,..." (the first encrypts, all decrypt); parsed in crossFieldProblems so no key reaches a message */
    AIMO_PAYLOAD_KEYS: z.string().optional(),
    AIMO_CODEC_HOST: z.string().regex(/^[A-Za-z0-9.:-]+$/, 'expected a host or IP, e.g. 127.0.0.1').default('127.0.0.1'),
    AIMO_CODEC_PORT: port.default(8234),
    /** Secret: bearer token the codec server asks for */
    AIMO_CODEC_TOKEN: z.string().min(32, 'expected at least 32 characters, e.g. openssl rand -hex 32').optional(),
    AIMO_CODEC_CORS_ORIGINS: z
      .string()
      .regex(/^\s*https?:\/\/[A-Za-z0-9.:[\]-]+(\s*,\s*https?:\/\/[A-Za-z0-9.:[\]-]+)*\s*$/, 'expected comma-separated origins without paths, e.g. http://localhost:8233,https://temporal-ui.example.com')
      .optional(),
    AIMO_DATA_DIR: z.string().min(1).default('data'),
    AIMO_WAREHOUSE: z
      .enum(['duckdb', 'bigquery', 'snowflake'], { message: 'expected duckdb, bigquery or snowflake' })
      .default('duckdb'),
    AIMO_DUCKDB_PATH: z.string().min(1).optional(),
    /** DuckDB's memory limit; beyond it large aggregates and sorts spill to AIMO_DUCKDB_SPILL_DIR (DuckDB's default: 80 % of RAM) */
    AIMO_DUCKDB_MEMORY_LIMIT: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as 8GB or 512MiB')
      .optional(),
    /** Where DuckDB spills beyond its memory limit; a relative path is taken from the working directory */
    AIMO_DUCKDB_SPILL_DIR: z.string().min(1).optional(),
    AIMO_HASH_SALT: z.string().min(16, 'expected at least 16 characters of secret salt').optional(),
    AIMO_SIMULATOR_USERS: z.coerce.number({ message: 'expected a number of users' }).int().min(1000).default(100_000),
    BIGQUERY_PROJECT: z.string().optional(),
    BIGQUERY_DATASET: z.string().optional(),
    BIGQUERY_LOCATION: z.string().default('EU'),
    GOOGLE_APPLICATION_CREDENTIALS: z.string().optional(),
    SNOWFLAKE_ACCOUNT: z.string().optional(),
    SNOWFLAKE_USER: z.string().optional(),
    SNOWFLAKE_PASSWORD: z.string().optional(),
    SNOWFLAKE_PRIVATE_KEY_PATH: z.string().optional(),
    /** Secret: unlocks an encrypted key-pair file; never logged */
    SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: z.string().optional(),
    SNOWFLAKE_WAREHOUSE: z.string().optional(),
    SNOWFLAKE_DATABASE: z.string().optional(),
    SNOWFLAKE_SCHEMA: z.string().optional(),
    SNOWFLAKE_ROLE: z.string().optional(),
    LOG_LEVEL: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
        message: 'expected trace, debug, info, warn, error, fatal or silent',
      })
      .default('info'),
    LOG_FORMAT: z.enum(['auto', 'pretty', 'json'], { message: 'expected auto, pretty or json' }).default('auto'),
  });

/** Rules between variables; checked on the raw values so they are reported even when other variables are bad. */
function crossFieldProblems(raw: Record<string, string>): string[] {
  const problems: string[] = [];
  const need = (keys: string[], why: string) => {
    for (const key of keys) if (!raw[key]) problems.push(`${key}: required ${why}`);
  };
  if (Boolean(raw['TEMPORAL_TLS_CERT_PATH']) !== Boolean(raw['TEMPORAL_TLS_KEY_PATH'])) {
    const missing = raw['TEMPORAL_TLS_CERT_PATH'] ? 'TEMPORAL_TLS_KEY_PATH' : 'TEMPORAL_TLS_CERT_PATH';
    problems.push(`${missing}: mTLS needs both TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH`);
  }
  if (raw['AIMO_LLM_BASE_URL'] && !raw['AIMO_LLM_API_KEY']) {
    problems.push('AIMO_LLM_API_KEY: required when AIMO_LLM_BASE_URL is set (unset both to use the local stand-in)');
  }
  if (raw['AIMO_PAYLOAD_KEYS'] !== undefined) problems.push(...parsePayloadKeys(raw['AIMO_PAYLOAD_KEYS']).problems);
  const codecHost = raw['AIMO_CODEC_HOST'] ?? '127.0.0.1';
  if (raw['AIMO_PAYLOAD_KEYS'] && !isLoopback(codecHost) && !raw['AIMO_CODEC_TOKEN']) {
    problems.push(`AIMO_CODEC_TOKEN: required when AIMO_CODEC_HOST (${codecHost}) is not a loopback address: the codec server decrypts for anyone who reaches it (e.g. AIMO_CODEC_TOKEN=$(openssl rand -hex 32))`);
  }
  if (raw['AIMO_WAREHOUSE'] === 'bigquery') {
    need(['BIGQUERY_PROJECT', 'BIGQUERY_DATASET', 'AIMO_HASH_SALT'], 'when AIMO_WAREHOUSE=bigquery');
  }
  if (raw['AIMO_WAREHOUSE'] === 'snowflake') {
    need(
      ['SNOWFLAKE_ACCOUNT', 'SNOWFLAKE_USER', 'SNOWFLAKE_WAREHOUSE', 'SNOWFLAKE_DATABASE', 'SNOWFLAKE_SCHEMA', 'AIMO_HASH_SALT'],
      'when AIMO_WAREHOUSE=snowflake',
    );
    if (!raw['SNOWFLAKE_PASSWORD'] && !raw['SNOWFLAKE_PRIVATE_KEY_PATH']) {
      problems.push('SNOWFLAKE_PRIVATE_KEY_PATH: Snowflake needs SNOWFLAKE_PRIVATE_KEY_PATH (key-pair auth) or SNOWFLAKE_PASSWORD');
    }
  }
  return problems;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`aimo cannot start: the environment has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\nSet them in the environment or in .env (see .env.example).`);
    this.name = 'ConfigError';
  }
}

/** Known variables only; unrelated environment variables are ignored. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const known: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = source[key];
    if (value !== undefined && value !== '') known[key] = value;
  }
  const result = envSchema.safeParse(known);
  const problems = (result.error?.issues ?? []).map((issue) => {
    const key = issue.path.join('.') || '(environment)';
    const got = known[key] !== undefined && !/SECRET|PASSWORD|KEY|SALT|TOKEN/.test(key) ? ` (got ${JSON.stringify(known[key])})` : '';
    return `${key}: ${issue.message}${got}`;
  });
  problems.push(...crossFieldProblems(known));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}
