import { join } from 'node:path';
import { ensureEmulators } from '../../../scripts/provision-emulators';
import type { BigQueryWarehouseOptions } from '../../../warehouse/bigquery';
import { jsonLine, reportProvisioning, startEmulatorProcess, type EmulatorProcess } from './process';
import { WorkerHostedBigQuery } from './worker-warehouse';

export const EMULATED_PROJECT = 'aimo-test';
/** bqemulator runs every job "in" US and ignores other locations; real BigQuery does not. */
export const EMULATED_LOCATION = 'US';

export interface BigQueryEmulator {
  /** http://127.0.0.1:<port>, the REST endpoint the client's apiEndpoint points at */
  readonly endpoint: string;
  readonly projectId: string;
  readonly process: EmulatorProcess;
  stop(): Promise<void>;
}

/** Installs bqemulator if needed and starts it, in memory, on a free port it picks itself. */
export async function startBigQueryEmulator(): Promise<BigQueryEmulator> {
  const { bigquery } = await ensureEmulators({ names: ['bigquery'], report: reportProvisioning });
  const { process, ready: port } = await startEmulatorProcess({
    name: 'bqemulator',
    command: bigquery.python,
    args: [
      join(__dirname, 'bqemulator_launcher.py'),
      'start',
      '--ephemeral',
      '--rest-host', '127.0.0.1',
      '--rest-port', '0',
      '--grpc-host', '127.0.0.1',
      '--grpc-port', '0',
      '--project', EMULATED_PROJECT,
      '--no-admin',
      '--log-format', 'json',
      '--log-level', 'info',
    ],
    env: bigquery.env,
    cwd: bigquery.sitePackages,
    // It logs the port it bound once uvicorn accepts connections.
    ready: (line) => {
      const event = jsonLine(line);
      return event?.['event'] === 'rest.listen' && typeof event['port'] === 'number' ? event['port'] : undefined;
    },
  });
  return { endpoint: `http://127.0.0.1:${port}`, projectId: EMULATED_PROJECT, process, stop: () => process.stop() };
}

/**
 * A BigQueryWarehouse on the emulator (or on a proxy in front of it), with
 * its dataset created. It runs in a worker thread: see worker-warehouse.ts.
 */
export function openEmulatedBigQuery(endpoint: string, overrides: Partial<BigQueryWarehouseOptions> = {}): Promise<WorkerHostedBigQuery> {
  return WorkerHostedBigQuery.open({
    projectId: EMULATED_PROJECT,
    dataset: 'aimo_test',
    location: EMULATED_LOCATION,
    apiEndpoint: endpoint,
    unauthenticated: true,
    ...overrides,
  });
}
