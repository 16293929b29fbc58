import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { WORKFLOW_TYPES } from '../../domain/rollout/definitions';
import { aimoStartOptions } from '../../platform/start-options';
import { HttpError } from '../errors';
import type { WebhookSettings } from '../options';
import { validate, type WebhookTrigger } from '../schemas';
import type { Delivery, SignedRoutes } from '../signed-routes';

/** What every route module is given. */
export interface RouteDeps extends WebhookSettings {
  readonly signedRoutes: SignedRoutes;
  /** true once the server began to close */
  readonly isDraining: () => boolean;
}

export type RegisterRoutes = (app: FastifyInstance, deps: RouteDeps) => void;

export interface StartedResponse {
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  readonly uiUrl: string;
}

/** The body as `schema` parses it, or a 400 that names each invalid field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = validate(schema, body);
  if (!result.ok) throw new HttpError(400, `invalid ${what}`, result.problems);
  return result.value;
}

export function webhookTrigger(endpoint: string, delivery: Delivery): WebhookTrigger {
  return { via: 'webhook', endpoint, source: delivery.source, deliveryId: delivery.deliveryId };
}

export function withDeadline<T>(deps: RouteDeps, ms: number, fn: () => Promise<T>): Promise<T> {
  return deps.client.withDeadline(Date.now() + ms, fn);
}

export function workflowUiUrl(deps: RouteDeps, workflowId: string): string {
  return `${deps.uiBaseUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/**
 * Starts by type name with the delivery's deterministic id. USE_EXISTING
 * joins a run still going; REJECT_DUPLICATE refuses a second run after one
 * finished, which we answer with that run. So retries and duplicates of one
 * delivery start exactly one workflow.
 */
export async function startWorkflow(
  deps: RouteDeps,
  workflowType: string,
  start: { workflowId: string; args: unknown[]; useCase: string; summary: string; trigger: WebhookTrigger },
): Promise<StartedResponse> {
  const { workflowId } = start;
  try {
    const handle = await withDeadline(deps, deps.temporalTimeoutMs, () =>
      deps.client.workflow.start(workflowType, aimoStartOptions({ taskQueue: deps.taskQueue, ...start })),
    );
    return { workflowId, runId: handle.firstExecutionRunId, workflowType, uiUrl: workflowUiUrl(deps, workflowId) };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const existing = await withDeadline(deps, deps.temporalTimeoutMs, () => deps.client.workflow.getHandle(workflowId).describe());
    return { workflowId, runId: existing.runId, workflowType: existing.type, uiUrl: workflowUiUrl(deps, workflowId) };
  }
}

const LOOP_WORKFLOW_TYPES = { retrain: WORKFLOW_TYPES.retrain, drift: WORKFLOW_TYPES.drift, rollback: WORKFLOW_TYPES.rollback } as const;

/** A retrain, drift check or rollback: one input naming its use case and trigger; its id is <loop>-<useCase>-<delivery id>. */
export function startLoop(
  deps: RouteDeps,
  loop: keyof typeof LOOP_WORKFLOW_TYPES,
  input: { readonly useCase: string; readonly trigger: WebhookTrigger },
  summary: string,
  delivery: Delivery,
): Promise<StartedResponse> {
  return startWorkflow(deps, LOOP_WORKFLOW_TYPES[loop], {
    workflowId: `${loop}-${input.useCase}-${delivery.deliveryId}`,
    args: [input],
    useCase: input.useCase,
    summary,
    trigger: input.trigger,
  });
}
