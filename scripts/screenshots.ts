/**
 * `npm run screenshots`: the pictures in the README, taken from a real run.
 * Starts the embedded stack on free ports with a fresh data folder (so it
 * never touches ./data or a running `npm start`), runs the demo plan with an
 * approval gate before the experiment, and saves with headless Chromium:
 *
 * - docs/screenshots/rollout-details.png: the rollout in the Temporal UI while
 *   it waits at the gate, with its current details;
 * - docs/screenshots/report.png: its report page once it has finished.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approvalUpdate, statusQuery } from '../domain/rollout/definitions';
import type { RolloutResult } from '../domain/rollout/result';
import { rollout } from '../workflows';
import { DEMO_PLAN_PATH } from '../workers/demo';
import { startStack } from '../workers/stack';
import { locateChromium, screenshotRendered } from './chromium';

const OUT = join(__dirname, '..', 'docs', 'screenshots');
const WORKFLOW_ID = 'rollout-paid-search-cac-screenshots';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 300_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function main(): Promise<void> {
  const chromium = locateChromium();
  const dataDir = mkdtempSync(join(tmpdir(), 'aimo-screenshots-'));
  const [temporal, ui, http, metrics, codec] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  Object.assign(process.env, {
    AIMO_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
    AIMO_DEV_SERVER: 'always',
    AIMO_UI_PORT: String(ui),
    AIMO_WEBHOOK_PORT: String(http),
    AIMO_METRICS_PORT: String(metrics),
    AIMO_CODEC_PORT: String(codec),
    AIMO_SIMULATOR_USERS: process.env['AIMO_SIMULATOR_USERS'] ?? '20000',
    AIMO_TASK_QUEUE: 'aimo-screenshots',
    AIMO_LLM_TASK_QUEUE: 'aimo-screenshots-llm',
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
  });
  mkdirSync(OUT, { recursive: true });
  process.stdout.write(`starting the stack in ${dataDir} (Temporal on ${temporal}, UI on ${ui}, HTTP on ${http}); seeding takes a minute or two\n`);
  const stack = await startStack();
  try {
    const plan = { ...(JSON.parse(readFileSync(DEMO_PLAN_PATH, 'utf8')) as Record<string, unknown>), approval: { beforeExperiment: true, timeout: '1 day', onTimeout: 'reject' }, scale: { targets: [], maxConcurrent: 1 } };
    const handle = await stack.client.workflow.start(rollout, { taskQueue: stack.config.taskQueues.main, workflowId: WORKFLOW_ID, args: [plan] });
    await waitFor('the approval gate', async () => ((await handle.query(statusQuery)).state === 'waiting-approval' ? true : undefined));

    // The workflow's User Metadata tab: its current details, the gate's commands included.
    const detailsUrl = `${stack.server.uiUrl}/namespaces/${stack.config.temporal.namespace}/workflows/${WORKFLOW_ID}/${handle.firstExecutionRunId}/user-metadata`;
    const details = join(OUT, 'rollout-details.png');
    await screenshotRendered(chromium, detailsUrl, details, { width: 1600, height: 1180, settleMs: 8000 });
    process.stdout.write(`saved ${details} (${detailsUrl})\n`);

    await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'growth-lead', reason: 'guardrails passed; go ahead with the test' }] });
    const result = (await handle.result()) as RolloutResult;
    if (!result.reportUrl) throw new Error(`the rollout ended ${result.status} without a report URL`);
    const report = join(OUT, 'report.png');
    await screenshotRendered(chromium, result.reportUrl, report, { width: 1180, height: 900, settleMs: 1500, fullPage: true });
    process.stdout.write(`saved ${report} (${result.reportUrl})\n${result.readout?.headline ?? ''}\n`);
  } finally {
    await stack.shutdown('screenshots taken');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
