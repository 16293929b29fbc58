import type { DriftFeatureRow, UseCaseDrift } from '../../domain/loops/results';
import { Context, log } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { computeDrift } from '../../analytics/drift';
import type { DriftThresholds } from '../../domain/drift';
import { NonRetryableError } from '../../domain/errors';
import { PROPENSITY_FEATURES } from '../../domain/propensity/features';
import type { RolloutContext } from '../../domain/rollout/context';
import { storedTableRef, type TableRef } from '../../domain/table-ref';
import { WORKFLOW_TYPES } from '../../domain/rollout/definitions';
import type { ActivityDependencies } from '../dependencies';
import { stableJson, upsertAimoRow } from '../../store/aimo-tables';
import { stepQueryContext } from '../../store/query-context';



export const CATEGORICAL_FEATURES = ['segment', 'device'] as const;

export function createDriftActivities({ warehouse, temporalClient }: ActivityDependencies) {
  return {
    /**
     * Drift of the current window against the champion's training reference,
     * all in SQL: per-feature PSI / KS / Jensen–Shannon, prediction drift on
     * the champion's scores, and the dataset verdict. Recorded per workflow.
     */
    async computeUseCaseDrift(input: {
      ctx: RolloutContext;
      championVersionId: string;
      referenceFeatures: TableRef;
      currentFeatures: TableRef;
      referenceScores: TableRef;
      currentScores: TableRef;
      thresholds: Partial<DriftThresholds>;
      /** The champion plan's byte budget per query (BigQuery) */
      maxBytesScanned?: number;
    }): Promise<UseCaseDrift> {
      const queryContext = stepQueryContext(input.ctx, input.maxBytesScanned);
      const features = await computeDrift(warehouse, {
        reference: { table: storedTableRef(input.referenceFeatures) },
        current: { table: storedTableRef(input.currentFeatures) },
        numericFeatures: [...PROPENSITY_FEATURES],
        categoricalFeatures: [...CATEGORICAL_FEATURES],
        thresholds: input.thresholds,
      }, queryContext);
      const prediction = await computeDrift(warehouse, {
        reference: { table: storedTableRef(input.referenceScores) },
        current: { table: storedTableRef(input.currentScores) },
        prediction: 'score',
        thresholds: input.thresholds,
      }, queryContext);
      const rows: DriftFeatureRow[] = [...features.features, ...prediction.features].map((f) => ({
        feature: f.feature,
        kind: f.kind,
        psi: f.psi ?? null,
        ks: 'ks' in f ? (f.ks ?? null) : null,
        jsDistance: f.jsDistance ?? null,
        drifted: f.drifted,
        reason: f.reason,
      }));
      const predictionDrift = prediction.features.some((f) => f.drifted);
      const result: UseCaseDrift = {
        datasetDrift: features.datasetDrift,
        predictionDrift,
        driftedShare: features.driftedShare,
        driftedFeatures: features.features.filter((f) => f.drifted).map((f) => f.feature),
        features: rows,
        referenceRows: features.referenceRows,
        currentRows: features.currentRows,
      };
      await upsertAimoRow(warehouse, 'drift_reports', {
        workflow_id: input.ctx.workflowId,
        use_case: input.ctx.useCase,
        champion_version: input.championVersionId,
        dataset_drift: result.datasetDrift,
        drifted_share: result.driftedShare,
        report_json: stableJson(result),
      });
      log.info('drift computed', { datasetDrift: result.datasetDrift, drifted: result.driftedFeatures });
      return result;
    },

    /**
     * Starts the retrain for one incident at most once: its workflow id is
     * derived from the incident, a running one is reused and a finished one
     * is not run again, however often the drift is reported.
     */
    async startRetrainOnce({ useCase, incidentKey, asOf, reason }: { useCase: string; incidentKey: string; asOf?: string; reason: string }): Promise<{ workflowId: string; started: boolean }> {
      if (!temporalClient) throw new NonRetryableError('MissingTemporalClient', 'the worker was built without a Temporal client; cannot start a retrain');
      const workflowId = `retrain-${useCase}-incident-${incidentKey}`;
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
          args: [{ useCase, reason, ...(asOf ? { asOf } : {}) }],
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
  };
}
