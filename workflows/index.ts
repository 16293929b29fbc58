import { rolloutWorkflow } from './rollout/rollout';
import { USE_CASES } from './use-cases';

export { contentBandit } from './content/bandit';
export { contentGeneration } from './content/generation';
export { driftCheck } from './loops/drift';
export { jumpCheck } from './loops/jumps';
export { retrain } from './loops/retrain';
export { rollback } from './loops/rollback';
export { retention } from './retention';
export { seedWarehouse } from './seed-warehouse';
export { marketDay } from './market-day';

/** The eight-step rollout of every registered use case. */
export const rollout = rolloutWorkflow(USE_CASES);
