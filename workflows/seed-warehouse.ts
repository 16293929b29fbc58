import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SeedInput, SeedResult } from '../domain/simulated-market';

const { ensureSimulatedDataset } = proxyActivities<Activities>({
  // A first seed of a year of days takes a minute or more; the activity heartbeats after every stored piece of days.
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

/** Fills an empty embedded warehouse with the simulated marketing dataset. */
export async function seedWarehouse(input: SeedInput): Promise<SeedResult> {
  const result = await ensureSimulatedDataset(input);
  log.info(result.seeded ? 'warehouse seeded' : 'warehouse already seeded');
  return result;
}
