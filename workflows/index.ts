export { contentBandit } from './content/bandit';
export { contentGeneration } from './content/generation';
export { driftCheck } from './loops/drift';
export { retrain } from './loops/retrain';
export { rollback } from './loops/rollback';
export { rollout } from './rollout/rollout';
export { seedWarehouse } from './seed-warehouse';
