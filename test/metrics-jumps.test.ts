import type { DriftResult } from '../domain/loops/results';
import type { JumpCheckResult } from '../domain/loops/jumps';
import { createLogger } from '../platform/logger';
import { appendDays } from '../simulator';
import { upsertAimoRow } from '../store/aimo-tables';
import { createAimoMetrics, type AimoMetrics } from '../store/metrics';
import { startWebhookServer, type WebhookServer } from '../webhooks';
import { driftCheck, jumpCheck } from '../workflows';
import { loopPlan, startLoopBench, type LoopBench } from './support/loop-fixtures';
import { connectToTestServer } from './support/temporal';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { recordHistory } from './support/histories';

/**
 * The daily jump check and aimo's metrics on a living market: two markets
 * alike but for one planted jump (on 2025-08-05 the order feed loses 70 % of
 * the day's orders, so the day's CAC more than triples), grown by days
 * appended after their rollouts; the check runs through a real worker and
 * the metrics are scraped over real HTTP and compared with the warehouse.
 */
const JUMP_DAY = '2025-08-05';
const jumped = 'mj-jumped';
const steady = 'mj-steady';

describe('daily jump check and metrics on a living market', () => {
  let bench: LoopBench;
  let devServer: TestWorkflowEnvironment;
  let metrics: AimoMetrics;
  let server: WebhookServer;

  beforeAll(async () => {
    const plan = (name: string, schema: string) => {
      const p = loopPlan(name, schema, { asOf: '2025-07-19' });
      return { ...p, experiment: { ...p.experiment, startDate: '2025-06-10', shipRule: 'point_estimate_positive' as const } };
    };
    // One market, so a day's paid-search CAC rests on enough new customers to be judged day by day.
    const period = { seed: 5, users: 50_000, markets: ['DE'], startDate: '2025-06-01', days: 60 };
    bench = await startLoopBench(
      [
        { ...period, schema: 'raw_mj_jumped', jump: { date: JUMP_DAY, series: 'orders', factor: 0.3 } },
        { ...period, schema: 'raw_mj_steady' },
      ],
      [plan(jumped, 'raw_mj_jumped'), plan(steady, 'raw_mj_steady')],
    );
    // The market lives on after the rollouts: days are appended past the jump, as the nightly market day does.
    for (const schema of ['raw_mj_jumped', 'raw_mj_steady']) await appendDays(bench.warehouse, { schema, through: '2025-08-06' });
    devServer = await connectToTestServer();
    metrics = createAimoMetrics(bench.warehouse);
    server = await startWebhookServer({
      client: bench.env.client,
      logger: createLogger({ level: 'silent', format: 'json' }),
      taskQueue: bench.loopQueue,
      port: 0,
      secrets: { ci: 'metrics-test-secret' },
      uiBaseUrl: 'http://ui',
      namespace: 'default',
      metrics: metrics.registry,
    });
  }, 900_000);

  afterAll(async () => {
    await server?.close();
    metrics?.close();
    await devServer?.teardown();
    await bench?.teardown();
  });

  const check = (useCase: string, workflowId: string): Promise<JumpCheckResult> =>
    bench.env.client.workflow.execute(jumpCheck, { taskQueue: bench.loopQueue, workflowId, args: [{ useCase }] });
  const jumpAlerts = async (useCase: string) =>
    (await bench.warehouse.query<{ incident_id: string }>(`SELECT incident_id FROM aimo.alerts_sent WHERE use_case = @use_case AND incident_id LIKE 'jump-%' ORDER BY 1`, { use_case: useCase })).map(
      (r) => r.incident_id,
    );
  const jumpsOf = (result: JumpCheckResult) => result.verdicts.filter((v) => v.verdict.verdict === 'jump').map((v) => v.series);

  it('the rollout scheduled the daily jump check next to its other loops', async () => {
    const schedule = await devServer.client.schedule.getHandle(`aimo-${jumped}-jumps`).describe();
    expect(schedule.action).toMatchObject({ workflowType: 'jumpCheck', workflowId: `jumps-${jumped}`, args: [{ useCase: jumped, trigger: { kind: 'schedule', scheduleId: `aimo-${jumped}-jumps` } }] });
  });

  it('a planted jump in the KPI raises exactly one alert, on its day', async () => {
    const result = await check(jumped, 'jumps-mj-jumped-1');
    await recordHistory(bench.env.client, 'jumps-mj-jumped-1', 'jump-check-alert');
    expect(result.day).toBe(JUMP_DAY);
    expect(jumpsOf(result)).toEqual(['kpi']);
    const kpi = result.verdicts.find((v) => v.series === 'kpi')!.verdict;
    expect(kpi).toMatchObject({ verdict: 'jump', direction: 'up', day: JUMP_DAY });
    expect(result.alerted).toEqual([`jump-${jumped}-kpi-${JUMP_DAY}`]);
    expect(await jumpAlerts(jumped)).toEqual([`jump-${jumped}-kpi-${JUMP_DAY}`]);
    // Cost and the model's capture were judged too, and found normal.
    expect(result.verdicts.map((v) => v.series).sort()).toEqual(['cost', 'kpi', 'model-capture']);
    expect(result.verdicts.filter((v) => v.series !== 'kpi').map((v) => v.verdict.verdict)).toEqual(['normal', 'normal']);
  });

  it('the same market without the jump raises none', async () => {
    const result = await check(steady, 'jumps-mj-steady-1');
    await recordHistory(bench.env.client, 'jumps-mj-steady-1', 'jump-check-normal');
    expect(result.day).toBe(JUMP_DAY);
    expect(result.verdicts.map((v) => [v.series, v.verdict.verdict])).toEqual([
      ['kpi', 'normal'],
      ['cost', 'normal'],
      ['model-capture', 'normal'],
    ]);
    expect(result.alerted).toEqual([]);
    expect(await jumpAlerts(steady)).toEqual([]);
  });

  it('a second run of the same day judges the same and alerts no more', async () => {
    const first = await check(jumped, 'jumps-mj-jumped-2');
    const again = await check(jumped, 'jumps-mj-jumped-3');
    expect(again.verdicts).toEqual(first.verdicts);
    expect(again.alerted).toEqual([`jump-${jumped}-kpi-${JUMP_DAY}`]);
    expect(await jumpAlerts(jumped)).toEqual([`jump-${jumped}-kpi-${JUMP_DAY}`]);
  });

  it("serves aimo's metrics at /metrics over HTTP, each value equal to the warehouse's", async () => {
    const drift: DriftResult = await bench.env.client.workflow.execute(driftCheck, { taskQueue: bench.loopQueue, workflowId: 'drift-mj-steady-1', args: [{ useCase: steady, startRetrain: false }] });
    // An LLM ledger of another use case: two paid attempts of one call.
    for (const attempt of [1, 2]) {
      await upsertAimoRow(bench.warehouse, 'llm_usage', {
        prompt_hash: 'h1', use_case: 'mj-content', job_id: 'job-1', day: JUMP_DAY, model: 'gpt-test', attempt,
        prompt_tokens: 100 * attempt, completion_tokens: 10 * attempt, cost: 0.25 * attempt, recorded_at: `${JUMP_DAY}T00:00:0${attempt}Z`,
      });
    }
    // Statements of a use case of their own, so nothing else this process runs counts with them.
    const probe = { useCase: 'mj-probe' };
    await bench.warehouse.execute(`CREATE OR REPLACE TABLE main.mj_probe AS SELECT range AS n FROM range(17)`, {}, probe);
    await bench.warehouse.execute(`INSERT INTO main.mj_probe SELECT range + 100 FROM range(3)`, {}, probe);
    const returned = await bench.warehouse.query(`SELECT n FROM main.mj_probe WHERE n < 5`, {}, probe);

    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const scraped = parseExposition(await response.text());
    const value = (name: string, labels: Record<string, string>) => {
      const found = scraped.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} samples`);
      return found[0]!.value;
    };
    const wh = bench.warehouse;

    for (const useCase of [jumped, steady]) {
      const [kpi] = await wh.query<{ metric: string; baseline: number; target: number }>(`SELECT metric, baseline, target FROM aimo.kpi_specs WHERE use_case = @u`, { u: useCase });
      expect(value('aimo_kpi_value', { use_case: useCase, metric: 'cac' })).toBe(kpi!.baseline);
      expect(value('aimo_kpi_target', { use_case: useCase, metric: 'cac' })).toBe(kpi!.target);
      const [champion] = await wh.query<{ metrics_json: string }>(
        `SELECT r.metrics_json FROM aimo.model_aliases a JOIN aimo.model_registry r ON r.version_id = a.version_id WHERE a.use_case = @u AND a.alias = 'champion'`,
        { u: useCase },
      );
      expect(value('aimo_champion_auc', { use_case: useCase })).toBe((JSON.parse(champion!.metrics_json) as { auc: number }).auc);
      const [experiment] = await wh.query<{ readout_json: string }>(`SELECT readout_json FROM aimo.experiments WHERE use_case = @u`, { u: useCase });
      const effect = (JSON.parse(experiment!.readout_json) as { effect: { absolute: number; ciLow: number; ciHigh: number } }).effect;
      expect(value('aimo_experiment_effect', { use_case: useCase, bound: 'estimate' })).toBe(effect.absolute);
      expect(value('aimo_experiment_effect', { use_case: useCase, bound: 'ci_low' })).toBe(effect.ciLow);
      expect(value('aimo_experiment_effect', { use_case: useCase, bound: 'ci_high' })).toBe(effect.ciHigh);
      const [decided] = await wh.query<{ decision: string }>(`SELECT decision FROM aimo.audit_log WHERE use_case = @u AND step = 'experiment' ORDER BY recorded_at DESC, seq DESC LIMIT 1`, { u: useCase });
      expect(scraped.filter((s) => s.name === 'aimo_experiment_state' && s.labels['use_case'] === useCase)).toEqual([{ name: 'aimo_experiment_state', labels: { use_case: useCase, state: decided!.decision }, value: 1 }]);
    }
    expect(value('aimo_alerts_sent_total', { use_case: jumped, kind: 'jump' })).toBe((await jumpAlerts(jumped)).length);
    expect(scraped.some((s) => s.name === 'aimo_alerts_sent_total' && s.labels['use_case'] === steady)).toBe(false);

    // Drift: the steady champion's one check; the worst feature is the one of highest PSI in the stored report.
    const [report] = await wh.query<{ drifted_share: number; report_json: string }>(`SELECT drifted_share, report_json FROM aimo.drift_reports WHERE use_case = @u`, { u: steady });
    expect(value('aimo_drift_drifted_features_ratio', { use_case: steady })).toBe(report!.drifted_share);
    expect(report!.drifted_share).toBe(drift.driftedShare);
    const features = (JSON.parse(report!.report_json) as { features: Array<{ feature: string; kind: string; psi: number | null }> }).features.filter((f) => f.kind !== 'prediction' && f.psi !== null);
    const worst = features.reduce((a, b) => (b.psi! > a.psi! ? b : a));
    expect(value('aimo_drift_worst_feature_psi', { use_case: steady, feature: worst.feature })).toBe(worst.psi);
    expect(scraped.filter((s) => s.name.startsWith('aimo_drift_') && s.labels['use_case'] === jumped)).toEqual([]);

    const [llm] = await wh.query<{ p: number; c: number; cost: number }>(`SELECT SUM(prompt_tokens) AS p, SUM(completion_tokens) AS c, SUM(cost) AS cost FROM aimo.llm_usage WHERE use_case = 'mj-content'`);
    expect(value('aimo_llm_tokens_total', { use_case: 'mj-content', model: 'gpt-test', kind: 'prompt' })).toBe(llm!.p);
    expect(value('aimo_llm_tokens_total', { use_case: 'mj-content', model: 'gpt-test', kind: 'completion' })).toBe(llm!.c);
    expect(value('aimo_llm_cost_total', { use_case: 'mj-content', model: 'gpt-test' })).toBeCloseTo(llm!.cost, 12);

    // No canary ran: no canary state is made up.
    expect(scraped.filter((s) => s.name === 'aimo_canary_state')).toEqual([]);

    expect(value('aimo_warehouse_rows_returned_total', { warehouse: 'duckdb', use_case: 'mj-probe' })).toBe(returned.length);
    // 17 rows created, 3 inserted
    expect(value('aimo_warehouse_rows_changed_total', { warehouse: 'duckdb', use_case: 'mj-probe' })).toBe(20);
    expect(value('aimo_warehouse_statements_total', { warehouse: 'duckdb', use_case: 'mj-probe', kind: 'query' })).toBe(1);
    expect(value('aimo_warehouse_statements_total', { warehouse: 'duckdb', use_case: 'mj-probe', kind: 'execute' })).toBe(2);
    expect(scraped.filter((s) => s.name === 'aimo_metrics_collect_failures_total')).toEqual([]);

    // Every family says what it is.
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const family of new Set(scraped.map((s) => s.name.replace(/_total$/, '')))) expect(text).toMatch(new RegExp(`^# HELP ${family}(_total)? \\S`, 'm'));
  }, 300_000);
});

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of Prometheus' text exposition format (comments and blank lines skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = raw!.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}
