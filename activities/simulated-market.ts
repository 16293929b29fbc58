import { Context, log } from '@temporalio/activity';
import { NonRetryableError } from '../domain/errors';
import type { ProgressListener } from '../domain/simulated-market';
import type { ActivityDependencies } from './dependencies';

/** The longest a long simulation stays silent: a person at the console sees it is still working. */
export const QUIET_LIMIT_MS = 9_000;

/**
 * Heartbeats and logs each step of a long simulation, so the worker's log
 * (the embedded stack's console) says how far it is, and a worker that dies
 * mid-way is noticed at the heartbeat timeout rather than the start-to-close.
 * Between steps, a line after QUIET_LIMIT_MS of silence says it is still
 * working (the ticker looks every second: no silence lasts much over 10 s).
 */
export async function withProgress<T>(
  what: string,
  fields: Record<string, unknown>,
  run: (onProgress: ProgressListener) => Promise<T>,
  quietLimitMs = QUIET_LIMIT_MS,
): Promise<T> {
  const context = Context.current();
  const started = Date.now();
  let lastStep = 'starting';
  let lastLine = started;
  const ticker = setInterval(() => {
    if (Date.now() - lastLine < quietLimitMs) return;
    lastLine = Date.now();
    log.info(`${what}: still working (${Math.round((lastLine - started) / 1000)} s in; last step: ${lastStep})`, fields);
  }, Math.min(1_000, quietLimitMs));
  ticker.unref();
  try {
    return await run((progress) => {
      context.heartbeat(progress);
      lastStep = progress.stage === 'population' ? 'population written' : `${progress.daysDone}/${progress.days} days`;
      lastLine = Date.now();
      log.info(`${what}: ${lastStep}`, { ...fields, rows: progress.rows, newestDay: progress.newestDay });
    });
  } finally {
    clearInterval(ticker);
  }
}

/** The simulated market, or a plain refusal: only the embedded stack (and tests) run with one. */
export function requireSimulator(simulator: ActivityDependencies['simulator']) {
  if (!simulator) {
    throw new NonRetryableError(
      'SimulatorNotAvailable',
      'this worker runs without the simulated market (only the embedded DuckDB stack has one): set the plan\'s outcomeSource to "warehouse", or run on the embedded default',
    );
  }
  return simulator;
}
