import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseEnv } from '../config';
import { snowflakeOptionsFromEnv } from '../config/warehouse';
import { openWarehouse } from '../warehouse/open';

/** Every Snowflake setting but the credential. */
const SNOWFLAKE_WITHOUT_CREDENTIAL = {
  AIMO_WAREHOUSE: 'snowflake',
  SNOWFLAKE_ACCOUNT: 'a',
  SNOWFLAKE_USER: 'u',
  SNOWFLAKE_WAREHOUSE: 'w',
  SNOWFLAKE_DATABASE: 'd',
  SNOWFLAKE_SCHEMA: 's',
  AIMO_HASH_SALT: '0123456789abcdef',
};

describe('configuration from the environment', () => {
  it('has working defaults for the embedded stack', () => {
    const env = parseEnv({});
    expect(env.TEMPORAL_ADDRESS).toBe('localhost:7233');
    expect(env.AIMO_WAREHOUSE).toBe('duckdb');
    expect(env.AIMO_TASK_QUEUE).toBe('aimo');
  });

  it('lists every bad or missing variable in one error, naming each and what is expected', () => {
    let error: unknown;
    try {
      parseEnv({ TEMPORAL_ADDRESS: 'not an address', AIMO_WAREHOUSE: 'bigquery', LOG_LEVEL: 'loud', TEMPORAL_TLS: 'maybe' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/TEMPORAL_ADDRESS: expected host:port/);
    expect(message).toMatch(/LOG_LEVEL: expected trace, debug/);
    expect(message).toMatch(/TEMPORAL_TLS: expected true or false/);
    expect(message).toMatch(/BIGQUERY_PROJECT: required when AIMO_WAREHOUSE=bigquery/);
    expect(message).toMatch(/AIMO_HASH_SALT: required when AIMO_WAREHOUSE=bigquery/);
    expect((error as ConfigError).problems).toHaveLength(6);
  });

  it('never echoes a secret value back in an error', () => {
    expect(() => parseEnv({ AIMO_HASH_SALT: 'short-secret' })).toThrow(/AIMO_HASH_SALT: expected at least 16/);
    expect(() => parseEnv({ AIMO_HASH_SALT: 'short-secret' })).not.toThrow(/short-secret/);
  });

  it('needs both halves of an mTLS pair and a Snowflake credential', () => {
    expect(() => parseEnv({ TEMPORAL_TLS_CERT_PATH: '/c.pem' })).toThrow(/TEMPORAL_TLS_KEY_PATH/);
    expect(() => parseEnv(SNOWFLAKE_WITHOUT_CREDENTIAL)).toThrow(/SNOWFLAKE_PRIVATE_KEY_PATH: Snowflake needs/);
  });

  it('passes the passphrase of an encrypted Snowflake key file through to the key-pair auth', () => {
    const env = parseEnv({ ...SNOWFLAKE_WITHOUT_CREDENTIAL, SNOWFLAKE_PRIVATE_KEY_PATH: '/secrets/key.p8', SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'open-sesame' });
    expect(snowflakeOptionsFromEnv(env).auth).toEqual({ kind: 'keyPair', privateKeyPath: '/secrets/key.p8', passphrase: 'open-sesame' });
  });

  it('derives paths and keeps a generated local salt stable across loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aimo-config-'));
    const first = loadConfig({ AIMO_DATA_DIR: 'd' }, dir);
    const second = loadConfig({ AIMO_DATA_DIR: 'd' }, dir);
    expect(first.warehouse).toEqual({ kind: 'duckdb', path: join(dir, 'd', 'warehouse.duckdb'), spillDirectory: join(dir, 'd', 'duckdb-spill') });
    expect(first.hashSalt).toHaveLength(48);
    expect(second.hashSalt).toBe(first.hashSalt);
    expect(loadConfig({ AIMO_DATA_DIR: 'd', AIMO_HASH_SALT: 'x'.repeat(20) }, dir).hashSalt).toBe('x'.repeat(20));
  });

  it('gives DuckDB a memory limit and a spill folder, and names a size it cannot read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aimo-config-'));
    const config = loadConfig({ AIMO_DATA_DIR: 'd', AIMO_DUCKDB_MEMORY_LIMIT: '512MiB', AIMO_DUCKDB_SPILL_DIR: 'spill' }, dir);
    expect(config.warehouse).toEqual({ kind: 'duckdb', path: join(dir, 'd', 'warehouse.duckdb'), spillDirectory: join(dir, 'spill'), memoryLimit: '512MiB' });
    const wh = await openWarehouse(config.warehouse);
    try {
      const [row] = await wh.query<{ limit: string; spill: string }>(`SELECT current_setting('memory_limit') AS "limit", current_setting('temp_directory') AS spill`);
      expect(row).toEqual({ limit: '512.0 MiB', spill: join(dir, 'spill') });
    } finally {
      await wh.close();
    }
    expect(() => parseEnv({ AIMO_DUCKDB_MEMORY_LIMIT: 'lots' })).toThrow(/AIMO_DUCKDB_MEMORY_LIMIT: expected a size such as 8GB or 512MiB/);
  });

  it('takes an OpenAI-compatible endpoint with its key, never echoing the key, and uses the local stand-in without one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aimo-config-'));
    expect(loadConfig({ AIMO_DATA_DIR: 'd' }, dir).llm).toBeUndefined();
    const llm = loadConfig({ AIMO_DATA_DIR: 'd', AIMO_LLM_BASE_URL: 'https://llm.example.com/v1', AIMO_LLM_API_KEY: 'sk-secret-value' }, dir);
    expect(llm.llm).toEqual({ baseURL: 'https://llm.example.com/v1', apiKey: 'sk-secret-value' });
    expect(() => parseEnv({ AIMO_LLM_BASE_URL: 'https://llm.example.com/v1' })).toThrow(/AIMO_LLM_API_KEY: required when AIMO_LLM_BASE_URL is set/);
    let message = '';
    try {
      parseEnv({ AIMO_LLM_BASE_URL: 'not a url', AIMO_LLM_API_KEY: 'sk-secret-value', AIMO_LLM_REQUESTS_PER_SECOND: '-1' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/AIMO_LLM_BASE_URL: expected the http\(s\) base URL/);
    expect(message).toMatch(/AIMO_LLM_REQUESTS_PER_SECOND/);
    expect(message).not.toContain('sk-secret-value');
  });
});
