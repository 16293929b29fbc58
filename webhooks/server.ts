import { randomUUID } from 'node:crypto';
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
  type Client,
} from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { decideAlert, type AlertPolicy, DEFAULT_ALERT_POLICY_TEXT, parseAlertPolicy } from '../config/webhooks';
import { anyRolloutPlanSchema, contentPlanSchema, rolloutPlanSchema } from '../domain/plan';
import type { Logger } from '../platform/logger';
import { aimoStartOptions } from '../platform/start-options';
import { WORKFLOW_TYPES, approvalUpdate, rolloutWorkflowId } from '../domain/rollout/definitions';
import { buildOpenApiDocument, type RouteDoc } from './openapi';
import {
  alertSchema,
  approvalRequestSchema,
  dataLandedSchema,
  rollbackRequestSchema,
  validate,
  type DriftCheckInput,
  type RetrainInput,
  type RollbackInput,
  type WebhookTrigger,
} from './schemas';
import { HEADERS, ReplayGuard, verifySignature } from './signature';

export interface WebhookServerOptions {
  readonly client: Client;
  readonly logger: Logger;
  /** Task queue of the started workflows (AIMO_TASK_QUEUE) */
  readonly taskQueue: string;
  /** 0 picks a free port (tests) */
  readonly port: number;
  /** default 127.0.0.1: expose it on purpose (0.0.0.0 in a container) */
  readonly host?: string;
  /** source → HMAC secret */
  readonly secrets: Readonly<Record<string, string>>;
  /** Temporal UI base, e.g. http://localhost:8233 */
  readonly uiBaseUrl: string;
  readonly namespace: string;
  /** default 256 KiB; larger bodies get 413 */
  readonly maxBodyBytes?: number;
  /** default: DEFAULT_ALERT_POLICY_TEXT */
  readonly alertPolicy?: AlertPolicy;
  /** Replay window for x-aimo-timestamp, default 300 s */
  readonly toleranceSeconds?: number;
  /** How long an approval may wait for the workflow to accept it, default 30 s */
  readonly approvalTimeoutMs?: number;
  /** Deadline of each call to Temporal (start, describe), default 10 s */
  readonly temporalTimeoutMs?: number;
}

export interface WebhookServer {
  /** e.g. http://127.0.0.1:8787 */
  readonly url: string;
  /** Stops accepting, lets requests in flight finish, then returns. The Temporal client stays open (it is the caller's). */
  close(): Promise<void>;
}

export interface StartedResponse {
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  readonly uiUrl: string;
}

const DELIVERY_ID = /^[A-Za-z0-9._-]{1,128}$/;

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly problems?: string[],
  ) {
    super(message);
  }
}

interface Delivery {
  readonly source: string;
  readonly deliveryId: string;
}

