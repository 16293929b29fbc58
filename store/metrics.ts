import { Counter, Gauge, Registry } from 'prom-client';
import { onStatement, type StatementStats } from '../warehouse/statement-stats';
import type { Logger } from '../platform/logger';
import type { SqlParams } from '../warehouse/params';
import type { Warehouse } from '../warehouse/warehouse';
import { aimoTable, ensureAimoTables, type AimoTable } from './aimo-tables';

/**
 * aimo's own Prometheus metrics, beside the Temporal SDK's: each use case's
 * KPI, champion, drift, experiment, canary, LLM spend and alerts, read from
 * aimo's tables at scrape time (at most one query per metric family, whatever
 * the number of use cases), so what Prometheus stores is what the warehouse
 * holds. Labels are bounded: use case, KPI metric, model, feature and
 * state names, never workflow or run ids. The warehouse counters count the
 * statements this process ran, as far as each driver can tell
 * (warehouse/statement-stats.ts).
 */
export interface AimoMetrics {
  readonly registry: Registry;
  /** Stops counting warehouse statements (the registry keeps its last values). */
  close(): void;
}

type Q = (column: string) => string;

/** Reads the rows of one metric family; the tables are created first, so a fresh warehouse scrapes as empty. */
async function read<T extends Record<string, unknown>>(wh: Warehouse, sql: (q: Q, t: (name: AimoTable) => string) => string, params: SqlParams = {}): Promise<T[]> {
  await ensureAimoTables(wh);
  return wh.query<T>(
    sql(
      (c) => wh.dialect.quote(c),
      (name) => wh.dialect.table(aimoTable(name)),
    ),
    params,
  );
}

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

