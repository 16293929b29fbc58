import { log } from '@temporalio/activity';
import { NonRetryableError } from '../domain/errors';
import type { SeedInput, SeedResult } from '../domain/simulated-market';
import type { ActivityDependencies } from './dependencies';

export function createSeedActivities({ simulator }: ActivityDependencies) {
  return {
    /** Seeds the simulated dataset when the warehouse has none; a second call changes nothing. */
    async ensureSimulatedDataset(input: SeedInput): Promise<SeedResult> {
      const result = await requireSimulator(simulator).seedDataset(input);
      log.info(result.seeded ? 'simulated dataset generated' : 'simulated dataset already present; leaving it as it is', { schema: input.schema ?? 'raw', users: input.users });
      return result;
    },
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
