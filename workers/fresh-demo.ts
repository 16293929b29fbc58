import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { basename, join, relative } from 'node:path';
import type { AimoConfig } from '../config';

/** Where `npm run demo -- --fresh` keeps the earlier demo's state: one earlier run, replaced by the next --fresh. */
export const PREVIOUS_RUN_DIR = 'previous-run';

/** `--fresh` cannot start over without stopping something aimo did not start: say what, change nothing. */
export class FreshRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FreshRefused';
  }
}

/** The files of an earlier demo in this data folder: the warehouse, Temporal's history and the reports, those that exist. */
export function earlierDemoState(config: AimoConfig): string[] {
  const candidates: string[] = [];
  if (config.warehouse.kind === 'duckdb') candidates.push(config.warehouse.path, `${config.warehouse.path}.wal`);
  const history = join(config.dataDir, 'temporal.sqlite');
  candidates.push(history, `${history}-wal`, `${history}-shm`, join(config.dataDir, 'reports'));
  return candidates.filter((path) => existsSync(path));
}

/**
 * Moves the earlier demo's state aside, into <data>/previous-run/, after
 * saying what it moves; the run that follows starts from an empty folder
 * (a new simulated market, a new Temporal history, new reports). It stops
 * nothing: when a Temporal server already listens at the address (another
 * `npm start`, or a server of your own), it refuses, since that server holds
 * the history it would move.
 */
export async function moveEarlierDemoState(config: AimoConfig, say: (line: string) => void): Promise<string[]> {
  if (config.warehouse.kind !== 'duckdb') throw new FreshRefused('--fresh starts the demo over on the embedded DuckDB warehouse only; this stack runs on ' + config.warehouse.kind);
  const host = config.temporal.address.slice(0, config.temporal.address.lastIndexOf(':'));
  if (host !== 'localhost' && host !== '127.0.0.1') throw new FreshRefused(`--fresh starts over with a new Temporal history in the data folder, but TEMPORAL_ADDRESS (${config.temporal.address}) is a server aimo does not own; the demo's workflows stay there`);
  if (config.devServer.mode === 'never') throw new FreshRefused('--fresh starts over with a new Temporal history in the data folder, but AIMO_DEV_SERVER=never uses a Temporal server aimo does not own; unset it, or reset that server yourself');
  if (await isListening(config.temporal.address)) {
    throw new FreshRefused(
      `--fresh moves the Temporal history aside, but a Temporal server already listens at ${config.temporal.address} (another \`npm start\` or \`npm run demo\`, or a server of your own): stop it first; nothing was moved`,
    );
  }
  const state = earlierDemoState(config);
  if (state.length === 0) {
    say(`--fresh: ${config.dataDir} holds no earlier demo; starting as on a first run`);
    return [];
  }
  const target = join(config.dataDir, PREVIOUS_RUN_DIR);
  const named = state.map((path) => `${relative(config.dataDir, path) || basename(path)} (${describeSize(path)})`);
  say(`--fresh: moving the earlier demo's state to ${target}${existsSync(target) ? ' (replacing the one an earlier --fresh left there)' : ''}: ${named.join(', ')}`);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const path of state) renameSync(path, join(target, basename(path)));
  say(`--fresh: moved; delete ${target} to free the space, or move its files back to see the earlier run again`);
  return state;
}

function describeSize(path: string): string {
  const stat = statSync(path);
  if (stat.isDirectory()) return `${readdirSync(path).length} file(s)`;
  return stat.size >= 1e6 ? `${Math.round(stat.size / 1e6)} MB` : `${Math.ceil(stat.size / 1e3)} kB`;
}

function isListening(address: string): Promise<boolean> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = createConnection({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}
