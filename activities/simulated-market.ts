import { Context, log } from '@temporalio/activity';
import { NonRetryableError } from '../domain/errors';
import type { ProgressListener } from '../domain/simulated-market';
import type { ActivityDependencies } from './dependencies';

/**
 * Heartbeats and logs each step of a long simulation, so the worker's log
 * (the embedded stack's console) says how far it is, and a worker that dies
 * mid-way is noticed at the heartbeat timeout rather than the start-to-close.
 */
export function reportProgress(what: string, fields: Record<string, unknown>): ProgressListener {
  const context = Context.current();
  return (progress) => {
    context.heartbeat(progress);
    const step = progress.stage === 'population' ? 'population written' : `${progress.daysDone}/${progress.days} days`;
    log.info(`${what}: ${step}`, { ...fields, rows: progress.rows, newestDay: progress.newestDay });
  };
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