function parseJson(text: unknown): Record<string, unknown> {
  try {
    const value = JSON.parse(String(text)) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Two families drawn from one query (KPI value and target, the drift
 * families, the LLM counters) share its result within a scrape: prom-client
 * collects the families one after another, and a result younger than
 * SHARED_READ_MS is reused rather than read again.
 */
const SHARED_READ_MS = 2000;

function sharedRead<T>(readRows: () => Promise<T>): () => Promise<T> {
  let last: { at: number; rows: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > SHARED_READ_MS) {
      const rows = readRows();
      last = { at: now, rows };
      // A failed read is not shared: the next family tries again.
      rows.catch(() => {
        if (last?.rows === rows) last = undefined;
      });
    }
    return last.rows;
  };
}

/** The newest row per key: the row sorting last by `order`, then by `tieBreak`. */
function newestBy<T>(rows: readonly T[], key: (r: T) => string, order: (r: T) => string, tieBreak: (r: T) => string): Map<string, T> {
  const newest = new Map<string, T>();
  for (const row of rows) {
    const current = newest.get(key(row));
    if (!current || order(row) > order(current) || (order(row) === order(current) && tieBreak(row) > tieBreak(current))) newest.set(key(row), row);
  }
  return newest;
}

/** The SQL of "the latest audit row of each use case for a step", by the time the workflow recorded it. */
function latestAuditSql(q: Q, t: (name: AimoTable) => string): string {
  return `
    SELECT use_case, decision FROM (
      SELECT ${q('use_case')} AS use_case, ${q('decision')} AS decision,
             ROW_NUMBER() OVER (PARTITION BY ${q('use_case')} ORDER BY ${q('recorded_at')} DESC, ${q('workflow_id')} DESC, ${q('seq')} DESC) AS rn
      FROM ${t('audit_log')} WHERE ${q('step')} = @step
    ) latest WHERE rn = 1`;
}

export function createAimoMetrics(warehouse: Warehouse, logger?: Pick<Logger, 'warn'>): AimoMetrics {
  const registry = new Registry();
  const registers = [registry];
  const failures = new Counter({
    name: 'aimo_metrics_collect_failures_total',
    help: 'Scrapes in which a metric family could not be read from the warehouse; that family was left out of the scrape, the others were served',
    labelNames: ['family'],
    registers,
  });
  /** A family's collect callback that leaves the family empty instead of failing the whole scrape. */
  function guarded<M extends { reset(): void }>(family: string, fill: (metric: M) => Promise<void>) {
    return async function collect(this: M): Promise<void> {
      try {
        await fill(this);
      } catch (err) {
        this.reset();
        failures.inc({ family });
        logger?.warn({ family, err: err instanceof Error ? err.message : String(err) }, 'metric family not read from the warehouse');
      }
    };
  }

  type Labels = Record<string, string>;
  /** A gauge whose points are read at each scrape; a point without a value is left out. */
  function gauge(name: string, help: string, labelNames: string[], points: () => Promise<Iterable<readonly [Labels, number | undefined]>>): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect: guarded(name, async (metric: Gauge) => {
        const read = await points();
        metric.reset();
        for (const [labels, value] of read) if (value !== undefined) metric.set(labels, value);
      }),
    });
  }

  const kpiRows = sharedRead(() => read<{ use_case: string; metric: string; baseline: unknown; target: unknown }>(warehouse, latestKpiSql));

  gauge('aimo_kpi_value', "The KPI each use case's latest rollout measured from the data as its baseline (aimo.kpi_specs.baseline), in the metric's own unit", ['use_case', 'metric'], async () =>
    (await kpiRows()).map((r) => [{ use_case: r.use_case, metric: r.metric }, num(r.baseline)] as const),
  );

  gauge('aimo_kpi_target', "The value the latest rollout's goal asks the KPI to reach: baseline × (1 + target change) (aimo.kpi_specs.target)", ['use_case', 'metric'], async () =>
    (await kpiRows()).map((r) => [{ use_case: r.use_case, metric: r.metric }, num(r.target)] as const),
  );

  new Gauge({
    name: 'aimo_champion_auc',
    help: "Holdout AUC of the model version each use case's champion alias serves, as registered (aimo.model_registry.metrics_json.auc)",
    labelNames: ['use_case'],
    registers,
    collect: guarded('aimo_champion_auc', async (metric) => {
      const rows = await read<{ use_case: string; metrics_json: string }>(
        warehouse,
        (q, t) => `SELECT a.${q('use_case')} AS use_case, r.${q('metrics_json')} AS metrics_json
          FROM ${t('model_aliases')} a JOIN ${t('model_registry')} r ON r.${q('version_id')} = a.${q('version_id')}
          WHERE a.${q('alias')} = @alias`,
        { alias: 'champion' },
      );
      metric.reset();
      for (const r of rows) {
        const auc = num(parseJson(r.metrics_json)['auc']);
        if (auc !== undefined) metric.set({ use_case: r.use_case }, auc);
      }
    }),
  });

  // The latest check of the serving champion, by the end of its window (checks stored before it was recorded sort first).
  const driftRows = sharedRead(async () =>
    new Map(
      (
        await read<{ use_case: string; drifted_share: unknown; report_json: string }>(
          warehouse,
          (q, t) => `SELECT use_case, drifted_share, report_json FROM (
            SELECT d.${q('use_case')} AS use_case, d.${q('drifted_share')} AS drifted_share, d.${q('report_json')} AS report_json,
                   ROW_NUMBER() OVER (PARTITION BY d.${q('use_case')}
                                      ORDER BY COALESCE(${warehouse.dialect.jsonText(`d.${q('report_json')}`, ['window', 'to'])}, '') DESC, d.${q('workflow_id')} DESC) AS rn
            FROM ${t('drift_reports')} d JOIN ${t('model_aliases')} a
              ON a.${q('use_case')} = d.${q('use_case')} AND a.${q('alias')} = @alias AND a.${q('version_id')} = d.${q('champion_version')}
          ) latest WHERE rn = 1`,
          { alias: 'champion' },
        )
      ).map((r) => [r.use_case, { ...r, report: parseJson(r.report_json) }] as const),
    ),
  );

  gauge('aimo_drift_drifted_features_ratio', "Share of the champion's features that drifted in its latest drift check (aimo.drift_reports.drifted_share)", ['use_case'], async () =>
    [...(await driftRows())].map(([useCase, r]) => [{ use_case: useCase }, num(r.drifted_share)] as const),
  );

  new Gauge({
    name: 'aimo_drift_worst_feature_psi',
    help: "Population stability index of the feature that moved most (highest PSI) in the champion's latest drift check; the feature is a label",
    labelNames: ['use_case', 'feature'],
    registers,
    collect: guarded('aimo_drift_worst_feature_psi', async (metric) => {
      const latest = await driftRows();
      metric.reset();
      for (const [useCase, r] of latest) {
        const features = Array.isArray(r.report['features']) ? (r.report['features'] as Array<{ feature?: string; kind?: string; psi?: unknown }>) : [];
        let worst: { feature: string; psi: number } | undefined;
        for (const f of features) {
          const psi = num(f.psi);
          if (f.kind === 'prediction' || !f.feature || psi === undefined) continue;
          if (!worst || psi > worst.psi) worst = { feature: f.feature, psi };
        }
        if (worst) metric.set({ use_case: useCase, feature: worst.feature }, worst.psi);
      }
    }),
  });

  gauge('aimo_experiment_state', "1 for the state of each use case's latest experiment, from its latest audited experiment decision (started, ship, no-ship, underpowered, …)", ['use_case', 'state'], async () =>
    (await read<{ use_case: string; decision: string }>(warehouse, latestAuditSql, { step: 'experiment' })).map((r) => [{ use_case: r.use_case, state: r.decision }, 1] as const),
  );

  new Gauge({
    name: 'aimo_experiment_effect',
    help: "The latest experiment readout's absolute effect on conversion (treatment − control), with its confidence interval's bounds (aimo.experiments.readout_json)",
    labelNames: ['use_case', 'bound'],
    registers,
    collect: guarded('aimo_experiment_effect', async (metric) => {
      const rows = await read<{ use_case: string; experiment_id: string; readout_json: string }>(
        warehouse,
        (q, t) => `SELECT ${q('use_case')} AS use_case, ${q('experiment_id')} AS experiment_id, ${q('readout_json')} AS readout_json FROM ${t('experiments')}`,
      );
      const latest = newestBy(
        rows.map((r) => ({ ...r, readout: parseJson(r.readout_json) })),
        (r) => r.use_case,
        (r) => String((r.readout['window'] as { to?: string } | undefined)?.to ?? ''),
        (r) => r.experiment_id,
      );
      metric.reset();
      for (const [useCase, r] of latest) {
        const effect = (r.readout['effect'] ?? {}) as Record<string, unknown>;
        for (const [bound, field] of [['estimate', 'absolute'], ['ci_low', 'ciLow'], ['ci_high', 'ciHigh']] as const) {
          const v = num(effect[field]);
          if (v !== undefined) metric.set({ use_case: useCase, bound }, v);
        }
      }
    }),
  });

  gauge('aimo_canary_state', "1 for the state of each use case's latest canary, from its latest audited canary decision (started, rolled-back, no-live-outcomes, approve, reject)", ['use_case', 'state'], async () =>
    (await read<{ use_case: string; decision: string }>(warehouse, latestAuditSql, { step: 'canary' })).map((r) => [{ use_case: r.use_case, state: r.decision }, 1] as const),
  );

  const llmRows = sharedRead(() =>
    read<{ use_case: string; model: string; calls: unknown; prompt_tokens: unknown; completion_tokens: unknown; cost: unknown }>(
      warehouse,
      (q, t) => `SELECT ${q('use_case')} AS use_case, ${q('model')} AS model, COUNT(*) AS calls,
                        SUM(${q('prompt_tokens')}) AS prompt_tokens, SUM(${q('completion_tokens')}) AS completion_tokens, SUM(${q('cost')}) AS cost
        FROM ${t('llm_usage')} GROUP BY ${q('use_case')}, ${q('model')}`,
    ),
  );

  new Counter({
    name: 'aimo_llm_tokens_total',
    help: 'Tokens of every paid LLM call, one ledger row per attempt (aimo.llm_usage), by prompt or completion',
    labelNames: ['use_case', 'model', 'kind'],
    registers,
    collect: guarded('aimo_llm_tokens_total', async (metric) => {
      const rows = await llmRows();
      metric.reset();
      for (const r of rows) {
        metric.inc({ use_case: r.use_case, model: r.model, kind: 'prompt' }, num(r.prompt_tokens) ?? 0);
        metric.inc({ use_case: r.use_case, model: r.model, kind: 'completion' }, num(r.completion_tokens) ?? 0);
      }
    }),
  });

  new Counter({
    name: 'aimo_llm_cost_total',
    help: "Cost of every paid LLM call at the plan's prices per million tokens, in the currency those prices are given in (aimo.llm_usage.cost)",
    labelNames: ['use_case', 'model'],
    registers,
    collect: guarded('aimo_llm_cost_total', async (metric) => {
      const rows = await llmRows();
      metric.reset();
      for (const r of rows) metric.inc({ use_case: r.use_case, model: r.model }, num(r.cost) ?? 0);
    }),
  });

  new Counter({
    name: 'aimo_alerts_sent_total',
    help: 'Incidents delivered to an alert route, once per incident and route (aimo.alerts_sent), by incident kind',
    labelNames: ['use_case', 'kind'],
    registers,
    collect: guarded('aimo_alerts_sent_total', async (metric) => {
      const rows = await read<{ use_case: string; kind: string; n: unknown }>(
        warehouse,
        (q, t) => `SELECT ${q('use_case')} AS use_case, kind, COUNT(*) AS n FROM (
            SELECT ${q('use_case')}, CASE ${INCIDENT_KINDS.map((_k, i) => `WHEN ${q('incident_id')} LIKE @prefix_${i} THEN @kind_${i}`).join(' ')} ELSE 'other' END AS kind
            FROM ${t('alerts_sent')}
          ) sent GROUP BY ${q('use_case')}, kind`,
        Object.fromEntries(INCIDENT_KINDS.flatMap((k, i) => [[`prefix_${i}`, `${k}-%`], [`kind_${i}`, k]])),
      );
      metric.reset();
      for (const r of rows) metric.inc({ use_case: r.use_case, kind: r.kind }, num(r.n) ?? 0);
    }),
  });

  const labels = (s: StatementStats) => ({ warehouse: s.warehouse, use_case: s.useCase ?? '' });
  const statements = new Counter({
    name: 'aimo_warehouse_statements_total',
    help: 'Statements this process ran in the warehouse, by kind (query: rows came back; execute: DDL or DML) and the use case that asked',
    labelNames: ['warehouse', 'use_case', 'kind'],
    registers,
  });
  const rowsReturned = new Counter({
    name: 'aimo_warehouse_rows_returned_total',
    help: 'Rows the warehouse returned to this process (every driver reports them)',
    labelNames: ['warehouse', 'use_case'],
    registers,
  });
  const rowsChanged = new Counter({
    name: 'aimo_warehouse_rows_changed_total',
    help: 'Rows written, updated or deleted by statements of this process, where the driver reports them (DuckDB; BigQuery and Snowflake for DML)',
    labelNames: ['warehouse', 'use_case'],
    registers,
  });
  const bytesScanned = new Counter({
    name: 'aimo_warehouse_scanned_bytes_total',
    help: "Bytes the warehouse processed for this process's statements, what BigQuery bills (BigQuery only: DuckDB and the Snowflake driver do not report them)",
    labelNames: ['warehouse', 'use_case'],
    registers,
  });
  const stop = onStatement((s) => {
    statements.inc({ ...labels(s), kind: s.kind });
    if (s.rowsReturned !== undefined) rowsReturned.inc(labels(s), s.rowsReturned);
    if (s.rowsChanged !== undefined && s.rowsChanged >= 0) rowsChanged.inc(labels(s), s.rowsChanged);
    if (s.bytesScanned !== undefined) bytesScanned.inc(labels(s), s.bytesScanned);
  });

  return { registry, close: stop };
}

/** The incident kinds whose ids start with their kind (activities/loops/alerts.ts). */
const INCIDENT_KINDS = ['drift', 'jump', 'canary-failed', 'rollback'] as const;

/** The KPI spec of each use case's latest rollout: the one whose baseline window ends last. */
function latestKpiSql(q: Q, t: (name: AimoTable) => string): string {
  return `
    SELECT use_case, metric, baseline, target FROM (
      SELECT ${q('use_case')} AS use_case, ${q('metric')} AS metric, ${q('baseline')} AS baseline, ${q('target')} AS target,
             ROW_NUMBER() OVER (PARTITION BY ${q('use_case')} ORDER BY ${q('window_to')} DESC, ${q('workflow_id')} DESC) AS rn
      FROM ${t('kpi_specs')}
    ) latest WHERE rn = 1`;
}
