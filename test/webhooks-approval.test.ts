import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { RolloutResult } from '../domain/rollout/result';
import type { RolloutStatus } from '../domain/rollout/status';
import { createLogger } from '../platform/logger';
import { deleteSchedule, scheduleIdFor } from '../platform/schedules';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { postSigned, startWebhookServer, type WebhookServer } from '../webhooks';
import { statusQuery } from '../domain/rollout/definitions';
import { connectToTestServer, createTestWorker, uniqueTaskQueue } from './support/temporal';
import { createSimulatedMarket } from '../simulator/market';

/**
 * The approval webhook against the real `rollout` workflow, run by the
 * product's worker on the shared dev server: the rollout waits at its
 * "experiment" gate until a signed approval arrives over HTTP, then finishes.
 * The rollout and its activities are loaded at run time so that, while they
 * are incomplete, this test fails saying exactly what is missing.
 */
const SECRET = 'approvals-secret-'.padEnd(48, 'k');
// Fixed: the model's holdout split is keyed by the use case, so a fixed name gives the same numbers every run.
const useCase = 'wh-approval';

describe('approval webhook with the real rollout', () => {
  let env: TestWorkflowEnvironment;
  let server: WebhookServer | undefined;
  let warehouse: DuckDbWarehouse | undefined;
  let missing: string | undefined;
  let worker: Worker | undefined;
  let fixtures: typeof import('./support/rollout-fixtures') | undefined;
  const taskQueue = uniqueTaskQueue('approval');

  beforeAll(async () => {
    env = await connectToTestServer();
    try {
      const workflows = await import('../workflows');
      if (typeof (workflows as Record<string, unknown>)['rollout'] !== 'function') throw new Error('workflows/index.ts does not export `rollout`');
      const { createActivities } = await import('../activities');
      fixtures = await import('./support/rollout-fixtures');
      warehouse = await fixtures.seededWarehouse(20_000);
      const activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: fixtures.TEST_SALT, dataDir: fixtures.tempDataDir(), temporalClient: env.client });
      worker = await createTestWorker(env, activities, taskQueue);
    } catch (err) {
      missing = err instanceof Error ? err.message.split('\n')[0] : String(err);
    }
    server = await startWebhookServer({
      client: env.client,
      logger: createLogger({ level: 'silent', format: 'json' }),
      taskQueue,
      port: 0,
      secrets: { 'approval-ui': SECRET },
      uiBaseUrl: 'http://ui',
      namespace: env.namespace ?? 'default',
    });
  });

  afterAll(async () => {
    await server?.close();
    await deleteSchedule(env.client, scheduleIdFor(useCase, 'retrain'));
    await deleteSchedule(env.client, scheduleIdFor(useCase, 'drift'));
    await warehouse?.close();
    await env?.teardown();
  });

  const post = (path: string, body: unknown, deliveryId: string) =>
    postSigned(server!.url, path, body, { source: 'approval-ui', secret: SECRET, deliveryId });

  /**
   * The rollout's result, or (when one of its activities keeps failing, so it
   * would retry for minutes) a failure naming the activity and its error.
   */
  async function resultOrDiagnosis(handle: WorkflowHandle): Promise<RolloutResult> {
    const result = handle.result() as Promise<RolloutResult>;
    const until = Date.now() + 150_000;
    for (;;) {
      const settled = await Promise.race([result.then(() => true, () => true), new Promise<false>((r) => setTimeout(() => r(false), 1000))]);
      if (settled) return result;
      const stuck = (await handle.describe()).raw.pendingActivities?.find((a) => (a.attempt ?? 0) >= 3 && a.lastFailure);
      if (stuck || Date.now() > until) {
        await handle.terminate('approval webhook test: the rollout cannot finish');
        throw new Error(
          stuck
            ? `After the approval the rollout cannot finish: activity ${stuck.activityType?.name} fails (attempt ${stuck.attempt}): ${stuck.lastFailure?.message}`
            : 'After the approval the rollout did not finish within 150 s',
        );
      }
    }
  }

  it('lets a waiting rollout finish when a signed approval arrives', async () => {
    if (missing || !worker) {
      throw new Error(`The rollout workflow cannot run yet, so the approval webhook cannot be tested end to end: ${missing}`);
    }
    // The demo plan (its guardrails suit the simulated data), with a gate before a two-second experiment.
    const plan = fixtures!.testPlan({
      useCase,
      approval: { beforeExperiment: true, timeout: '1 hour', onTimeout: 'reject' },
      experiment: { duration: '2 seconds', checkEvery: '1 second', startDate: '2026-04-01', outcomeSource: 'simulator' },
      scale: { targets: [], maxConcurrent: 1 },
    });
    const result = await worker.runUntil(async () => {
      const started = await post('/v1/rollouts', plan, 'appr-start');
      expect(started.status).toBe(202);
      const { workflowId } = started.body as { workflowId: string };
      const handle = env.client.workflow.getHandle(workflowId);

      // Too early: the validator refuses, and the refusal is carried as 409.
      const early = await post('/v1/approvals', { workflowId, decision: 'approve', by: 'ana@growth', reason: 'eager' }, 'appr-early');
      expect(early.status).toBe(409);
      expect((early.body as { error: string }).error).toMatch(/refused the decision: .*not waiting for an approval/);

      const until = Date.now() + 180_000;
      let status: RolloutStatus | undefined;
      while (Date.now() < until) {
        status = await handle.query(statusQuery);
        if (status.state === 'waiting-approval' || status.state === 'failed') break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(status).toEqual(expect.objectContaining({ state: 'waiting-approval', waitingFor: 'approval at the experiment gate' }));

      const wrongGate = await post('/v1/approvals', { workflowId, decision: 'approve', by: 'ana@growth', reason: 'fine by me', gate: 'guardrails' }, 'appr-gate');
      expect(wrongGate.status).toBe(409);
      expect((wrongGate.body as { error: string }).error).toMatch(/waits at the "experiment" gate, not "guardrails"/);

      const approval = { workflowId, decision: 'approve', by: 'ana@growth', reason: 'model and data look right' };
      const approved = await post('/v1/approvals', approval, 'appr-ok');
      expect(approved.status).toBe(200);
      expect(approved.body).toEqual({ workflowId, result: { accepted: true, gate: 'experiment' }, uiUrl: expect.stringContaining(workflowId) });
      // The sender retries the same delivery: same answer, applied once.
      const retried = await post('/v1/approvals', approval, 'appr-ok');
      expect(retried.status).toBe(200);
      expect(retried.body).toEqual(approved.body);

      const finished = await resultOrDiagnosis(handle);
      const late = await post('/v1/approvals', approval, 'appr-late');
      expect(late.status).toBe(409);
      expect((late.body as { error: string }).error).toMatch(/is completed; it is not waiting/);
      return finished;
    });
    expect(result.status).toBe('completed');
    expect(result.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['guardrails', 'experiment']));
    const audit = await warehouse!.query<{ decision: string; actor: string }>(
      `SELECT decision, actor FROM aimo.audit_log WHERE workflow_id = '${result.workflowId}' AND step = 'experiment' AND decision IN ('approve', 'reject') ORDER BY seq`,
    );
    expect(audit).toEqual([{ decision: 'approve', actor: 'ana@growth' }]);
  }, 240_000);
});
