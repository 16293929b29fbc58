import type { BanditAllocationInput, BanditRoundInput, BanditRegret } from '../../domain/content/results';
import { regret, type ArmStats } from '../../domain/content/bandit';
import { tableRef } from '../../domain/table-ref';
import { stableJson, upsertAimoRow } from '../../store/aimo-tables';
import type { ActivityDependencies } from '../dependencies';
import { requireSimulator } from '../simulated-market';

/** A bandit's rounds: each allocation published before its traffic, the outcomes read after it. */
export function createBanditActivities({ warehouse, simulator }: ActivityDependencies) {
  const d = warehouse.dialect;
  const q = (c: string) => d.quote(c);

  const ensureOutcomesTable = async (schema: string, table: string) => {
    await warehouse.execute(d.createSchemaIfNotExists(schema));
    await warehouse.execute(
      `CREATE TABLE IF NOT EXISTS ${d.table(tableRef(table, schema))} (${q('experiment_id')} ${d.type('string')}, ${q('arm_id')} ${d.type('string')}, ` +
        `${q('period')} ${d.type('int')}, ${q('impressions')} ${d.type('int')}, ${q('clicks')} ${d.type('int')})`,
    );
  };

  const armTotals = async (schema: string, table: string, experimentId: string, arms: string[]): Promise<ArmStats[]> => {
    const rows = await warehouse.query<{ arm_id: string; impressions: number; clicks: number }>(
      `SELECT ${q('arm_id')} AS arm_id, SUM(${q('impressions')}) AS impressions, SUM(${q('clicks')}) AS clicks
       FROM ${d.table(tableRef(table, schema))} WHERE ${q('experiment_id')} = @experiment_id GROUP BY ${q('arm_id')}`,
      { experiment_id: experimentId },
    );
    return arms.map((armId) => {
      const r = rows.find((x) => x.arm_id === armId);
      return { armId, impressions: Number(r?.impressions ?? 0), clicks: Number(r?.clicks ?? 0) };
    });
  };

  /** Round r's row of aimo.bandit_rounds, keyed by (experiment, round); its stats stay '{}' until the round's outcomes are read. */
  const writeBanditRound = (input: BanditAllocationInput, stats: ArmStats[] | null) =>
    upsertAimoRow(warehouse, 'bandit_rounds', {
      experiment_id: input.experimentId, round: input.round, use_case: input.useCase,
      allocation_json: stableJson({ shares: input.shares, impressions: input.impressions }), stats_json: stats ? stableJson(stats) : '{}',
    });

  /**
   * Before round r's traffic: the allocation the ad server serves during the
   * round, and the outcomes table it reports to. A retry rewrites the same row.
   */
  const publishBanditAllocation = async (input: BanditAllocationInput): Promise<void> => {
    await ensureOutcomesTable(input.sourceSchema, input.outcomesTable);
    await writeBanditRound(input, null);
  };

  /**
   * After round r's cadence: lets the simulator produce the round's
   * impressions and clicks when the plan asks for it (MERGE by experiment,
   * arm and period: a retry writes the same rows), keeps every arm's totals
   * read from the warehouse with the round, and returns them.
   */
  const readBanditRound = async (input: BanditRoundInput): Promise<ArmStats[]> => {
    if (input.simulate) {
      await requireSimulator(simulator).serveBanditRound({
        experimentId: input.experimentId,
        round: input.round,
        arms: input.arms,
        impressions: input.impressions,
        outcomesTable: tableRef(input.outcomesTable, input.sourceSchema),
        seed: input.seed,
      });
    }
    const stats = await armTotals(input.sourceSchema, input.outcomesTable, input.experimentId, input.arms);
    await writeBanditRound(input, stats);
    return stats;
  };

  return {
    publishBanditAllocation,
    readBanditRound,

    /**
     * A bandit round as runs started before allocations were published ahead
     * of their round still take it: published and read at once, after the
     * cadence. Kept until no such run is left.
     */
    async recordBanditRound(input: BanditRoundInput): Promise<ArmStats[]> {
      await publishBanditAllocation(input);
      return readBanditRound(input);
    },

    /** Simulator only: expected clicks lost against the planted best arm, for the bandit and for an even split of the same traffic. */
    async banditRegret({ experimentId, arms, sourceSchema, outcomesTable, seed }: { experimentId: string; arms: string[]; sourceSchema: string; outcomesTable: string; seed: number }): Promise<BanditRegret> {
      const trueRates = requireSimulator(simulator).plantedClickRates(experimentId, arms, seed);
      const stats = await armTotals(sourceSchema, outcomesTable, experimentId, arms);
      const impressions = Object.fromEntries(stats.map((s) => [s.armId, s.impressions]));
      const bestArm = Object.keys(trueRates).reduce((b, id) => (trueRates[id]! > trueRates[b]! ? id : b));
      return { ...regret(impressions, trueRates), bestArm, trueRates, impressions };
    },
  };
}
