import { AIMO_SCHEMA } from '../domain/naming';
import type { SqlType } from '../warehouse/dialect';
import { tableRef, type TableRef } from '../domain/table-ref';
import type { Warehouse } from '../warehouse/warehouse';

/**
 * aimo's own bookkeeping tables. JSON documents are stored as strings so the
 * same DDL works on every warehouse; timestamps as ISO strings written by the
 * workflow (deterministic, so a retried write is identical).
 */
const TABLES = {
  kpi_specs: { key: ['workflow_id'], columns: { workflow_id: 'string', use_case: 'string', metric: 'string', channel: 'string', market: 'string', baseline: 'float', target: 'float', target_change: 'float', deadline: 'string', window_from: 'string', window_to: 'string', spec_json: 'string' } },
  inventory_reports: { key: ['workflow_id', 'source'], columns: { workflow_id: 'string', source: 'string', use_case: 'string', report_json: 'string', blocking: 'int', warnings: 'int' } },
  dq_results: { key: ['workflow_id', 'model', 'expectation'], columns: { workflow_id: 'string', model: 'string', expectation: 'string', success: 'bool', unexpected_count: 'int', unexpected_percent: 'float', result_json: 'string' } },
  audit_log: { key: ['workflow_id', 'seq'], columns: { workflow_id: 'string', seq: 'int', use_case: 'string', step: 'string', decision: 'string', actor: 'string', reason: 'string', details_json: 'string', recorded_at: 'string' } },
  model_registry: { key: ['version_id'], columns: { version_id: 'string', use_case: 'string', workflow_id: 'string', status: 'string', features_json: 'string', model_json: 'string', metrics_json: 'string', lineage_json: 'string', registered_at: 'string' } },
  model_aliases: { key: ['use_case', 'alias'], columns: { use_case: 'string', alias: 'string', version_id: 'string', updated_by: 'string', reason: 'string', updated_at: 'string' } },
  experiments: { key: ['experiment_id'], columns: { experiment_id: 'string', use_case: 'string', workflow_id: 'string', readout_json: 'string', ship: 'bool' } },
  drift_reports: { key: ['workflow_id'], columns: { workflow_id: 'string', use_case: 'string', champion_version: 'string', dataset_drift: 'bool', drifted_share: 'float', report_json: 'string' } },
  alerts_sent: { key: ['incident_id', 'route'], columns: { incident_id: 'string', route: 'string', use_case: 'string', sent_at: 'string', payload_json: 'string' } },
  alert_routes: { key: ['use_case', 'route'], columns: { use_case: 'string', route: 'string', route_json: 'string' } },
  content_facts: { key: ['workflow_id', 'product_id'], columns: { workflow_id: 'string', product_id: 'string', use_case: 'string', facts_json: 'string' } },
  content_variants: { key: ['workflow_id', 'variant_id'], columns: { workflow_id: 'string', variant_id: 'string', product_id: 'string', use_case: 'string', headline: 'string', description: 'string', status: 'string', attempt: 'int', violations_json: 'string', model: 'string', prompt_hash: 'string' } },
  llm_cache: { key: ['prompt_hash'], columns: { prompt_hash: 'string', model: 'string', template_version: 'string', response_json: 'string', prompt_tokens: 'int', completion_tokens: 'int', created_at: 'string' } },
  llm_usage: { key: ['job_id', 'prompt_hash', 'model', 'attempt'], columns: { prompt_hash: 'string', use_case: 'string', job_id: 'string', day: 'string', model: 'string', attempt: 'int', prompt_tokens: 'int', completion_tokens: 'int', cost: 'float', recorded_at: 'string' } },
  bandit_rounds: { key: ['experiment_id', 'round'], columns: { experiment_id: 'string', round: 'int', use_case: 'string', allocation_json: 'string', stats_json: 'string' } },
  reports: { key: ['workflow_id', 'format'], columns: { workflow_id: 'string', format: 'string', kind: 'string', use_case: 'string', content: 'string', written_at: 'string' } },
} as const satisfies Record<string, { key: readonly string[]; columns: Record<string, SqlType> }>;

export type AimoTable = keyof typeof TABLES;

/** The columns that key a bookkeeping table's rows: an upsert writes each key once. */
export function aimoTableKey(name: AimoTable): readonly string[] {
  return TABLES[name].key;
}

export function aimoTable(name: AimoTable): TableRef {
  return tableRef(name, AIMO_SCHEMA);
}

const prepared = new WeakMap<Warehouse, Promise<void>>();

/** Creates the schema and tables once per warehouse connection; CREATE ... IF NOT EXISTS keeps it idempotent. */
export function ensureAimoTables(wh: Warehouse): Promise<void> {
  // Concurrent activities share one creation: parallel DDL on one schema conflicts in some warehouses.
  let ready = prepared.get(wh);
  if (!ready) {
    ready = createAimoTables(wh);
    prepared.set(wh, ready);
    ready.catch(() => prepared.delete(wh));
  }
  return ready;
}

async function createAimoTables(wh: Warehouse): Promise<void> {
  await wh.execute(wh.dialect.createSchemaIfNotExists(AIMO_SCHEMA));
  for (const [name, spec] of Object.entries(TABLES)) {
    const columns = Object.entries(spec.columns)
      .map(([column, type]) => `${wh.dialect.quote(column)} ${wh.dialect.type(type as SqlType)}`)
      .join(', ');
    await wh.execute(`CREATE TABLE IF NOT EXISTS ${wh.dialect.table(aimoTable(name as AimoTable))} (${columns})`);
  }
}

/** Upserts one row into an aimo table by its key: running it twice leaves one row. */
export async function upsertAimoRow(wh: Warehouse, name: AimoTable, row: Record<string, string | number | boolean | null>): Promise<void> {
  await ensureAimoTables(wh);
  const spec = TABLES[name];
  const columns = Object.keys(spec.columns);
  const select = columns
    .map((column) => {
      if (!(column in row)) throw new Error(`${name} row lacks ${column}`);
      const type = (spec.columns as Record<string, SqlType>)[column]!;
      return `${wh.dialect.cast(`@${column}`, type)} AS ${wh.dialect.quote(column)}`;
    })
    .join(', ');
  await wh.merge(aimoTable(name), `SELECT ${select}`, spec.key, columns, row);
}

/**
 * JSON for stored documents with floats cut to 9 significant digits: a
 * warehouse may sum doubles in a different order on a retry (parallel
 * aggregation), and the last bits must not make the retried row differ.
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(9)) : v));
}
