import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import type { DriftResult } from '../domain/loops/results';
import type { RolloutResult } from '../domain/rollout/result';
import { createLogger } from '../platform/logger';
import { deleteSchedule, listSchedules } from '../platform/schedules';
import { dumpDom, locateChromium, screenshot } from '../scripts/chromium';
import { createSimulatedMarket } from '../simulator/market';
import { generateContentDataset } from '../simulator/products';
import { loadReport } from '../store/reports';
import { promote } from '../serving/registry';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { startWebhookServer, type WebhookServer } from '../webhooks/server';
import { driftCheck, rollout } from '../workflows';
import { contentPlan, runContentWorkers, startLocalLlmServer, type LocalLlmServer } from './support/content-fixtures';
import { seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { connectToTestServer, createTestWorker, startTimeSkippingServer, uniqueTaskQueue } from './support/temporal';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A plan owner no report may run or break on: markup, a pipe, a control character, an e-mail address. */
const HOSTILE_OWNER = '<script>alert(1)</script> | growth\u0007 jane.doe@example.com';

/** The figures of a page by their data-chart name, each with its inner SVG. */
function figures(dom: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of dom.matchAll(/<figure class="chart" data-chart="([^"]+)"[^>]*>([\s\S]*?)<\/figure>/g)) found.set(m[1]!, m[2]!);
  return found;
}

/** A chart is drawn when its SVG holds marks (paths, lines, symbols) and its title as text. */
function expectDrawn(chart: string | undefined, name: string, title: RegExp): void {
  expect({ name, svg: chart?.includes('<svg') ?? false }).toEqual({ name, svg: true });
  const marks = [...chart!.matchAll(/<g class="mark-(rect|symbol|line|area|rule|tick|text)[^"]*role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/g)].filter((m) => /<(path|line|text)\b/.test(m[2]!));
  expect({ name, marks: marks.length > 0 }).toEqual({ name, marks: true });
  const texts = [...chart!.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!).join('\n');
  expect({ name, title: title.test(texts) }).toEqual({ name, title: true });
}

/**
 * Reports of real runs (a sequential experiment with guardrail metrics, a
 * drift check of its champion, a content rollout with bandits), stored in the
 * warehouse, served by aimo's HTTP server without any webhook secret, and
 * opened in headless Chromium: every chart the run has data for is drawn.
 */
