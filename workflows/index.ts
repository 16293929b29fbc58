export { rollout } from './rollout';
export { seedWarehouse } from './seed-warehouse';
