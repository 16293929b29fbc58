import { requireSimulator, withProgress } from './simulated-market';
import { log } from '@temporalio/activity';
import type { SeedInput, SeedResult } from '../domain/simulated-market';
import type { ActivityDependencies } from './dependencies';

export function createSeedActivities({ simulator }: ActivityDependencies) {
  return {
    /** Seeds the simulated dataset when the warehouse has none; a second call changes nothing. */
    async ensureSimulatedDataset(input: SeedInput): Promise<SeedResult> {
      const schema = input.schema ?? 'raw';
      const market = requireSimulator(simulator);
      const result = await withProgress('seeding the simulated market', { schema, users: input.users }, (onProgress) => market.seedDataset(input, onProgress));
      if (result.seeded) log.info('simulated dataset generated', { schema, users: input.users, newestDay: result.newestDay, rowCounts: result.summary?.rowCounts });
      else log.info('simulated dataset already present; leaving it as it is', { schema, newestDay: result.newestDay ?? 'unknown (generated before the living market)' });
      return result;
    },
  };
}


