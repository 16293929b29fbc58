import { randomBytes } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { z } from 'zod';
import { createActivities } from '../activities';
import { approvalDecisionSchema } from '../domain/rollout/approval';
import { approvalUpdate } from '../domain/rollout/definitions';
import { driftInputSchema, retrainInputSchema, rollbackInputSchema } from '../domain/loops/inputs';
import { createLogger } from '../platform/logger';
import { DuckDbWarehouse } from '../warehouse/duckdb';
import { querySignal } from '../warehouse/cancellation';
import type { Warehouse } from '../warehouse/warehouse';
import { postSigned, startWebhookServer, type WebhookServer } from '../webhooks';
import { alertSchema, approvalRequestSchema, dataLandedSchema } from '../webhooks/schemas';
import { driftCheck, retrain, rollback, rollout } from '../workflows';
import { CASES, PLANS } from './support/malformed-corpus';
import { TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { connectToTestServer, createTestWorker, uniqueTaskQueue } from './support/temporal';

/**
 * reliability: the malformed corpus (test/support/malformed-corpus.ts) sent
 * through the real doors — workflow starts as the Temporal UI's form and the
 * CLI make them, Updates to a running rollout, signed webhooks over HTTP.
 * Each is refused naming its field, and nothing is started or written: no
 * activity is scheduled, no Update accepted, no workflow started by a
 * webhook, and the warehouse holds no table at the end.
 */
const SECRET = 'doors-secret-'.padEnd(48, 'x');
const WORKFLOW_DOORS = new Map<z.ZodType, { workflow: typeof retrain | typeof driftCheck | typeof rollback; kind: string }>([
  [retrainInputSchema, { workflow: retrain, kind: 'retrain' }],
  [driftInputSchema, { workflow: driftCheck, kind: 'drift' }],
  [rollbackInputSchema, { workflow: rollback, kind: 'rollback' }],
]);
const WEBHOOK_DOORS = new Map<z.ZodType, string>([
  [rollbackInputSchema, '/v1/rollbacks'],
  [approvalRequestSchema, '/v1/approvals'],
  [dataLandedSchema, '/v1/events/data-landed'],
  [alertSchema, '/v1/events/alert'],
]);

/** The corpus's problem, unanchored: a refusal lists it among its lines, after the workflow's own preface. */
const within = (problem: RegExp) => new RegExp(problem.source.replace(/^\^/, '').replace(/\$$/, '').replace(/^\\\(input\\\)/, '\\((input|body|decision)\\)'));

describe('reliability: the malformed corpus at every door', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let webhooks: WebhookServer;
  const taskQueue = uniqueTaskQueue('doors');
  /** Nobody polls it: a workflow a webhook started would stay there, to be counted. */
  const webhookQueue = uniqueTaskQueue('doors-webhooks');
  const refusals = { workflows: 0, updates: 0, webhooks: 0 };

  beforeAll(async () => {
    [env, warehouse] = await Promise.all([connectToTestServer(), DuckDbWarehouse.open(':memory:')]);
    webhooks = await startWebhookServer({
      client: env.client,
      logger: createLogger({ level: 'silent', format: 'json' }),
      taskQueue: webhookQueue,
      port: 0,
      secrets: { ci: SECRET },
      uiBaseUrl: 'http://ui.example:8233/',
      namespace: env.namespace ?? 'default',
      maxBodyBytes: 256 * 1024,
      approvalTimeoutMs: 1500,
    });
  });

  afterAll(async () => {
    console.log(`reliability: malformed corpus: ${refusals.workflows} workflow starts, ${refusals.updates} Updates and ${refusals.webhooks} webhooks refused; 0 activities scheduled, 0 Updates accepted, 0 workflows started by webhooks, 0 tables written`);
    await webhooks?.close();
    await warehouse?.close();
    await env?.teardown();
  });

  async function scheduledActivities(handle: WorkflowHandle): Promise<number> {
    const history = await handle.fetchHistory();
    return (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes || e.startChildWorkflowExecutionInitiatedEventAttributes).length;
  }

  it('workflow starts (UI form, CLI) and Updates are refused without an activity, and nothing lands in the warehouse', async () => {
    const blocked = new BlockedWarehouse(warehouse);
    const activities = createActivities({ warehouse: blocked, hashSalt: TEST_SALT, dataDir: tempDataDir(), temporalClient: env.client });
    const worker = await createTestWorker(env, activities, taskQueue);
    await worker.runUntil(async () => {
      const starts: Array<{ name: string; workflow: typeof rollout | typeof retrain | typeof driftCheck | typeof rollback; input: unknown; problem: RegExp }> = [
        ...PLANS.map(([name, input, problem]) => ({ name: `plan: ${name}`, workflow: rollout, input, problem })),
        ...CASES.filter(([, schema]) => WORKFLOW_DOORS.has(schema)).map(([name, schema, input, problem]) => ({ name, workflow: WORKFLOW_DOORS.get(schema)!.workflow, input, problem })),
      ];
      for (const start of starts) {
        const workflowId = `doors-${randomBytes(6).toString('hex')}`;
        const handle = await env.client.workflow.start(start.workflow as typeof rollout, { taskQueue, workflowId, args: [start.input as never] }).catch((e: unknown) => e as Error);
        if (handle instanceof Error) {
          // 5000 levels of nesting: the client's JSON payload converter refuses it before anything is sent.
          expect({ name: start.name, refused: handle.name }).toEqual({ name: start.name, refused: 'ValueError' });
          await expect(env.client.workflow.getHandle(workflowId).describe()).rejects.toThrow(/not found/i);
          refusals.workflows++;
          continue;
        }
        const error = await handle.result().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect({ name: start.name, failed: error instanceof WorkflowFailedError }).toEqual({ name: start.name, failed: true });
        const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
        expect({ name: start.name, nonRetryable: cause.nonRetryable, type: cause.type }).toEqual({ name: start.name, nonRetryable: true, type: expect.stringMatching(/^Invalid(Plan|Input)$/) });
        expect(cause.message).toMatch(within(start.problem));
        expect({ name: start.name, activities: await scheduledActivities(handle) }).toEqual({ name: start.name, activities: 0 });
        refusals.workflows++;
      }

      // A running rollout (held at its first warehouse write) refuses every malformed decision before it reaches history.
      const running = await env.client.workflow.start(rollout, { taskQueue, workflowId: `doors-running-${randomBytes(6).toString('hex')}`, args: [testPlan({ useCase: 'doors-running' })] });
      await blocked.reached;
      for (const [name, , input, problem] of CASES.filter(([, s]) => s === approvalDecisionSchema)) {
        const error = await running.executeUpdate(approvalUpdate, { args: [input as never] }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect({ name, refused: error instanceof WorkflowUpdateFailedError }).toEqual({ name, refused: true });
        const cause = (error as WorkflowUpdateFailedError).cause as ApplicationFailure;
        expect({ name, type: cause.type, nonRetryable: cause.nonRetryable }).toEqual({ name, type: 'InvalidApproval', nonRetryable: true });
        expect(cause.message).toMatch(within(problem));
        refusals.updates++;
      }
      const history = await running.fetchHistory();
      expect((history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(0);
      await running.terminate('the corpus is through');
      blocked.release();
    });
    expect(await tablesIn(warehouse)).toEqual([]);
  }, 300_000);

  it('signed webhooks over HTTP answer 400 naming the field, and start nothing', async () => {
    const bodies: Array<{ name: string; path: string; body: unknown; problem: RegExp }> = [
      ...PLANS.map(([name, body, problem]) => ({ name: `plan: ${name}`, path: '/v1/rollouts', body, problem })),
      ...CASES.filter(([, schema]) => WEBHOOK_DOORS.has(schema)).map(([name, schema, body, problem]) => ({ name, path: WEBHOOK_DOORS.get(schema)!, body, problem })),
    ];
    for (const b of bodies) {
      const raw = JSON.stringify(b.body);
      const res = await postSigned(webhooks.url, b.path, raw, { source: 'ci', secret: SECRET, deliveryId: `dlv-${randomBytes(8).toString('hex')}` });
      expect({ name: b.name, status: res.status }).toEqual({ name: b.name, status: 400 });
      const problems = (res.body as { problems?: string[] }).problems ?? [];
      expect({ name: b.name, named: problems.some((p) => within(b.problem).test(p)) ? true : problems }).toEqual({ name: b.name, named: true });
      refusals.webhooks++;
    }
    // Visibility catches up within a second or two; a refused body never gets that far.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await env.client.workflow.count(`TaskQueue = "${webhookQueue}"`)).toEqual({ count: 0, groups: [] });
  }, 120_000);
});

async function tablesIn(warehouse: Warehouse): Promise<string[]> {
  const rows = await warehouse.query<{ name: string }>(`SELECT table_schema || '.' || table_name AS name FROM information_schema.tables ORDER BY 1`);
  return rows.map((r) => r.name);
}

/** Holds every statement until released, then refuses it: a rollout stays running and writes nothing. */
class BlockedWarehouse implements Warehouse {
  private reachedResolve!: () => void;
  readonly reached = new Promise<void>((resolve) => (this.reachedResolve = resolve));
  private releaseGate!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.releaseGate = resolve));

  constructor(private readonly inner: Warehouse) {}

  get dialect() {
    return this.inner.dialect;
  }

  release(): void {
    this.releaseGate();
  }

  private async hold(): Promise<never> {
    this.reachedResolve();
    const signal = querySignal();
    await Promise.race([this.gate, new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true }))]);
    throw new Error('held statement refused: the test is over');
  }

  query: Warehouse['query'] = () => this.hold();
  execute: Warehouse['execute'] = () => this.hold();
  tableExists: Warehouse['tableExists'] = () => this.hold();
  columns: Warehouse['columns'] = () => this.hold();
  createOrReplaceTableAs: Warehouse['createOrReplaceTableAs'] = () => this.hold();
  merge: Warehouse['merge'] = () => this.hold();
  close = () => this.inner.close();
}
