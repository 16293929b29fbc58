import { topologicalLevels } from '../dag';

/**
 * The data path of a propensity use case as a DAG: staging models clean and
 * de-duplicate the sources (hashing PII, dropping non-consented users), the
 * feature model joins them. Pure, so the workflow can order it itself.
 */
export const PROPENSITY_MODELS = [
  { name: 'stg_users', dependsOn: [] },
  { name: 'stg_sessions', dependsOn: ['stg_users'] },
  { name: 'stg_events', dependsOn: ['stg_users'] },
  { name: 'stg_orders', dependsOn: ['stg_users'] },
  { name: 'features', dependsOn: ['stg_users', 'stg_sessions', 'stg_events', 'stg_orders'] },
] as const;

export type PropensityModelName = (typeof PROPENSITY_MODELS)[number]['name'];

/** The models in levels: each level depends only on earlier ones, so a level's models can run side by side. */
export const PROPENSITY_DATA_PATH_LEVELS = topologicalLevels(PROPENSITY_MODELS.map((m) => ({ name: m.name, dependsOn: [...m.dependsOn] }))) as PropensityModelName[][];

/** Numeric feature columns of the features model, in the order the model uses them. */
export const PROPENSITY_FEATURES = [
  'sessions_n',
  'channel_share',
  'page_views_n',
  'add_to_cart_n',
  'checkout_n',
  'orders_prior',
  'revenue_prior_log',
  'recency_days',
  'tenure_days',
  'is_mobile',
] as const;
