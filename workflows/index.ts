export { seedWarehouse } from './seed-warehouse';
