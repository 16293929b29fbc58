/** The data-path models of a propensity use case (declared with their SQL in pipelines/propensity/models.ts). */
export type PropensityModelName = 'stg_users' | 'stg_sessions' | 'stg_events' | 'stg_orders' | 'features';

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
