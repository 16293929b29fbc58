import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createLogger } from '../platform/logger';
import { startWebhookServer, type WebhookServer } from '../webhooks';
import { computeSignature, signedHeaders } from '../webhooks/signature';
import { connectToTestServer, uniqueTaskQueue } from './support/temporal';

/**
 * A captured webhook replayed to another replica, or to a restarted server,
 * within the replay window: two webhook server instances share nothing but
 * the Temporal server (the real ephemeral one of the test run), as two
 * replicas behind a load balancer do. Workflows are started on a task queue
 * nobody polls, so what was started is exactly what Temporal holds.
 */
const SECRET = 'replica-secret-'.padEnd(48, 'r');
const silent = createLogger({ level: 'silent', format: 'json' });

describe('webhook replays across replicas and restarts', () => {
  let env: TestWorkflowEnvironment;
  const taskQueue = uniqueTaskQueue('webhook-replicas');
  const servers: WebhookServer[] = [];
  const started = new Set<string>();

  const startReplica = async () => {
    const server = await startWebhookServer({
      client: env.client,
      logger: silent,
      taskQueue,
      port: 0,
      secrets: { ci: SECRET },
      uiBaseUrl: 'http://localhost:8233',
      namespace: env.namespace ?? 'default',
    });
    servers.push(server);
    return server;
  };

  /** Sends exactly these bytes and headers, as a replaying attacker would. */
  const send = async (server: WebhookServer, path: string, body: string, headers: Record<string, string>) => {
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body });
    return { status: response.status, body: (await response.json()) as { workflowId?: string; runId?: string; error?: string } };
  };

  async function exists(workflowId: string): Promise<boolean> {
    try {
      await env.client.workflow.getHandle(workflowId).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /** Every run Temporal holds under this workflow id; visibility lags, so wait until the first shows. */
  async function runsOf(workflowId: string): Promise<number> {
    const count = async () => {
      let n = 0;
      for await (const _ of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) n++;
      return n;
    };
    const until = Date.now() + 10_000;
    while ((await count()) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    return count();
  }

  beforeAll(async () => {
    env = await connectToTestServer();
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all([...started].map((id) => env.client.workflow.getHandle(id).terminate('test cleanup').catch(() => undefined)));
    await env?.teardown();
  });

  it('starts one rollout however often, wherever and whenever a captured request is replayed, and nothing under a forged delivery id', async () => {
    const [a, b] = await Promise.all([startReplica(), startReplica()]);
    const useCase = `replica-${randomBytes(4).toString('hex')}`;
    const body = JSON.stringify({
      useCase,
      kpi: { metric: 'cac', channel: 'paid_search', market: 'DE', targetChange: -0.15, deadline: '2026-06-30' },
      windows: { asOf: '2026-03-04' },
    });
    const deliveryId = `build-${randomBytes(6).toString('hex')}`;
    const captured: Record<string, string> = { ...signedHeaders({ source: 'ci', secret: SECRET, body, deliveryId }) };
    const workflowId = `rollout-${useCase}-${deliveryId}`;
    started.add(workflowId);

    const first = await send(a, '/v1/rollouts', body, captured);
    expect(first.status).toBe(202);
    expect(first.body.workflowId).toBe(workflowId);
    const runId = first.body.runId;

    // The other replica, which never saw it, concurrently with the first one again.
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i % 2 ? a : b, '/v1/rollouts', body, captured)));
    expect(burst.map((r) => r.status)).toEqual(Array(20).fill(202));
    expect(new Set(burst.map((r) => r.body.runId))).toEqual(new Set([runId]));

    // Under a new delivery id the captured signature does not verify, on either replica.
    for (const server of [a, b]) {
      const forgedId = `forged-${randomBytes(4).toString('hex')}`;
      const forged = await send(server, '/v1/rollouts', body, { ...captured, 'x-aimo-delivery': forgedId });
      expect(forged.status).toBe(401);
      expect(await exists(`rollout-${useCase}-${forgedId}`)).toBe(false);
    }

    // A restart: the replica is stopped and a new instance (no memory of anything) takes its place.
    await a.close();
    const restarted = await startReplica();
    const afterRestart = await send(restarted, '/v1/rollouts', body, captured);
    expect(afterRestart.status).toBe(202);
    expect(afterRestart.body.runId).toBe(runId);

    // After the run closed, a replay is still answered with that run, not a second one.
    await env.client.workflow.getHandle(workflowId).terminate('finished for the test');
    const afterClose = await send(b, '/v1/rollouts', body, captured);
    expect(afterClose.status).toBe(202);
    expect(afterClose.body.runId).toBe(runId);
    expect(await runsOf(workflowId)).toBe(1);
  });

  it('starts one retrain for a data-landed event replayed to both replicas, and none for a re-signed copy under a new id without the secret', async () => {
    const [a, b] = await Promise.all([startReplica(), startReplica()]);
    const useCase = `replica-${randomBytes(4).toString('hex')}`;
    const body = JSON.stringify({ useCase, table: 'raw.orders', landedAt: '2026-11-28T04:10:00Z' });
    const deliveryId = `landed-${randomBytes(6).toString('hex')}`;
    const captured: Record<string, string> = { ...signedHeaders({ source: 'ci', secret: SECRET, body, deliveryId }) };
    const workflowId = `retrain-${useCase}-${deliveryId}`;
    started.add(workflowId);

    const [onA, onB] = await Promise.all([send(a, '/v1/events/data-landed', body, captured), send(b, '/v1/events/data-landed', body, captured)]);
    expect([onA.status, onB.status]).toEqual([202, 202]);
    expect(onA.body.runId).toBe(onB.body.runId);

    // A guess at the signature for another delivery id, made with the wrong secret, is refused like any bad signature.
    const guessId = `${deliveryId}-again`;
    const guessed = await send(b, '/v1/events/data-landed', body, {
      ...captured,
      'x-aimo-delivery': guessId,
      'x-aimo-signature': computeSignature('not-the-secret'.padEnd(48, 'z'), captured['x-aimo-timestamp']!, guessId, body),
    });
    expect(guessed.status).toBe(401);
    expect(await exists(`retrain-${useCase}-${guessId}`)).toBe(false);
    expect(await runsOf(workflowId)).toBe(1);
  });
});
