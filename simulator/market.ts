import { sampleBinomial, seededRandom } from '../domain/content/bandit';
import { shortHash } from '../domain/naming';
import type { SimulatedMarket } from '../domain/simulated-market';
import { tableRef } from '../domain/table-ref';
import type { Warehouse } from '../warehouse/warehouse';
import { generateDataset } from './generate';
import { simulateMarketResponse } from './market-response';
import { plantedClickRates } from './products';

/**
 * The simulated market over one warehouse, handed to the activity factory of
 * the embedded stack and of tests. Its seed draws who converts in an
 * experiment; the dataset's own seed is given when seeding.
 */
export function createSimulatedMarket(warehouse: Warehouse, options: { seed: number }): SimulatedMarket {
  const d = warehouse.dialect;
  const q = (c: string) => d.quote(c);
  return {
    async seedDataset(input) {
      const schema = input.schema ?? 'raw';
      if (await warehouse.tableExists(tableRef('truth_users', schema))) return { seeded: false };
      const summary = await generateDataset(warehouse, { seed: input.seed, users: input.users, schema });
      return { seeded: true, summary };
    },

    async answerExperiment(input) {
      await simulateMarketResponse(warehouse, { ...input, seed: options.seed });
    },

    async serveBanditRound(input) {
      const rates = plantedClickRates(input.experimentId, input.arms, input.seed);
      const params: Record<string, string | number> = { experiment_id: input.experimentId, period: input.round };
      const select = input.arms
        .map((arm, i) => {
          const rand = seededRandom(parseInt(shortHash(`${input.experimentId}:${input.round}:${arm}:${input.seed}`), 16));
          const impressions = input.impressions[arm] ?? 0;
          Object.assign(params, { [`arm${i}`]: arm, [`imp${i}`]: impressions, [`clk${i}`]: sampleBinomial(impressions, rates[arm]!, rand) });
          return `SELECT ${d.cast('@experiment_id', 'string')} AS ${q('experiment_id')}, ${d.cast(`@arm${i}`, 'string')} AS ${q('arm_id')}, ${d.cast('@period', 'int')} AS ${q('period')}, ${d.cast(`@imp${i}`, 'int')} AS ${q('impressions')}, ${d.cast(`@clk${i}`, 'int')} AS ${q('clicks')}`;
        })
        .join(' UNION ALL ');
      await warehouse.merge(input.outcomesTable, select, ['experiment_id', 'arm_id', 'period'], ['experiment_id', 'arm_id', 'period', 'impressions', 'clicks'], params);
    },

    plantedClickRates,
  };
}
