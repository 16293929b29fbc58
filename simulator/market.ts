import { sampleBinomial, seededRandom } from '../domain/content/bandit';
import { shortHash } from '../domain/naming';
import type { SimulatedMarket } from '../domain/simulated-market';
import type { Warehouse } from '../warehouse/warehouse';
import { appendDays } from './append';
import { generateDataset } from './generate';
import type { DatasetOptions } from './options';
import { simulateMarketResponse } from './market-response';
import { plantedClickRates } from './products';
import { readSimulatorState } from './state';

/**
 * The simulated market over one warehouse, handed to the activity factory of
 * the embedded stack and of tests. Its seed draws who converts in an
 * experiment; the dataset's own seed is given when seeding.
 */
export function createSimulatedMarket(warehouse: Warehouse, options: { seed: number }): SimulatedMarket {
  const d = warehouse.dialect;
  const q = (c: string) => d.quote(c);
  return {
    async seedDataset(input, onProgress) {
      const schema = input.schema ?? 'raw';
      const state = await readSimulatorState(warehouse, schema);
      if (state.kind === 'legacy') return { seeded: false };
      if (state.kind === 'living') return { seeded: false, newestDay: state.options.endDate };
      const { seed, users, endDate, days, drift, conceptDrift } = input;
      // Plain values from the workflow input; the simulator's own schema checks them and names any bad field.
      const options = { seed, users, schema, endDate, days, drift, conceptDrift } as DatasetOptions;
      const summary = await generateDataset(warehouse, options, { onProgress });
      return { seeded: true, summary, newestDay: summary.endDate };
    },

    appendMarketDays(input, onProgress) {
      return appendDays(warehouse, { schema: input.schema ?? 'raw', through: input.through }, { onProgress });
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
