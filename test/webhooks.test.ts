import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseAlertPolicy, DEFAULT_ALERT_POLICY_TEXT, decideAlert, loadWebhookConfig, WebhookConfigError } from '../config/webhooks';
import { loadConfig } from '../config';
import { driftInputSchema, retrainInputSchema, rollbackInputSchema } from '../domain/loops/inputs';
import { createLogger } from '../platform/logger';
import { postSigned, startWebhookServer, type WebhookServer } from '../webhooks';
import { computeSignature, verifySignature } from '../webhooks/signature';
import { STATUS, STEP, USE_CASE } from '../domain/rollout/definitions';
import { connectToTestServer, uniqueTaskQueue } from './support/temporal';

/**
 * The webhook server over real HTTP against the shared Temporal dev server.
 * Workflows are started by type name on a task queue nobody polls, so each
 * test can see exactly what was (or was not) started without running it.
 */
const SECRET = 'ci-secret-'.padEnd(48, 'x');
const MONITOR_SECRET = 'monitor-secret-'.padEnd(48, 'y');
const silent = createLogger({ level: 'silent', format: 'json' });

function useCase(prefix = 'wh'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

function delivery(): string {
  return `dlv-${randomBytes(8).toString('hex')}`;
}

type JsonObjectSchema = { properties: Record<string, { enum?: string[] }>; required: string[] };

function plan(uc: string, overrides: Record<string, unknown> = {}) {
  return {
    useCase: uc,
    kpi: { metric: 'cac', channel: 'paid_search', market: 'DE', targetChange: -0.15, deadline: '2026-06-30' },
    windows: { asOf: '2026-03-04' },
    ...overrides,
  };
}

describe('webhook server', () => {
  let env: TestWorkflowEnvironment;
  let server: WebhookServer;
  const taskQueue = uniqueTaskQueue('webhooks');
  const started = new Set<string>();

  const post = (path: string, body: unknown, options: { deliveryId?: string; source?: string; secret?: string; timestamp?: number; headers?: Record<string, string | undefined> } = {}) =>
    postSigned(server.url, path, body, {
      source: options.source ?? 'ci',
      secret: options.secret ?? SECRET,
      deliveryId: options.deliveryId ?? delivery(),
      ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    });

  async function exists(workflowId: string): Promise<boolean> {
    try {
      await env.client.workflow.getHandle(workflowId).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  async function startInput(workflowId: string): Promise<unknown> {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
  }

  beforeAll(async () => {
    env = await connectToTestServer();
    server = await startWebhookServer({
      client: env.client,
      logger: silent,
      taskQueue,
      port: 0,
      secrets: { ci: SECRET, monitor: MONITOR_SECRET },
      uiBaseUrl: 'http://ui.example:8233/',
      namespace: env.namespace ?? 'default',
      maxBodyBytes: 16 * 1024,
      approvalTimeoutMs: 1500,
    });
  });

  afterAll(async () => {
    await server?.close();
    await Promise.all([...started].map((id) => env.client.workflow.getHandle(id).terminate('test cleanup').catch(() => undefined)));
    await env?.teardown();
  });

  it('starts one rollout for a signed plan, with search attributes, a memo and the UI link', async () => {
    const uc = useCase();
    const deliveryId = delivery();
    const res = await post('/v1/rollouts', plan(uc), { deliveryId });
    expect(res.status).toBe(202);
    const body = res.body as { workflowId: string; runId: string; workflowType: string; uiUrl: string };
    expect(body.workflowId).toBe(`rollout-${uc}-${deliveryId}`);
    expect(body.workflowType).toBe('rollout');
    expect(body.uiUrl).toBe(`http://ui.example:8233/namespaces/${env.namespace ?? 'default'}/workflows/rollout-${uc}-${deliveryId}`);
    started.add(body.workflowId);

    const desc = await env.client.workflow.getHandle(body.workflowId).describe();
    expect(desc.runId).toBe(body.runId);
    expect(desc.type).toBe('rollout');
    expect(desc.taskQueue).toBe(taskQueue);
    expect(desc.typedSearchAttributes.get(USE_CASE)).toBe(uc);
    expect(desc.typedSearchAttributes.get(STEP)).toBe('start');
    expect(desc.typedSearchAttributes.get(STATUS)).toBe('running');
    expect(desc.memo?.['summary']).toMatch(new RegExp(`^rollout of ${uc}: cac -15 % on paid_search/DE`));
    // The validated plan, with its defaults filled in, is the workflow's one argument.
    const input = (await startInput(body.workflowId)) as { useCase: string; approval: { timeout: string } };
    expect(input.useCase).toBe(uc);
    expect(input.approval.timeout).toBe('3 days');
  });

  it('starts exactly one workflow for 100 concurrent duplicates of one delivery, and none after it finished', async () => {
    const uc = useCase();
    const deliveryId = delivery();
    const body = plan(uc);
    const responses = await Promise.all(Array.from({ length: 100 }, () => post('/v1/rollouts', body, { deliveryId })));
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(202));
    const runIds = new Set(responses.map((r) => (r.body as { runId: string }).runId));
    expect(runIds.size).toBe(1);
    const workflowId = `rollout-${uc}-${deliveryId}`;
    started.add(workflowId);
    expect((await env.client.workflow.getHandle(workflowId).describe()).runId).toBe([...runIds][0]);

    // Visibility is eventually consistent: wait until the run shows, then count every run with this id.
    const countRuns = async () => {
      let n = 0;
      for await (const _ of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) n++;
      return n;
    };
    const until = Date.now() + 10_000;
    while ((await countRuns()) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    expect(await countRuns()).toBe(1);

    // After the run closed, a late retry of the same delivery returns that run instead of starting another.
    await env.client.workflow.getHandle(workflowId).terminate('finished for the test');
    const late = await post('/v1/rollouts', body, { deliveryId });
    expect(late.status).toBe(202);
    expect((late.body as { runId: string }).runId).toBe([...runIds][0]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await countRuns()).toBe(1);
  });

  describe('refuses and starts nothing', () => {
    const cases: Array<[string, number, (uc: string, deliveryId: string) => Promise<{ status: number; body: unknown }>]> = [
      ['a bad signature', 401, (uc, d) => post('/v1/rollouts', plan(uc), { deliveryId: d, secret: 'not-the-secret'.padEnd(40, 'z') })],
      ['a body changed after signing', 401, (uc, d) => post('/v1/rollouts', plan(uc), { deliveryId: d, headers: { 'x-aimo-signature': computeSignature(SECRET, Math.floor(Date.now() / 1000), d, JSON.stringify(plan(`${uc}x`))) } })],
      ['a stale timestamp', 401, (uc, d) => post('/v1/rollouts', plan(uc), { deliveryId: d, timestamp: Math.floor(Date.now() / 1000) - 301 })],
      ['a timestamp from the future', 401, (uc, d) => post('/v1/rollouts', plan(uc), { deliveryId: d, timestamp: Math.floor(Date.now() / 1000) + 400 })],
      ['an unknown source', 401, (uc, d) => post('/v1/rollouts', plan(uc), { deliveryId: d, source: 'stranger' })],
      ["another source's secret", 401, (uc, d) => post('/v1/rollouts', plan(uc), { deliveryId: d, source: 'ci', secret: MONITOR_SECRET })],
      ['a signature for another delivery id', 401, (uc, d) => post('/v1/rollouts', plan(uc), { deliveryId: d, headers: { 'x-aimo-signature': computeSignature(SECRET, Math.floor(Date.now() / 1000), `${d}-other`, JSON.stringify(plan(uc))) } })],
      ['no signature header', 401, (uc, d) => post('/v1/rollouts', plan(uc), { deliveryId: d, headers: { 'x-aimo-signature': undefined } })],
      ['an oversized body', 413, (uc, d) => post('/v1/rollouts', plan(uc, { owner: 'x'.repeat(17 * 1024) }), { deliveryId: d })],
      ['malformed JSON', 400, (uc, d) => post('/v1/rollouts', `{"useCase": "${uc}", "kpi": `, { deliveryId: d })],
      ['no delivery id', 400, (uc, d) => post('/v1/rollouts', plan(uc), { deliveryId: d, headers: { 'x-aimo-delivery': undefined } })],
      ['a body that is not JSON', 415, (uc, d) => post('/v1/rollouts', plan(uc), { deliveryId: d, headers: { 'content-type': 'text/plain' } })],
    ];
    it.each(cases)('%s → %i', async (_name, expected, send) => {
      const uc = useCase();
      const deliveryId = delivery();
      const res = await send(uc, deliveryId);
      expect(res.status).toBe(expected);
      expect(res.body).toEqual(expect.objectContaining({ error: expect.any(String) }));
      expect(await exists(`rollout-${uc}-${deliveryId}`)).toBe(false);
    });

    it('says nothing about which sources exist', async () => {
      const unknown = await post('/v1/rollouts', plan(useCase()), { source: 'stranger' });
      const badSig = await post('/v1/rollouts', plan(useCase()), { secret: 'z'.repeat(40) });
      expect(unknown.body).toEqual(badSig.body);
    });

    it('a captured request replayed with a new delivery id (the delivery id is signed)', async () => {
      const uc = useCase();
      const body = JSON.stringify(plan(uc));
      const timestamp = Math.floor(Date.now() / 1000);
      const first = await post('/v1/rollouts', body, { deliveryId: 'orig-1', timestamp });
      expect(first.status).toBe(202);
      started.add(`rollout-${uc}-orig-1`);
      const captured = computeSignature(SECRET, timestamp, 'orig-1', body);
      const replay = await post('/v1/rollouts', body, { deliveryId: 'forged-2', timestamp, headers: { 'x-aimo-signature': captured } });
      expect(replay.status).toBe(401);
      expect(await exists(`rollout-${uc}-forged-2`)).toBe(false);
    });

    it('tells a sender still signing without the delivery id what changed', async () => {
      const uc = useCase();
      const body = JSON.stringify(plan(uc));
      const timestamp = Math.floor(Date.now() / 1000);
      const legacy = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.`).update(body).digest('hex')}`;
      const res = await post('/v1/rollouts', body, { deliveryId: 'legacy-1', timestamp, headers: { 'x-aimo-signature': legacy } });
      expect(res.status).toBe(401);
      expect((res.body as { error: string }).error).toMatch(/must now cover "<timestamp>\.<delivery id>\.<body>"/);
      expect(await exists(`rollout-${uc}-legacy-1`)).toBe(false);
    });
  });

  it('starts a content rollout for a signed content plan, and names the fields of a bad one', async () => {
    const uc = useCase();
    const content = JSON.parse(readFileSync(join(__dirname, '..', 'plans', 'demo-search-ad-content.json'), 'utf8')) as Record<string, unknown>;
    const deliveryId = delivery();
    const res = await post('/v1/rollouts', { ...content, useCase: uc }, { deliveryId });
    expect(res.status).toBe(202);
    const body = res.body as { workflowId: string; workflowType: string };
    expect(body).toMatchObject({ workflowId: `rollout-${uc}-${deliveryId}`, workflowType: 'rollout' });
    started.add(body.workflowId);
    expect(((await startInput(body.workflowId)) as { kind: string }).kind).toBe('content');

    const bad = await post('/v1/rollouts', { ...content, useCase: uc, content: { ...(content['content'] as object), products: 'all' } }, { deliveryId: delivery() });
    expect(bad.status).toBe(400);
    expect((bad.body as { problems: string[] }).problems.some((p) => p.startsWith('content.products:'))).toBe(true);
  });

  it('answers an invalid plan with 400 and every problem by field path', async () => {
    const uc = useCase();
    const deliveryId = delivery();
    const res = await post('/v1/rollouts', { useCase: 'Bad Name', kpi: { metric: 'cpa', channel: 'paid_search', market: 'de', targetChange: 0, deadline: '2026-06-30' }, windows: {} }, { deliveryId });
    expect(res.status).toBe(400);
    const body = res.body as { error: string; problems: string[] };
    expect(body.error).toBe('invalid rollout plan');
    for (const field of ['useCase:', 'kpi.metric:', 'kpi.market:', 'kpi.targetChange:', 'windows.asOf:']) {
      expect(body.problems.some((p) => p.startsWith(field))).toBe(true);
    }
    expect(await exists(`rollout-${uc}-${deliveryId}`)).toBe(false);
  });

  it('starts a retrain when data lands, with the trigger in its input', async () => {
    const uc = useCase();
    const deliveryId = delivery();
    const res = await post('/v1/events/data-landed', { useCase: uc, table: 'raw.orders', landedAt: '2026-11-28T04:10:00Z' }, { deliveryId });
    expect(res.status).toBe(202);
    const workflowId = `retrain-${uc}-${deliveryId}`;
    started.add(workflowId);
    expect(res.body).toEqual(expect.objectContaining({ workflowId, workflowType: 'retrain' }));
    const desc = await env.client.workflow.getHandle(workflowId).describe();
    expect(desc.type).toBe('retrain');
    expect(desc.typedSearchAttributes.get(USE_CASE)).toBe(uc);
    expect(await startInput(workflowId)).toEqual({
      useCase: uc,
      reason: 'raw.orders landed at 2026-11-28T04:10:00Z (webhook from ci)',
      trigger: { via: 'webhook', endpoint: 'data-landed', source: 'ci', deliveryId, kind: 'data-landed', table: 'raw.orders', landedAt: '2026-11-28T04:10:00Z' },
    });
    expect(retrainInputSchema.safeParse(await startInput(workflowId)).success).toBe(true);
    const bad = await post('/v1/events/data-landed', { useCase: uc, landedAt: 'yesterday', table: 'drop table;' });
    expect(bad.status).toBe(400);
    expect((bad.body as { problems: string[] }).problems).toEqual([expect.stringMatching(/^table:/), expect.stringMatching(/^landedAt:/)]);
  });

  it('routes alerts by the policy: drift check, rollback or nothing', async () => {
    const uc = useCase();
    const drift = await post('/v1/events/alert', { useCase: uc, kind: 'drift', severity: 'warning', message: 'PSI 0.31 on recency' }, { source: 'monitor', secret: MONITOR_SECRET, deliveryId: 'a1' });
    expect(drift.status).toBe(202);
    expect(drift.body).toEqual(expect.objectContaining({ action: 'driftCheck', workflowId: `drift-${uc}-a1`, workflowType: 'driftCheck' }));
    started.add(`drift-${uc}-a1`);
    expect((await env.client.workflow.getHandle(`drift-${uc}-a1`).describe()).type).toBe('driftCheck');
    expect(driftInputSchema.safeParse(await startInput(`drift-${uc}-a1`)).success).toBe(true);

    const critical = await post('/v1/events/alert', { useCase: uc, kind: 'serving-error', severity: 'critical' }, { source: 'monitor', secret: MONITOR_SECRET, deliveryId: 'a2' });
    expect(critical.status).toBe(202);
    expect(critical.body).toEqual(expect.objectContaining({ action: 'rollback', workflowId: `rollback-${uc}-a2` }));
    started.add(`rollback-${uc}-a2`);
    expect(await startInput(`rollback-${uc}-a2`)).toEqual(expect.objectContaining({ useCase: uc, by: 'alert:monitor', reason: 'critical serving-error alert from monitor' }));
    expect(rollbackInputSchema.safeParse(await startInput(`rollback-${uc}-a2`)).success).toBe(true);

    const info = await post('/v1/events/alert', { useCase: uc, kind: 'serving-error', severity: 'warning' }, { source: 'monitor', secret: MONITOR_SECRET, deliveryId: 'a3' });
    expect(info.status).toBe(200);
    expect(info.body).toEqual(expect.objectContaining({ action: 'ignore' }));
    expect(await exists(`rollback-${uc}-a3`)).toBe(false);
    expect(await exists(`drift-${uc}-a3`)).toBe(false);

    const bad = await post('/v1/events/alert', { useCase: uc, kind: 'fire', severity: 'loud' });
    expect(bad.status).toBe(400);
    expect((bad.body as { problems: string[] }).problems).toEqual([expect.stringMatching(/^kind: kind must be one of drift/), expect.stringMatching(/^severity:/)]);
  });

  it('starts a rollback with who and why', async () => {
    const uc = useCase();
    const res = await post('/v1/rollbacks', { useCase: uc, toVersion: 'v-3', reason: 'CTR fell off a cliff', by: 'ana@growth' }, { deliveryId: 'rb-1' });
    expect(res.status).toBe(202);
    started.add(`rollback-${uc}-rb-1`);
    expect(await startInput(`rollback-${uc}-rb-1`)).toEqual(
      expect.objectContaining({ useCase: uc, toVersion: 'v-3', reason: 'CTR fell off a cliff', by: 'ana@growth', trigger: expect.objectContaining({ kind: 'rollback', deliveryId: 'rb-1' }) }),
    );
    const bad = await post('/v1/rollbacks', { useCase: uc, reason: 'x' });
    expect(bad.status).toBe(400);
    expect((bad.body as { problems: string[] }).problems).toEqual(['reason: give a reason of at least 3 characters', expect.stringMatching(/^by:/)]);
  });

  it('answers approvals for missing, finished and unresponsive workflows with 404, 409 and 504', async () => {
    const decision = { decision: 'approve', by: 'ana@growth', reason: 'looks right' };
    const missing = await post('/v1/approvals', { workflowId: `rollout-nope-${delivery()}`, ...decision });
    expect(missing.status).toBe(404);

    const uc = useCase();
    const first = await post('/v1/rollouts', plan(uc), { deliveryId: 'ap-1' });
    const workflowId = (first.body as { workflowId: string }).workflowId;
    started.add(workflowId);
    // Nobody runs this workflow: the decision cannot be taken in time.
    const slow = await post('/v1/approvals', { workflowId, ...decision });
    expect(slow.status).toBe(504);
    expect((slow.body as { error: string }).error).toMatch(/did not take the decision/);

    await env.client.workflow.getHandle(workflowId).terminate('test');
    const finished = await post('/v1/approvals', { workflowId, ...decision });
    expect(finished.status).toBe(409);
    expect((finished.body as { error: string }).error).toMatch(/is terminated; it is not waiting/);

    const invalid = await post('/v1/approvals', { workflowId, decision: 'maybe', by: '' });
    expect(invalid.status).toBe(400);
    expect((invalid.body as { problems: string[] }).problems).toEqual([
      'decision: decision must be "approve" or "reject"',
      'by: say who decides (by)',
      expect.stringMatching(/^reason:/),
    ]);
  });

  it('serves an OpenAPI document generated from the same schemas', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, { post?: { requestBody: { content: { 'application/json': { schema: JsonObjectSchema & { anyOf: JsonObjectSchema[] } } } } } }>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/rollouts', '/v1/events/data-landed', '/v1/events/alert', '/v1/approvals', '/v1/rollbacks', '/healthz', '/readyz']),
    );
    const [planSchema, contentSchema] = doc.paths['/v1/rollouts']!.post!.requestBody.content['application/json'].schema.anyOf;
    expect(contentSchema!.required).toEqual(expect.arrayContaining(['useCase', 'kind', 'kpi', 'content']));
    expect(planSchema!.required).toEqual(expect.arrayContaining(['useCase', 'kpi', 'windows']));
    expect(planSchema!.required).not.toContain('experiment'); // has a default: optional for senders
    expect(Object.keys(planSchema!.properties)).toEqual(expect.arrayContaining(['useCase', 'kpi', 'windows', 'guardrails', 'approval']));
    const approval = doc.paths['/v1/approvals']!.post!.requestBody.content['application/json'].schema;
    expect(approval.properties['decision']!.enum).toEqual(['approve', 'reject']);
    expect(doc.paths['/v1/events/alert']!.post!.requestBody.content['application/json'].schema.properties['kind']!.enum).toContain('serving-error');
  });

  it('reports liveness and readiness', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);

    // A server whose Temporal is gone is alive but not ready.
    const deadClient = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const orphan = await startWebhookServer({ client: deadClient, logger: silent, taskQueue, port: 0, secrets: { ci: SECRET }, uiBaseUrl: 'http://ui', namespace: 'default' });
    try {
      expect((await fetch(`${orphan.url}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${orphan.url}/readyz`);
      expect(notReady.status).toBe(503);
    } finally {
      await orphan.close();
      await deadClient.connection.close();
    }
  });

  it('drains on close: a request in flight gets its answer, new connections are refused', async () => {
    const local = await startWebhookServer({
      client: env.client,
      logger: silent,
      taskQueue,
      port: 0,
      secrets: { ci: SECRET },
      uiBaseUrl: 'http://ui',
      namespace: env.namespace ?? 'default',
      approvalTimeoutMs: 1500,
    });
    const uc = useCase();
    const first = await postSigned(local.url, '/v1/rollouts', plan(uc), { source: 'ci', secret: SECRET, deliveryId: 'drain-1' });
    const workflowId = (first.body as { workflowId: string }).workflowId;
    started.add(workflowId);
    // This approval waits ~1.5 s for a worker that does not exist.
    const inFlight = postSigned(local.url, '/v1/approvals', { workflowId, decision: 'approve', by: 'x', reason: 'drain test' }, { source: 'ci', secret: SECRET, deliveryId: 'drain-2' });
    await new Promise((r) => setTimeout(r, 300));
    const closing = local.close();
    expect((await inFlight).status).toBe(504);
    await closing;
    await expect(fetch(`${local.url}/healthz`)).rejects.toThrow();
  });
});

describe('webhook signature and config', () => {
  it('verifies the documented scheme and bounds the replay window', () => {
    const body = Buffer.from('{"a":1}');
    const now = 1_800_000_000;
    const signature = computeSignature(SECRET, now, 'd1', body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    const check = (over: Partial<Parameters<typeof verifySignature>[0]>) =>
      verifySignature({ secrets: { ci: SECRET }, source: 'ci', timestamp: String(now), signature, deliveryId: 'd1', rawBody: body, toleranceSeconds: 300, nowSeconds: now, ...over });
    expect(check({}).ok).toBe(true);
    expect(check({ nowSeconds: now + 300 }).ok).toBe(true);
    expect(check({ nowSeconds: now + 301 })).toEqual({ ok: false, reason: expect.stringMatching(/more than 300 s/) });
    expect(check({ rawBody: Buffer.from('{"a":2}') })).toEqual({ ok: false, reason: 'signature does not match the body' });
    expect(check({ signature: signature.toUpperCase().replace('SHA256', 'sha256') }).ok).toBe(true);
    expect(check({ signature: 'sha1=abc' }).ok).toBe(false);
    expect(check({ source: 'toString' }).ok).toBe(false);
    // The delivery id is signed: the same signature under another id does not verify.
    expect(check({ deliveryId: 'd2' })).toEqual({ ok: false, reason: 'signature does not match the body' });
    expect(computeSignature(SECRET, now, 'd1', body)).toBe(`sha256=${createHmac('sha256', SECRET).update(`${now}.d1.{"a":1}`).digest('hex')}`);
  });

  it('reads secrets and the alert policy from the environment, naming every problem', () => {
    const config = loadConfig({ AIMO_DATA_DIR: '/tmp/aimo-webhook-config-test', AIMO_HASH_SALT: 'x'.repeat(20) });
    const ok = loadWebhookConfig(config, { AIMO_WEBHOOK_SECRETS: `ci:${SECRET},monitor:${MONITOR_SECRET}`, AIMO_ALERT_POLICY: 'drift=rollback' });
    expect(ok.secrets).toEqual({ ci: SECRET, monitor: MONITOR_SECRET });
    expect(ok.port).toBe(8787);
    expect(ok.host).toBe('127.0.0.1');
    expect(ok.uiBaseUrl).toBe('http://localhost:8233');
    expect(decideAlert(ok.alertPolicy, 'drift', 'info').action).toBe('rollback');

    let error: unknown;
    try {
      loadWebhookConfig(config, { AIMO_WEBHOOK_SECRETS: 'ci:short,Bad Source:' + 'x'.repeat(40), AIMO_WEBHOOK_TOLERANCE_SECONDS: '5', AIMO_ALERT_POLICY: 'drift:loud=driftCheck,fire=rollback' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WebhookConfigError);
    const problems = (error as WebhookConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AIMO_WEBHOOK_TOLERANCE_SECONDS: at least 30/),
        'AIMO_WEBHOOK_SECRETS: the secret of "ci" must have at least 32 characters (e.g. openssl rand -hex 32)',
        expect.stringMatching(/^AIMO_WEBHOOK_SECRETS: entry 2 needs "source:secret"/),
        expect.stringMatching(/^AIMO_ALERT_POLICY: "drift:loud=driftCheck": severity/),
        expect.stringMatching(/^AIMO_ALERT_POLICY: "fire=rollback": kind/),
      ]),
    );
    expect((error as Error).message).not.toContain('short');
    expect(() => loadWebhookConfig(config, {})).toThrow(/AIMO_WEBHOOK_SECRETS: required/);
  });

  it('decides alerts by the most specific rule up to the alert severity', () => {
    const { policy } = parseAlertPolicy(DEFAULT_ALERT_POLICY_TEXT);
    expect(decideAlert(policy, 'kpi-drop', 'warning').action).toBe('driftCheck');
    expect(decideAlert(policy, 'kpi-drop', 'critical').action).toBe('rollback');
    expect(decideAlert(policy, 'serving-error', 'warning').action).toBe('ignore');
    expect(decideAlert(policy, 'drift', 'info').action).toBe('ignore');
  });
});
