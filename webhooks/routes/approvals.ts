import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
  type WorkflowHandle,
} from '@temporalio/client';
import { approvalUpdate } from '../../domain/rollout/definitions';
import { HttpError } from '../errors';
import { approvalRequestSchema } from '../schemas';
import { HEADERS } from '../signature';
import { parseBody, withDeadline, workflowUiUrl, type RegisterRoutes, type RouteDeps } from './shared';

/** POST /v1/approvals: a decision at the gate a rollout waits at, applied through the `approval` Update. */
export const registerApprovalRoutes: RegisterRoutes = (app, deps) => {
  deps.signedRoutes.post(app, {
    path: '/v1/approvals',
    summary: 'Approve or reject the gate a rollout waits at',
    description:
      'Runs the `approval` Update on the workflow and answers with its result (200). 404: no such workflow. 409: it is not waiting, or it refused the decision (the message says why). 504: the workflow did not take the decision in time (is a worker running?); a retry with the same delivery id never applies it twice.',
    body: approvalRequestSchema,
    responses: ['200', '400', '401', '404', '409', '413', '504'],
    handler: async (body, d, request, reply) => {
      const { workflowId, ...decision } = parseBody(approvalRequestSchema, body, 'approval');
      const handle = deps.client.workflow.getHandle(workflowId);
      try {
        const result = await withDeadline(deps, deps.approvalTimeoutMs, () =>
          handle.executeUpdate(approvalUpdate, { args: [decision], updateId: `approval-${d.deliveryId}` }),
        );
        request.log.info({ workflowId, decision: decision.decision, by: decision.by, source: d.source }, 'approval applied');
        return reply.code(200).send({ workflowId, result, uiUrl: workflowUiUrl(deps, workflowId) });
      } catch (err) {
        throw await approvalFailure(deps, handle, err);
      }
    },
  });
};

/** Why the Update did not apply, as the answer the sender gets; errors it does not know pass through. */
async function approvalFailure(deps: RouteDeps, handle: WorkflowHandle, err: unknown): Promise<unknown> {
  const { workflowId } = handle;
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause instanceof Error ? err.cause.message : err.message;
    return new HttpError(409, `the workflow refused the decision: ${cause}`);
  }
  if (err instanceof WorkflowNotFoundError) {
    const status = await withDeadline(deps, deps.temporalTimeoutMs, () => handle.describe()).then(
      (desc) => desc.status.name,
      () => undefined,
    );
    if (status) return new HttpError(409, `workflow ${workflowId} is ${status.toLowerCase()}; it is not waiting for a decision`);
    return new HttpError(404, `no workflow ${workflowId} in namespace ${deps.namespace}`);
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || (isGrpcServiceError(err) && err.code === 4) /* DEADLINE_EXCEEDED */) {
    return new HttpError(
      504,
      `workflow ${workflowId} did not take the decision within ${Math.round(deps.approvalTimeoutMs / 1000)} s (is a worker running on task queue ${deps.taskQueue}?); it may still apply it, and a retry with the same ${HEADERS.delivery} never applies it twice`,
    );
  }
  return err;
}
