/**
 * The tables the simulator writes, with their column types. The generator
 * casts every column to the type listed here, so the contract the ETL and
 * the inventory step read is this file.
 */
export type ColumnType = 'VARCHAR' | 'DATE' | 'TIMESTAMP' | 'DOUBLE' | 'BIGINT' | 'BOOLEAN' | 'INTEGER';

export interface TableSpec {
  /** The column that identifies a row; faults never null it */
  readonly key: readonly string[];
  readonly columns: Readonly<Record<string, ColumnType>>;
}

/** Source tables: what a marketing team's warehouse would hold */
export const SOURCE_TABLES = {
  /** Where each user lives: what geo tests randomise */
  user_regions: {
    key: ['user_id'],
    columns: { user_id: 'VARCHAR', market: 'VARCHAR', region: 'VARCHAR' },
  },
  users: {
    key: ['user_id'],
    columns: {
      user_id: 'VARCHAR',
      email: 'VARCHAR',
      phone: 'VARCHAR',
      market: 'VARCHAR',
      signup_date: 'DATE',
      segment: 'VARCHAR',
      age_band: 'VARCHAR',
      device: 'VARCHAR',
    },
  },
  identities: {
    key: ['user_id', 'identity_type', 'identity_value'],
    columns: { user_id: 'VARCHAR', identity_type: 'VARCHAR', identity_value: 'VARCHAR', first_seen: 'TIMESTAMP' },
  },
  consent: {
    key: ['user_id', 'purpose'],
    columns: { user_id: 'VARCHAR', purpose: 'VARCHAR', granted: 'BOOLEAN', updated_at: 'TIMESTAMP' },
  },
  sessions: {
    key: ['session_id'],
    columns: {
      session_id: 'VARCHAR',
      user_id: 'VARCHAR',
      started_at: 'TIMESTAMP',
      channel: 'VARCHAR',
      campaign_id: 'VARCHAR',
      device: 'VARCHAR',
      market: 'VARCHAR',
    },
  },
  events: {
    key: ['event_id'],
    columns: {
      event_id: 'VARCHAR',
      user_id: 'VARCHAR',
      session_id: 'VARCHAR',
      event_type: 'VARCHAR',
      event_ts: 'TIMESTAMP',
      channel: 'VARCHAR',
      loaded_at: 'TIMESTAMP',
    },
  },
  orders: {
    key: ['order_id'],
    columns: {
      order_id: 'VARCHAR',
      user_id: 'VARCHAR',
      order_ts: 'TIMESTAMP',
      channel: 'VARCHAR',
      market: 'VARCHAR',
      revenue: 'DOUBLE',
      margin: 'DOUBLE',
      returned: 'BOOLEAN',
      loaded_at: 'TIMESTAMP',
    },
  },
  campaigns: {
    key: ['campaign_id'],
    columns: { campaign_id: 'VARCHAR', channel: 'VARCHAR', market: 'VARCHAR', name: 'VARCHAR', start_date: 'DATE', end_date: 'DATE' },
  },
  ad_spend: {
    key: ['spend_date', 'campaign_id'],
    columns: {
      spend_date: 'DATE',
      channel: 'VARCHAR',
      market: 'VARCHAR',
      campaign_id: 'VARCHAR',
      spend: 'DOUBLE',
      impressions: 'BIGINT',
      clicks: 'BIGINT',
    },
  },
} as const satisfies Record<string, TableSpec>;

/** Ground truth: what the simulator planted, for tests and demos to check against */
export const TRUTH_TABLES = {
  truth_users: {
    key: ['user_id'],
    columns: {
      user_id: 'VARCHAR',
      market: 'VARCHAR',
      segment: 'VARCHAR',
      intent_z: 'DOUBLE',
      engagement_z: 'DOUBLE',
      daily_purchase_hazard: 'DOUBLE',
      daily_session_rate: 'DOUBLE',
      cart_rate: 'DOUBLE',
      avg_order_value: 'DOUBLE',
      return_rate: 'DOUBLE',
      favourite_channel: 'VARCHAR',
      primary_device: 'VARCHAR',
      consented: 'BOOLEAN',
      has_crm_id: 'BOOLEAN',
    },
  },
  truth_propensity: {
    key: ['user_id', 'window_days'],
    columns: { user_id: 'VARCHAR', window_days: 'INTEGER', propensity: 'DOUBLE' },
  },
  truth_effect: {
    key: ['metric'],
    columns: { metric: 'VARCHAR', value: 'DOUBLE' },
  },
  truth_experiments: {
    key: ['experiment_id'],
    columns: {
      experiment_id: 'VARCHAR',
      start_date: 'DATE',
      days: 'INTEGER',
      uplift_absolute: 'DOUBLE',
      control_users: 'BIGINT',
      treatment_users: 'BIGINT',
      expected_control_conversion: 'DOUBLE',
      expected_treatment_conversion: 'DOUBLE',
      control_converters: 'BIGINT',
      treatment_converters: 'BIGINT',
    },
  },
  truth_drift: {
    key: ['feature'],
    columns: { feature: 'VARCHAR', from_date: 'DATE', source_column: 'VARCHAR', description: 'VARCHAR' },
  },
  truth_faults: {
    key: ['fault', 'table_name', 'column_name'],
    columns: { fault: 'VARCHAR', table_name: 'VARCHAR', column_name: 'VARCHAR', rate: 'DOUBLE' },
  },
  truth_concept_drift: {
    key: ['user_id'],
    columns: { user_id: 'VARCHAR', from_date: 'DATE', daily_purchase_hazard: 'DOUBLE' },
  },
  /** The dataset's calendar and options: the state appended days are simulated from */
  truth_dataset: {
    key: ['seed'],
    columns: {
      seed: 'BIGINT',
      users: 'BIGINT',
      start_date: 'DATE',
      end_date: 'DATE',
      days: 'INTEGER',
      markets: 'VARCHAR',
      consent_rate: 'DOUBLE',
      drift_from_date: 'DATE',
      drift_features: 'VARCHAR',
      drift_strength: 'DOUBLE',
      options: 'VARCHAR',
    },
  },
} as const satisfies Record<string, TableSpec>;

export type SourceTableName = keyof typeof SOURCE_TABLES;
export type TruthTableName = keyof typeof TRUTH_TABLES;
export type SimulatedTableName = SourceTableName | TruthTableName;

export const SIMULATED_TABLES = [...Object.keys(SOURCE_TABLES), ...Object.keys(TRUTH_TABLES)] as SimulatedTableName[];

/** Tables that receive duplicate and late rows when faults ask for them */
export const DUPLICATABLE_TABLES = ['sessions', 'events', 'orders'] as const satisfies readonly SourceTableName[];
export const LATE_LOADING_TABLES = ['events', 'orders'] as const satisfies readonly SourceTableName[];

/** `table.column` names that a null fault may target: any source column but a table's key */
export const NULLABLE_COLUMNS: readonly string[] = Object.entries(SOURCE_TABLES).flatMap(([table, spec]) =>
  Object.keys(spec.columns)
    .filter((c) => !(spec.key as readonly string[]).includes(c))
    .map((c) => `${table}.${c}`),
);
