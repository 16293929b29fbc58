import { continueAsNew, defineQuery, patched, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { BanditReadout, BanditRoundInput } from '../../domain/content/results';
import { allocate, seededRandom, splitImpressions, type Allocation, type ArmStats } from '../../domain/content/bandit';
import { durationToMs } from '../../domain/duration';
import { shortHash } from '../../domain/naming';
import type { ContentPlan } from '../../domain/plan';
import { dataActivities, quickActivities } from '../activity-proxies';

export interface ContentBanditInput {
  readonly useCase: string;
  readonly experimentId: string;
  readonly productId: string;
  readonly arms: string[];
  readonly settings: ContentPlan['content']['bandit'];
  readonly sourceSchema: string;
  readonly outcomesTable: string;
  /** Seed of the posterior draws and of the simulator, derived from the rollout's id */
  readonly seed: number;
  /** Carried across continue-as-new */
  readonly state?: { round: number; stats: ArmStats[] };
}

export const banditQuery = defineQuery<{ round: number; allocation: Allocation | null; stats: ArmStats[] }>('bandit');

/** Rounds per run before the history is handed to a fresh run (continue-as-new). */
const ROUNDS_PER_RUN = 20;

/**
 * Histories recorded before this marker publish a round's allocation only
 * after its cadence, together with reading its outcomes; they replay that way.
 */
const PUBLISH_BEFORE_ROUND = 'content-bandit-publish-before-round';

/**
 * The variants of one product compete in a multi-armed bandit: each round
 * the allocation follows Thompson sampling (after a burn-in, with a floor per
 * arm) and is published to aimo.bandit_rounds for the ad server before the
 * round starts; the workflow sleeps for the plan's cadence while traffic
 * accrues, then reads every arm's impressions and clicks from the warehouse.
 * It stops when an arm's posterior probability of being best reaches the
 * threshold, or at the round cap. Draws are seeded by (experiment, round):
 * replays agree.
 */
export async function contentBandit(input: ContentBanditInput): Promise<BanditReadout> {
  const s = input.settings;
  let round = input.state?.round ?? 0;
  let stats: ArmStats[] = input.state?.stats ?? input.arms.map((armId) => ({ armId, impressions: 0, clicks: 0 }));
  let allocation: Allocation | null = null;
  setHandler(banditQuery, () => ({ round, allocation, stats }));
  const cadence = durationToMs(s.cadence);
  const simulate = s.outcomeSource === 'simulator';

  for (let inThisRun = 0; ; inThisRun++) {
    const rand = seededRandom(parseInt(shortHash(`${input.experimentId}:${input.seed}:${round}`), 16));
    allocation = allocate(stats, { burnInImpressions: s.burnInImpressions, minShare: s.minShare, winnerProbability: s.winnerProbability, draws: 2000 }, rand);
    if (allocation.winner || round >= s.maxRounds) {
      const regret = simulate
        ? await quickActivities.banditRegret({ experimentId: input.experimentId, arms: input.arms, sourceSchema: input.sourceSchema, outcomesTable: input.outcomesTable, seed: input.seed })
        : undefined;
      const leader = allocation.winner ?? null;
      return {
        experimentId: input.experimentId,
        productId: input.productId,
        winner: leader,
        decidedBy: leader ? 'posterior' : 'max-rounds',
        rounds: round,
        pBest: allocation.pBest,
        shares: allocation.shares,
        arms: stats,
        ...(regret ? { regret } : {}),
      };
    }
    if (inThisRun >= ROUNDS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof contentBandit>({ ...input, state: { round, stats } });
    }
    const next: BanditRoundInput = {
      useCase: input.useCase,
      experimentId: input.experimentId,
      round: round + 1,
      arms: input.arms,
      shares: allocation.shares,
      impressions: simulate ? splitImpressions(allocation.shares, s.impressionsPerRound) : {},
      sourceSchema: input.sourceSchema,
      outcomesTable: input.outcomesTable,
      simulate,
      seed: input.seed,
    };
    // Decided once per round: a run resumed in the sleep of an older release finishes that round the old way.
    const publishFirst = patched(PUBLISH_BEFORE_ROUND);
    if (publishFirst) await dataActivities.publishBanditAllocation(next);
    await sleep(cadence);
    round += 1;
    stats = await (publishFirst ? dataActivities.readBanditRound(next) : dataActivities.recordBanditRound(next));
  }
}
