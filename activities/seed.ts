import { Context, log } from '@temporalio/activity';
import { NonRetryableError } from '../domain/errors';
import type { ProgressListener, SeedInput, SeedResult } from '../domain/simulated-market';
import type { ActivityDependencies } from './dependencies';

export function createSeedActivities({ simulator }: ActivityDependencies) {
  return {
    /** Seeds the simulated dataset when the warehouse has none; a second call changes nothing. */
    async ensureSimulatedDataset(input: SeedInput): Promise<SeedResult> {
      const schema = input.schema ?? 'raw';
      const result = await requireSimulator(simulator).seedDataset(input, reportProgress('seeding the simulated market', { schema, users: input.users }));
      if (result.seeded) log.info('simulated dataset generated', { schema, users: input.users, newestDay: result.newestDay, rowCounts: result.summary?.rowCounts });
      else log.info('simulated dataset already present; leaving it as it is', { schema, newestDay: result.newestDay ?? 'unknown (generated before the living market)' });
      return result;
    },
  };
}

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