type SignedHandler = (body: unknown, delivery: Delivery, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** The server without listening: tests call `listen({ port: 0 })` or `inject`. */
export function buildWebhookServer(options: WebhookServerOptions): FastifyInstance {
  const { client, taskQueue, namespace } = options;
  const log = options.logger.child({ component: 'webhooks' });
  const maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
  const toleranceSeconds = options.toleranceSeconds ?? 300;
  const alertPolicy = options.alertPolicy ?? parseAlertPolicy(DEFAULT_ALERT_POLICY_TEXT).policy;
  const approvalTimeoutMs = options.approvalTimeoutMs ?? 30_000;
  const temporalTimeoutMs = options.temporalTimeoutMs ?? 10_000;
  const uiBaseUrl = options.uiBaseUrl.replace(/\/+$/, '');
  const replays = new ReplayGuard(toleranceSeconds);
  if (Object.keys(options.secrets).length === 0) throw new Error('the webhook server needs at least one source secret');

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // One line per webhook from the onResponse hook below instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxBodyBytes,
    requestTimeout: 60_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    genReqId: () => randomUUID(),
  });
  let draining = false;

  // Keep the exact bytes: the signature covers them, and JSON is parsed only after it verifies.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.message, ...(err.problems ? { problems: err.problems } : {}) });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status === 413) return reply.code(413).send({ error: `the body is larger than ${maxBodyBytes} bytes` });
    if (status === 415) return reply.code(415).send({ error: 'send the body as application/json' });
    if (status < 500) return reply.code(status).send({ error: err.message });
    if (isTemporalUnavailable(err)) {
      request.log.warn({ err }, 'Temporal unavailable');
      return reply.code(503).send({ error: 'Temporal is not reachable right now; nothing was started, retry with the same delivery id' });
    }
    request.log.error({ err }, 'webhook failed');
    return reply.code(500).send({ error: 'internal error; nothing was started unless the workflow link of a retry says otherwise' });
  });

  app.addHook('onResponse', (request, reply, done) => {
    if (request.url.startsWith('/v1/')) {
      request.log.info(
        { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime), source: request.headers[HEADERS.source], delivery: request.headers[HEADERS.delivery] },
        'webhook',
      );
    }
    done();
  });

  const signed =
    (handler: SignedHandler) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const header = (name: string) => {
        const v = request.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const verified = verifySignature({
        secrets: options.secrets,
        source: header(HEADERS.source),
        timestamp: header(HEADERS.timestamp),
        signature: header(HEADERS.signature),
        rawBody,
        toleranceSeconds,
      });
      if (!verified.ok) {
        request.log.warn({ reason: verified.reason, source: header(HEADERS.source) }, 'webhook refused: not authenticated');
        // One message for every cause: senders learn nothing about which sources exist.
        throw new HttpError(401, `unauthenticated: sign the request as described in docs/triggers.md (${publicReason(verified.reason)})`);
      }
      const deliveryId = header(HEADERS.delivery);
      if (!deliveryId || !DELIVERY_ID.test(deliveryId)) {
        throw new HttpError(400, `${HEADERS.delivery} header required: the sender's unique id of this delivery (letters, digits, ".", "_", "-"; at most 128)`);
      }
      if (!replays.check(verified.signature, deliveryId)) {
        // Same bytes, same second, new delivery id: a replayed capture, or a sender re-sending one event under a new id.
        request.log.warn({ source: verified.source, deliveryId }, 'webhook refused: signature reused with another delivery id');
        throw new HttpError(409, `this exact signed request was already accepted under another ${HEADERS.delivery}; nothing was started. To send it again on purpose, sign it anew (new timestamp)`);
      }
      let body: unknown;
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch {
        throw new HttpError(400, 'the body is not valid JSON', ['(body): send one JSON object']);
      }
      return handler(body, { source: verified.source, deliveryId }, request, reply);
    };

  const parse = <T>(schema: z.ZodType<T>, body: unknown, what: string): T => {
    const result = validate(schema, body);
    if (!result.ok) throw new HttpError(400, `invalid ${what}`, result.problems);
    return result.value;
  };

  const uiUrl = (workflowId: string) =>
    `${uiBaseUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;

  const withDeadline = <T>(ms: number, fn: () => Promise<T>) => client.withDeadline(Date.now() + ms, fn);

  /**
   * Starts by type name with the delivery's deterministic id. USE_EXISTING
   * joins a run still going; REJECT_DUPLICATE refuses a second run after one
   * finished, which we answer with that run. So retries and duplicates of one
   * delivery start exactly one workflow.
   */
  async function start(
    workflowType: string,
    workflowId: string,
    args: unknown[],
    meta: { useCase: string; summary: string; trigger: WebhookTrigger },
  ): Promise<StartedResponse> {
    try {
      const handle = await withDeadline(temporalTimeoutMs, () =>
        client.workflow.start(workflowType, aimoStartOptions({ taskQueue, workflowId, args, useCase: meta.useCase, summary: meta.summary, trigger: meta.trigger })),
      );
      return { workflowId, runId: handle.firstExecutionRunId, workflowType, uiUrl: uiUrl(workflowId) };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const existing = await withDeadline(temporalTimeoutMs, () => client.workflow.getHandle(workflowId).describe());
      return { workflowId, runId: existing.runId, workflowType: existing.type, uiUrl: uiUrl(workflowId) };
    }
  }

  const trigger = (endpoint: string, d: Delivery): WebhookTrigger => ({ via: 'webhook', endpoint, source: d.source, deliveryId: d.deliveryId });

  const routes: Array<RouteDoc & { handler: SignedHandler }> = [
    {
      path: '/v1/rollouts',
      summary: 'Start the eight-step rollout of a use case',
      description: 'Body: one rollout plan, as pasted into the Temporal UI: a propensity plan, or a content plan with "kind": "content". Workflow id: rollout-<useCase>-<delivery id>.',
      // Documents both kinds; the handler parses with the schema the workflow uses.
      body: z.union([rolloutPlanSchema, contentPlanSchema]),
      responses: ['202', '400', '401', '413'],
      handler: async (body, d, _req, reply) => {
        const plan = parse(anyRolloutPlanSchema, body, 'rollout plan');
        const k = plan.kpi;
        const summary = `rollout of ${plan.useCase}: ${k.metric} ${k.targetChange > 0 ? '+' : ''}${Math.round(k.targetChange * 1000) / 10} % on ${k.channel}/${k.market} by ${k.deadline} (webhook from ${d.source})`;
        const started = await start(WORKFLOW_TYPES.rollout, rolloutWorkflowId(plan.useCase, d.deliveryId), [plan], {
          useCase: plan.useCase,
          summary,
          trigger: trigger('rollouts', d),
        });
        return reply.code(202).send(started);
      },
    },
    {
      path: '/v1/events/data-landed',
      summary: 'Fresh data landed: retrain the use case',
      description: 'Starts `retrain` with id retrain-<useCase>-<delivery id>.',
      body: dataLandedSchema,
      responses: ['202', '400', '401', '413'],
      handler: async (body, d, _req, reply) => {
        const event = parse(dataLandedSchema, body, 'data-landed event');
        const input: RetrainInput = {
          useCase: event.useCase,
          reason: `${event.table ?? 'data'} landed at ${event.landedAt} (webhook from ${d.source})`.slice(0, 500),
          trigger: { ...trigger('data-landed', d), kind: 'data-landed', ...(event.table ? { table: event.table } : {}), landedAt: event.landedAt },
        };
        const started = await start(WORKFLOW_TYPES.retrain, `retrain-${event.useCase}-${d.deliveryId}`, [input], {
          useCase: event.useCase,
          summary: `retrain of ${event.useCase}: ${event.table ?? 'data'} landed at ${event.landedAt} (webhook from ${d.source})`,
          trigger: input.trigger,
        });
        return reply.code(202).send(started);
      },
    },
    {
      path: '/v1/events/alert',
      summary: 'A monitoring alert: drift check, rollback or nothing, per the alert policy',
      description:
        'The alert policy (AIMO_ALERT_POLICY) maps kind and severity to `driftCheck` (id drift-<useCase>-<delivery id>), `rollback` (id rollback-<useCase>-<delivery id>) or nothing (200 with action "ignore").',
      body: alertSchema,
      responses: ['202', '200', '400', '401', '413'],
      handler: async (body, d, _req, reply) => {
        const alert = parse(alertSchema, body, 'alert');
        const { action, rule } = decideAlert(alertPolicy, alert.kind, alert.severity);
        const what = `${alert.severity} ${alert.kind} alert from ${d.source}${alert.message ? `: ${alert.message.slice(0, 200)}` : ''}`;
        if (action === 'ignore') {
          return reply.code(200).send({
            action: 'ignore',
            reason: rule ? `the alert policy ignores ${alert.kind} from ${rule.minSeverity}` : `no alert policy rule for ${alert.kind} at ${alert.severity}`,
          });
        }
        if (action === 'rollback') {
          const input: RollbackInput = {
            useCase: alert.useCase,
            reason: what,
            by: `alert:${d.source}`,
            trigger: { ...trigger('alert', d), kind: 'alert', alert },
          };
          const started = await start(WORKFLOW_TYPES.rollback, `rollback-${alert.useCase}-${d.deliveryId}`, [input], {
            useCase: alert.useCase,
            summary: `rollback of ${alert.useCase} to the previous good version: ${what}`,
            trigger: input.trigger,
          });
          return reply.code(202).send({ action, ...started });
        }
        const input: DriftCheckInput = { useCase: alert.useCase, trigger: { ...trigger('alert', d), kind: 'alert', alert } };
        const started = await start(WORKFLOW_TYPES.drift, `drift-${alert.useCase}-${d.deliveryId}`, [input], {
          useCase: alert.useCase,
          summary: `drift check of ${alert.useCase}: ${what}`,
          trigger: input.trigger,
        });
        return reply.code(202).send({ action, ...started });
      },
    },
    {
      path: '/v1/approvals',
      summary: 'Approve or reject the gate a rollout waits at',
      description:
        'Runs the `approval` Update on the workflow and answers with its result (200). 404: no such workflow. 409: it is not waiting, or it refused the decision (the message says why). 504: the workflow did not take the decision in time (is a worker running?); a retry with the same delivery id never applies it twice.',
      body: approvalRequestSchema,
      responses: ['200', '400', '401', '404', '409', '413', '504'],
      handler: async (body, d, request, reply) => {
        const { workflowId, ...decision } = parse(approvalRequestSchema, body, 'approval');
        const handle = client.workflow.getHandle(workflowId);
        try {
          const result = await withDeadline(approvalTimeoutMs, () =>
            handle.executeUpdate(approvalUpdate, { args: [decision], updateId: `approval-${d.deliveryId}` }),
          );
          request.log.info({ workflowId, decision: decision.decision, by: decision.by, source: d.source }, 'approval applied');
          return reply.code(200).send({ workflowId, result, uiUrl: uiUrl(workflowId) });
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError) {
            const cause = err.cause instanceof Error ? err.cause.message : err.message;
            throw new HttpError(409, `the workflow refused the decision: ${cause}`);
          }
          if (err instanceof WorkflowNotFoundError) {
            const status = await withDeadline(temporalTimeoutMs, () => handle.describe()).then(
              (desc) => desc.status.name,
              () => undefined,
            );
            if (status) throw new HttpError(409, `workflow ${workflowId} is ${status.toLowerCase()}; it is not waiting for a decision`);
            throw new HttpError(404, `no workflow ${workflowId} in namespace ${namespace}`);
          }
          if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || (isGrpcServiceError(err) && err.code === 4) /* DEADLINE_EXCEEDED */) {
            throw new HttpError(
              504,
              `workflow ${workflowId} did not take the decision within ${Math.round(approvalTimeoutMs / 1000)} s (is a worker running on task queue ${taskQueue}?); it may still apply it, and a retry with the same ${HEADERS.delivery} never applies it twice`,
            );
          }
          throw err;
        }
      },
    },
    {
      path: '/v1/rollbacks',
      summary: 'Roll a use case back to a previous model version',
      description: 'Starts `rollback` with id rollback-<useCase>-<delivery id>.',
      body: rollbackRequestSchema,
      responses: ['202', '400', '401', '413'],
      handler: async (body, d, _req, reply) => {
        const req = parse(rollbackRequestSchema, body, 'rollback');
        const input: RollbackInput = {
          useCase: req.useCase,
          ...(req.toVersion ? { toVersion: req.toVersion } : {}),
          reason: req.reason,
          by: req.by,
          trigger: { ...trigger('rollbacks', d), kind: 'rollback' },
        };
        const started = await start(WORKFLOW_TYPES.rollback, `rollback-${req.useCase}-${d.deliveryId}`, [input], {
          useCase: req.useCase,
          summary: `rollback of ${req.useCase} to ${req.toVersion ?? 'the previous good version'} by ${req.by}: ${req.reason.slice(0, 200)}`,
          trigger: input.trigger,
        });
        return reply.code(202).send(started);
      },
    },
  ];

  for (const route of routes) app.post(route.path, signed(route.handler));

  const openApi = buildOpenApiDocument(routes, { maxBodyBytes, toleranceSeconds });
  app.get('/openapi.json', async () => openApi);

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/readyz', async (_request, reply) => {
    if (draining) return reply.code(503).send({ ready: false, reason: 'shutting down' });
    try {
      await withDeadline(2000, () => client.workflowService.getSystemInfo({}));
      return { ready: true, namespace };
    } catch (err) {
      return reply.code(503).send({ ready: false, reason: `Temporal not reachable: ${err instanceof Error ? err.message : String(err)}` });
    }
  });

  // Draining: answers given after close() began end their connection, so keep-alive sockets do not hold the close open.
  app.addHook('preClose', (done) => {
    draining = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });

  return app;
}

/** Builds, listens and returns the URL and a graceful close. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const app = buildWebhookServer(options);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  options.logger.info({ url, sources: Object.keys(options.secrets) }, 'webhook server listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= app.close().then(() => options.logger.info('webhook server stopped'));
      return closing;
    },
  };
}

function publicReason(reason: string): string {
  // Header-shape problems help a sender fix its code; which sources exist or whether the HMAC matched is not said.
  if (reason.startsWith('unknown source') || reason.startsWith('signature does not match')) return 'unknown source or bad signature';
  return reason;
}

function isTemporalUnavailable(err: unknown): boolean {
  if (isGrpcServiceError(err)) return err.code === 14 || err.code === 4;
  const cause = (err as { cause?: unknown })?.cause;
  return cause !== undefined && cause !== err && isGrpcServiceError(cause) && (cause.code === 14 || cause.code === 4);
}
