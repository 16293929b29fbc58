export { contentBandit } from './content-bandit';
export { contentGeneration } from './content-generation';
export { driftCheck } from './drift';
export { retrain } from './retrain';
export { rollback } from './rollback';
export { rollout } from './rollout';
export { seedWarehouse } from './seed-warehouse';
