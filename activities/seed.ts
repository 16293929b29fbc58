import { log } from '@temporalio/activity';
import { generateDataset, type DatasetSummary } from '../simulator';
import { tableRef } from '../domain/table-ref';
import type { ActivityDependencies } from './dependencies';

export interface SeedInput {
  readonly seed: number;
  readonly users: number;
  readonly schema?: string;
}

export interface SeedResult {
  readonly seeded: boolean;
  readonly summary?: DatasetSummary;
}

export function createSeedActivities({ warehouse }: ActivityDependencies) {
  return {
    /** Seeds the simulated dataset when the warehouse has none; a second call changes nothing. */
    async ensureSimulatedDataset(input: SeedInput): Promise<SeedResult> {
      const schema = input.schema ?? 'raw';
      if (await warehouse.tableExists(tableRef('truth_users', schema))) {
        log.info('simulated dataset already present; leaving it as it is', { schema });
        return { seeded: false };
      }
      const summary = await generateDataset(warehouse, { seed: input.seed, users: input.users, schema });
      log.info('simulated dataset generated', { schema, users: input.users });
      return { seeded: true, summary };
    },
  };
}
