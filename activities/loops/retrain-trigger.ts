import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { NonRetryableError } from '../../domain/errors';
import { incidentRetrainId, incidentRetrainPrefix } from '../../domain/naming';
import { openWorkflowIds } from '../../platform/open-workflows';
import { WORKFLOW_TYPES } from '../../domain/rollout/definitions';
import type { ActivityDependencies } from '../dependencies';

export function createRetrainTriggerActivities({ temporalClient }: ActivityDependencies) {
  return {
    /**
     * Starts the retrain for one incident at most once: its workflow id is
     * derived from the incident, a running one is reused and a finished one
     * is not run again, however often the drift is reported.
     */
    async startRetrainOnce({ useCase, incidentKey, asOf, waitForData, reason }: { useCase: string; incidentKey: string; asOf?: string; waitForData?: string; reason: string }): Promise<{ workflowId: string; started: boolean }> {
      if (!temporalClient) throw new NonRetryableError('MissingTemporalClient', 'the worker was built without a Temporal client; cannot start a retrain');
      const workflowId = incidentRetrainId(useCase, incidentKey);
      try {
        await temporalClient.workflow.getHandle(workflowId).describe();
        return { workflowId, started: false };
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      try {
        await temporalClient.workflow.start(WORKFLOW_TYPES.retrain, {
          workflowId,
          taskQueue: Context.current().info.taskQueue,
          args: [{ useCase, reason, ...(asOf ? { asOf } : {}), ...(waitForData ? { waitForData } : {}) }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { summary: `Retrain of ${useCase} for incident ${incidentKey}: ${reason}` },
        });
        return { workflowId, started: true };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
        throw err;
      }
    },

    /**
     * The drift incident's retrain of this use case that is still open, if
     * any (other than the asking workflow): it owns the use case's next
     * challenger and canary until it ends, so other retrains defer to it.
     */
    async openIncidentRetrain({ useCase, self }: { useCase: string; self: string }): Promise<{ workflowId?: string }> {
      if (!temporalClient) throw new NonRetryableError('MissingTemporalClient', 'the worker was built without a Temporal client; cannot see which retrains are open');
      const prefix = incidentRetrainPrefix(useCase);
      const open = (await openWorkflowIds(temporalClient, WORKFLOW_TYPES.retrain)).filter((id) => id.startsWith(prefix) && id !== self).sort();
      return open[0] ? { workflowId: open[0] } : {};
    },
  };
}
