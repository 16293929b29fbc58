import { log } from '@temporalio/activity';
import type { MarketDaysInput, MarketDaysResult } from '../domain/simulated-market';
import type { ActivityDependencies } from './dependencies';
import { requireSimulator, withProgress } from './simulated-market';

export function createMarketActivities({ simulator }: ActivityDependencies) {
  return {
    /**
     * Grows the simulated market by every day after its newest one up to
     * `through`. Each stored piece of days moves the dataset's state on, so a
     * retry after a crash continues where the last attempt stopped, and a
     * day simulated twice is stored once.
     */
    async appendMarketDays(input: MarketDaysInput): Promise<MarketDaysResult> {
      const schema = input.schema ?? 'raw';
      const market = requireSimulator(simulator);
      const result = await withProgress('simulating market days', { schema, through: input.through }, (onProgress) => market.appendMarketDays(input, onProgress));
      log.info(result.days > 0 ? 'market days appended' : 'simulated market already up to date', { ...result });
      return result;
    },
  };
}