describe('report pages in a real browser', () => {
  let chromium: string;
  let env: TestWorkflowEnvironment;
  let devServer: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let llm: LocalLlmServer;
  let http: WebhookServer;
  let dataDir: string;
  let propensity: RolloutResult;

  beforeAll(async () => {
    chromium = locateChromium();
    [env, devServer, warehouse, llm] = await Promise.all([startTimeSkippingServer(), connectToTestServer(), seededWarehouse(), startLocalLlmServer()]);
    await generateContentDataset(warehouse, { seed: 7 });
    dataDir = tempDataDir();
    http = await startWebhookServer({
      client: env.client,
      logger: createLogger({ level: 'silent' }),
      taskQueue: 'reports-unused',
      port: 0,
      secrets: {},
      uiBaseUrl: 'http://localhost:8233',
      namespace: 'default',
      reports: { load: (workflowId, format) => loadReport(warehouse, workflowId, format) },
    });
  }, 180_000);

  afterAll(async () => {
    await http?.close();
    for (const s of await listSchedules(devServer.client, 'aimo-rpt-')) await deleteSchedule(devServer.client, s.scheduleId);
    await llm?.close();
    await warehouse?.close();
    await devServer?.teardown();
    await env?.teardown();
  });

  const activities = (temporalClient = devServer.client) =>
    createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir, temporalClient, reportBaseUrl: http.url, llm: { baseURL: llm.baseURL, apiKey: 'test-key' } });

  async function run<T>(fn: (taskQueue: string) => Promise<T>, temporalClient = devServer.client): Promise<T> {
    const taskQueue = uniqueTaskQueue('reports');
    const worker = await createTestWorker(env, activities(temporalClient), taskQueue);
    return worker.runUntil(fn(taskQueue));
  }

  it('serves a rollout report whose charts are drawn in Chromium, its first line the readout headline, its owner inert', async () => {
    const demo = testPlan();
    const plan = { ...demo, useCase: 'rpt-seq', owner: HOSTILE_OWNER, experiment: { ...demo.experiment, analysis: 'sequential' as const, startDate: '2026-06-01' } };
    propensity = await run((taskQueue) => env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-rpt-seq-1', args: [plan] }));
    expect(propensity.status).toBe('completed');
    expect(propensity.reportUrl).toBe(`${http.url}/reports/rollout-rpt-seq-1`);
    expect(propensity.readout!.reportUrl).toBe(propensity.reportUrl);

    const response = await fetch(propensity.reportUrl!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'/);

    const dom = await dumpDom(chromium, propensity.reportUrl!);
    const body = /<main>([\s\S]*)<\/main>/.exec(dom)![1]!;
    const headline = /^<p class="headline[^"]*" id="headline">([^<]*)<\/p>/.exec(body);
    expect(headline?.[1]).toBe(propensity.readout!.headline);
    const charts = figures(dom);
    expectDrawn(charts.get('kpi'), 'kpi', /KPI: cac baseline, target and outcome/);
    expectDrawn(charts.get('calibration'), 'calibration', /^Calibration: predicted vs observed$/m);
    expectDrawn(charts.get('gain'), 'gain', /^Cumulative gain$/m);
    expectDrawn(charts.get('lift'), 'lift', /^Lift by score decile$/m);
    expectDrawn(charts.get('effect'), 'effect', /^Experiment effect on conversion/m);
    expectDrawn(charts.get('looks'), 'looks', /^Effect and interval at each sequential look/m);
    expectDrawn(charts.get('guardrail-metrics'), 'guardrail-metrics', /^Guardrail metrics: effect, interval and tolerated limit/m);
    expect(dom).toContain('data-table="guardrail-checks"');
    for (const check of propensity.guardrails!.checks) expect(dom).toContain(`<td>${check.name}</td>`);

    // The owner is text: no element came of it, its e-mail address is masked, in every format.
    expect(dom.match(/<script/g)).toBeNull();
    expect(dom).toContain('&lt;script&gt;alert(1)&lt;/script&gt; | growth j•••@example.com');
    expect(dom).not.toContain('jane.doe');
    const markdown = await (await fetch(`${propensity.reportUrl!}.md`)).text();
    expect(markdown).toContain('- Owner: \\<script\\>alert(1)\\</script\\> \\| growth j•••@example.com');
    // Only backslash-escaped markup is left: a Markdown renderer shows it as text.
    expect(markdown).not.toMatch(/(^|[^\\])<script|jane\.doe/m);
    expect(markdown).not.toContain('\u0007');
    expect(markdown).toContain(`- Report with charts: ${propensity.reportUrl}`);
    const json = (await (await fetch(`${propensity.reportUrl!}.json`)).json()) as RolloutResult;
    expect(json.readout?.headline).toBe(propensity.readout!.headline);
    expect(json.plan.owner).not.toContain('jane.doe');

    // What a person sees: a screenshot of the page with its charts.
    const png = join(dataDir, 'report.png');
    await screenshot(chromium, propensity.reportUrl!, png, { width: 1200, height: 1600 });
    expect(statSync(png).size).toBeGreaterThan(20_000);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  });

  it('answers 404 with a clear message for a workflow without a report', async () => {
    const response = await fetch(`${http.url}/reports/rollout-never-ran`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toMatch(/^no report for workflow "rollout-never-ran": .*npx aimo status rollout-never-ran/);
    // No secret configured: the signed webhook routes are not served at all.
    expect((await fetch(`${http.url}/v1/rollouts`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(404);
  });

  it('gives a drift check its own page: score vs threshold per feature and histograms of the worst ones', async () => {
    expect(propensity?.status).toBe('completed');
    // The experiment decides whether its model ships; the drift check needs a champion either way.
    await promote(warehouse, { useCase: 'rpt-seq', versionId: propensity.model!.versionId, by: 'report test', reason: 'a champion to check', at: '2026-06-01T00:00:00.000Z' });
    const drift: DriftResult = await run(
      (taskQueue) => env.client.workflow.execute(driftCheck, { taskQueue, workflowId: 'drift-rpt-seq-1', args: [{ useCase: 'rpt-seq', startRetrain: false }] }),
      env.client,
    );
    expect(drift.reportUrl).toBe(`${http.url}/reports/drift-rpt-seq-1`);
    const dom = await dumpDom(chromium, drift.reportUrl!);
    expect(/<p class="headline[^"]*" id="headline">(No drift|Drift detected): /.test(dom)).toBe(true);
    const charts = figures(dom);
    expectDrawn(charts.get('drift-scores'), 'drift-scores', /^Drift per feature: score ÷ threshold/m);
    const histograms = [...charts.keys()].filter((k) => k.startsWith('histogram-'));
    expect(histograms.length).toBeGreaterThan(0);
    for (const h of histograms) expectDrawn(charts.get(h), h, new RegExp(`^${h.slice('histogram-'.length)}: reference vs current distribution`, 'm'));
  });

  it("draws a content rollout's bandit allocation and posteriors, each arm's text beside its id", async () => {
    llm.reset();
    const result: RolloutResult = await runContentWorkers(env, activities(env.client), (taskQueue) =>
      env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-rpt-content-1', args: [contentPlan({ useCase: 'rpt-content' })] }),
    );
    expect(result.status).toBe('completed');
    const dom = await dumpDom(chromium, result.reportUrl!);
    const charts = figures(dom);
    for (const b of result.content!.experiments) {
      expectDrawn(charts.get(`allocation-${b.productId}`), `allocation-${b.productId}`, new RegExp(`^Bandit ${b.productId}: traffic allocation per round`, 'm'));
      expectDrawn(charts.get(`posterior-${b.productId}`), `posterior-${b.productId}`, new RegExp(`^Bandit ${b.productId}: posterior click rate per arm`, 'm'));
      const arms = new RegExp(`data-table="arms-${b.productId}"[\\s\\S]*?</table>`).exec(dom)![0];
      for (const a of b.arms) {
        const v = result.content!.variants.find((x) => x.variantId === a.armId)!;
        expect(arms).toContain(`<td><code>${a.armId}</code></td><td>“${v.headline.replace(/&/g, '&amp;')}”`);
      }
    }
  });

  it('writes a report once however often the activity runs: one row per format, the same content', async () => {
    expect(propensity?.status).toBe('completed');
    const { writeRolloutReport } = activities();
    const first = await writeRolloutReport(propensity);
    const again = await writeRolloutReport(propensity);
    expect(again).toEqual(first);
    const rows = await warehouse.query<{ format: string; n: number }>(`SELECT format, COUNT(*) AS n FROM aimo.reports WHERE workflow_id = 'rollout-rpt-seq-1' GROUP BY format ORDER BY format`);
    expect(rows.map((r) => [r.format, Number(r.n)])).toEqual([['html', 1], ['json', 1], ['md', 1]]);
    expect((await loadReport(warehouse, 'rollout-rpt-seq-1', 'md'))!.content).toBe(readFileSync(first.markdownPath, 'utf8'));
  });
});
