import { join } from 'node:path';
import { ensureEmulators } from '../../../scripts/provision-emulators';
import { SnowflakeWarehouse, type SnowflakeWarehouseOptions } from '../../../warehouse/snowflake';
import { jsonLine, reportProvisioning, startEmulatorProcess, type EmulatorProcess } from './process';

export const EMULATED_DATABASE = 'AIMO_TEST';
export const EMULATED_SCHEMA = 'AIMO';

export interface SnowflakeEmulator {
  /** http://127.0.0.1:<port>, what snowflake-sdk's accessUrl points at */
  readonly accessUrl: string;
  readonly process: EmulatorProcess;
  stop(): Promise<void>;
}

/**
 * Installs fakesnow if needed and starts its HTTP server behind the JSON
 * bridge (fakesnow_json_bridge.py), in memory, on a free port it picks itself.
 */
export async function startSnowflakeEmulator(): Promise<SnowflakeEmulator> {
  const { snowflake } = await ensureEmulators({ names: ['snowflake'], report: reportProvisioning });
  const { process, ready: port } = await startEmulatorProcess({
    name: 'fakesnow',
    command: snowflake.python,
    args: [join(__dirname, 'fakesnow_json_bridge.py'), '--host', '127.0.0.1', '--port', '0'],
    env: snowflake.env,
    cwd: snowflake.sitePackages,
    ready: (line) => {
      const event = jsonLine(line);
      return event?.['event'] === 'listening' && typeof event['port'] === 'number' ? event['port'] : undefined;
    },
  });
  return { accessUrl: `http://127.0.0.1:${port}`, process, stop: () => process.stop() };
}

/** Options for a SnowflakeWarehouse on the emulator; fakesnow accepts any user and credentials. */
export function emulatedSnowflakeOptions(accessUrl: string, overrides: Partial<SnowflakeWarehouseOptions> = {}): SnowflakeWarehouseOptions {
  return {
    account: 'fakesnow',
    username: 'aimo_test',
    auth: { kind: 'password', password: 'not-a-secret' },
    warehouse: 'AIMO_WH',
    database: EMULATED_DATABASE,
    schema: EMULATED_SCHEMA,
    role: 'AIMO_ROLE',
    accessUrl,
    ...overrides,
  };
}

/** A SnowflakeWarehouse on the emulator (or a proxy in front of it), with its database and schema created. */
export async function openEmulatedSnowflake(accessUrl: string, overrides: Partial<SnowflakeWarehouseOptions> = {}): Promise<SnowflakeWarehouse> {
  const warehouse = await SnowflakeWarehouse.open(emulatedSnowflakeOptions(accessUrl, overrides));
  const { dialect } = warehouse;
  const options = emulatedSnowflakeOptions(accessUrl, overrides);
  await warehouse.execute(`CREATE DATABASE IF NOT EXISTS ${dialect.quote(options.database)}`);
  await warehouse.execute(`CREATE SCHEMA IF NOT EXISTS ${dialect.quote(options.database)}.${dialect.quote(options.schema)}`);
  return warehouse;
}
