import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAimoMetrics } from '../store/metrics';
import { DuckDbWarehouse } from '../warehouse/duckdb';

/** The dashboard and the metrics page name the metrics the registry serves, and no other aimo metric. */
describe("aimo's metrics as the docs and the dashboard name them", () => {
  const read = (path: string) => readFileSync(join(__dirname, '..', path), 'utf8');
  let names: string[];
  let scrape: string;

  beforeAll(async () => {
    const warehouse = await DuckDbWarehouse.open(':memory:');
    const metrics = createAimoMetrics(warehouse);
    names = metrics.registry.getMetricsAsArray().map((m) => m.name);
    // A fresh warehouse: the tables are created and every family scrapes as empty, none fails.
    scrape = await metrics.registry.metrics();
    metrics.close();
    await warehouse.close();
  });

  it('serves every family with HELP and TYPE, and none fails on an empty warehouse', () => {
    for (const name of names) {
      expect(scrape).toMatch(new RegExp(`^# HELP ${name} \\S.{20,}$`, 'm'));
      expect(scrape).toMatch(new RegExp(`^# TYPE ${name} (gauge|counter)$`, 'm'));
    }
    expect(scrape).not.toMatch(/^aimo_metrics_collect_failures_total\{/m);
    expect(names.every((n) => /^aimo_[a-z_]+$/.test(n))).toBe(true);
    expect(names.filter((n) => n.endsWith('_total')).sort()).toEqual(names.filter((n) => scrape.includes(`# TYPE ${n} counter`)).sort());
  });

  it('docs/metrics.md lists every metric, and names none the registry lacks', () => {
    const doc = read('docs/metrics.md');
    const listed = new Set([...doc.matchAll(/^\| `(aimo_[a-z_]+)` \|/gm)].map((m) => m[1]!));
    expect([...listed].sort()).toEqual([...names].sort());
  });

  it('the Grafana dashboard queries only metrics that exist, and shows each use-case family', () => {
    const dashboard = JSON.parse(read('docs/grafana/aimo.json')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(aimo_[a-z_]+)/g)].map((m) => m[1]!)));
    for (const name of used) expect(names).toContain(name);
    for (const family of ['aimo_kpi_value', 'aimo_kpi_target', 'aimo_champion_auc', 'aimo_drift_drifted_features_ratio', 'aimo_drift_worst_feature_psi', 'aimo_experiment_state', 'aimo_experiment_effect', 'aimo_canary_state', 'aimo_llm_tokens_total', 'aimo_llm_cost_total', 'aimo_alerts_sent_total', 'aimo_warehouse_rows_returned_total', 'aimo_warehouse_scanned_bytes_total']) {
      expect(used).toContain(family);
    }
    // The SDK's worker metrics are there too.
    expect(exprs.some((e) => e.includes('temporal_activity_execution_latency_bucket'))).toBe(true);
  });
});
