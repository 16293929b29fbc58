/**
 * What a scrape of aimo's /metrics and a daily jump check cost on DuckDB.
 *
 *   npx tsx scripts/bench-metrics.ts [--use-cases 50] [--days 365] [--users 50000] [--scrapes 10]
 *
 * Fills aimo's tables as a year of nightly loops would for that many use
 * cases (one KPI spec, champion, experiment and audit trail each, a drift
 * report per day), then times scrapes of the registry; and it generates a
 * simulated market and times reading its jump check's series (eight weeks)
 * and judging them. Prints one table; asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { kpiAndCostSeries } from '../activities/loops/jump-series';
import { addDaysIso } from '../domain/dates';
import { DEFAULT_JUMP_SETTINGS, detectJump } from '../domain/loops/jumps';
import { checkPlan, type RolloutPlan } from '../domain/plan';
import { generateDataset } from '../simulator';
import { ensureAimoTables } from '../store/aimo-tables';
import { createAimoMetrics } from '../store/metrics';
import { DuckDbWarehouse } from '../warehouse/duckdb';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const LIMITS = { useCases: 1000, days: 3650, users: 1_000_000, scrapes: 100 };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'use-cases': { type: 'string', default: '50' }, days: { type: 'string', default: '365' }, users: { type: 'string', default: '50000' }, scrapes: { type: 'string', default: '10' } } });
  const useCases = Math.min(Number(values['use-cases']), LIMITS.useCases);
  const days = Math.min(Number(values.days), LIMITS.days);
  const users = Math.min(Number(values.users), LIMITS.users);
  const scrapes = Math.min(Number(values.scrapes), LIMITS.scrapes);
  const wh = await DuckDbWarehouse.open(':memory:');
  await ensureAimoTables(wh);

  // A year of bookkeeping: use case k is uc-k; one drift report per day against its champion v-k.
  const features = JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ feature: `f${i}`, kind: 'numeric', psi: i / 100, drifted: false })));
  await wh.execute(`INSERT INTO aimo.kpi_specs SELECT 'r-' || k, 'uc-' || k, 'cac', 'paid_search', 'DE', 30 + k, (30 + k) * 0.85, -0.15, '2027-01-01', '2026-01-01', '2026-02-01', '{}' FROM range(@n) t(k)`, { n: useCases });
  await wh.execute(`INSERT INTO aimo.model_registry SELECT 'v-' || k, 'uc-' || k, 'r-' || k, 'registered', '[]', '{}', '{"auc":0.7' || k || '}', '{}', '2026-02-01' FROM range(@n) t(k)`, { n: useCases });
  await wh.execute(`INSERT INTO aimo.model_aliases SELECT 'uc-' || k, 'champion', 'v-' || k, 'bench', 'bench', '2026-02-01' FROM range(@n) t(k)`, { n: useCases });
  await wh.execute(`INSERT INTO aimo.experiments SELECT 'e-' || k, 'uc-' || k, 'r-' || k, '{"window":{"to":"2026-02-01"},"effect":{"absolute":0.01,"ciLow":0.001,"ciHigh":0.02}}', true FROM range(@n) t(k)`, { n: useCases });
  await wh.execute(
    `INSERT INTO aimo.drift_reports SELECT 'drift-uc-' || k || '-' || d, 'uc-' || k, 'v-' || k, false, 0.1,
       '{"window":{"to":"' || CAST(DATE '2026-02-01' + CAST(d AS INTEGER) AS VARCHAR) || '"},"features":' || @features || '}'
     FROM range(@n) t(k) CROSS JOIN range(@days) s(d)`,
    { n: useCases, days, features },
  );
  await wh.execute(
    `INSERT INTO aimo.audit_log SELECT 'r-' || k, s.seq, 'uc-' || k, s.step, s.decision, 'aimo', '', '{}', '2026-02-0' || s.seq
     FROM range(@n) t(k) CROSS JOIN (VALUES (1, 'experiment', 'started'), (2, 'experiment', 'ship'), (3, 'canary', 'started')) s(seq, step, decision)`,
    { n: useCases },
  );
  await wh.execute(`INSERT INTO aimo.alerts_sent SELECT 'drift-uc-' || k || '-' || d, 'log', 'uc-' || k, '2026-02-01', '{}' FROM range(@n) t(k) CROSS JOIN range(3) s(d)`, { n: useCases });

  const metrics = createAimoMetrics(wh);
  await metrics.registry.metrics();
  const scrapeMs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < scrapes; i++) {
    // Past the registry's shared-read window, so every scrape reads the warehouse as Prometheus' would.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const t0 = performance.now();
    bytes = (await metrics.registry.metrics()).length;
    scrapeMs.push(performance.now() - t0);
  }
  metrics.close();

  const t0 = performance.now();
  await generateDataset(wh, { seed: 5, users, markets: ['DE'], startDate: '2025-06-01', days: 70, schema: 'bench_market' });
  const generateMs = performance.now() - t0;
  const demo = JSON.parse(readFileSync(join(__dirname, '..', 'plans', 'demo-paid-search-cac.json'), 'utf8')) as object;
  const checked = checkPlan({ ...demo, sources: { schema: 'bench_market' } });
  if (!checked.ok) throw new Error(checked.problems.join('; '));
  const plan = checked.plan as RolloutPlan;
  const day = '2025-08-08';
  const seriesMs: number[] = [];
  let judged = '';
  for (let i = 0; i < 5; i++) {
    const t1 = performance.now();
    const series = await kpiAndCostSeries(wh, plan, addDaysIso(day, -7 * DEFAULT_JUMP_SETTINGS.weeks), day);
    judged = series.map((s) => `${s.series}:${detectJump(s.values, day).verdict}`).join(' ');
    seriesMs.push(performance.now() - t1);
  }
  await wh.close();

  const rows = [
    ['use cases in aimo tables', String(useCases)],
    ['drift reports', String(useCases * days)],
    ['scrape, median of ' + scrapes, `${median(scrapeMs).toFixed(1)} ms`],
    ['scrape, slowest', `${Math.max(...scrapeMs).toFixed(1)} ms`],
    ['exposition size', `${(bytes / 1024).toFixed(1)} KiB`],
    [`market generated (${users} users, 70 days)`, `${(generateMs / 1000).toFixed(1)} s`],
    ['KPI and cost series, 8 weeks, median of 5', `${median(seriesMs).toFixed(1)} ms`],
    ['verdicts on ' + day, judged],
  ];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  for (const [k, v] of rows) console.log(`${k!.padEnd(width)}  ${v}`);
}

void main();
