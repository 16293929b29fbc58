import type { ModelMetrics, ModelVersion } from '../../domain/propensity/results';
import { heartbeat, log } from '@temporalio/activity';
import { evaluateClassifier, evaluateBySegment } from '../../analytics/evaluation';
import { scoreExpression, trainLogisticRegression } from '../../analytics/logistic';
import { type LogisticModel } from '../../domain/stats/logistic';
import { longHash } from '../../domain/naming';
import type { RolloutPlan } from '../../domain/plan';
import { PROPENSITY_FEATURES } from '../../domain/propensity/features';
import type { RolloutContext } from '../../domain/rollout/context';
import { runTable } from '../../domain/rollout/context';
import type { ActivityDependencies } from '../dependencies';
import { stableJson, upsertAimoRow } from '../../store/aimo-tables';
import { stepWarehouse } from '../../store/query-context';
import { NonRetryableError } from '../../domain/errors';



/** A standardised coefficient this large means the likelihood kept rising as it grew: the classes are (nearly) separable. */
const SEPARATION_COEFFICIENT = 15;

/**
 * A model that did not converge must not be registered: its scores are
 * whatever the last iteration left. Separable data (a feature that predicts
 * the label perfectly) is the usual cause when the plan has no L2 penalty.
 */
/**
 * How the baseline model is solved. Converged when no standardised
 * coefficient moves more than 1e-6 in a step, which bounds the distance to
 * the optimum by the same amount (logistic-newton.ts); the steps shrink
 * 50–1000× a pass by then, so the coefficients land within about 1e-9 of
 * it, finer than the 10 significant digits the registry keeps.
 */
export const BASELINE_SOLVER = { maxIterations: 25, tolerance: 1e-6 } as const;

export function assertConverged(model: LogisticModel, l2: number): void {
  if (model.converged) return;
  const [feature, coefficient] = Object.entries(model.coefficients).reduce((a, b) => (Math.abs(b[1]) > Math.abs(a[1]) ? b : a), ['(none)', 0]);
  const separable = Math.abs(coefficient) > SEPARATION_COEFFICIENT || model.trainLogLoss < 1e-3;
  throw new NonRetryableError(
    'ModelNotConverged',
    `the baseline model did not converge in ${model.iterations} iterations (model.l2 = ${l2})` +
      (separable
        ? `: the training data look separable — ${feature} has a standardised coefficient of ${coefficient.toPrecision(3)} and the training log loss is ${model.trainLogLoss.toPrecision(3)}, so some feature predicts the label perfectly (a leak?)`
        : '') +
      `; set model.l2 to a positive penalty (e.g. 1) or remove the feature that leaks the label, then start the rollout again`,
    { iterations: model.iterations, l2, feature, coefficient, trainLogLoss: model.trainLogLoss },
  );
}

function separationFailure(err: unknown, l2: number): unknown {
  if (!(err instanceof NonRetryableError && err.type === 'NotPositiveDefinite')) return err;
  // With saturated probabilities the Hessian vanishes: the same separation, seen one step later.
  return new NonRetryableError(
    'ModelNotConverged',
    `the baseline model could not be fitted (model.l2 = ${l2}): ${err.message}; with l2 = 0 this usually means the training data are separable — set model.l2 to a positive penalty (e.g. 1) or remove the feature that leaks the label`,
  );
}

/** Model versions are named after the use case and (64 bits of) the workflow that trained them. */
export function modelVersionId(useCase: string, workflowId: string): string {
  return `${useCase}-${longHash(workflowId)}`;
}

const round = (v: number) => Number(v.toPrecision(10));

/**
 * The warehouse sums doubles in parallel, so a retried training can differ in
 * the last bits; ten significant digits keep a retry's version (and its
 * scores table) identical, far below any difference that matters.
 */
function roundModel(model: LogisticModel): LogisticModel {
  const coefficients: Record<string, number> = {};
  const standardisation: LogisticModel['standardisation'] = {};
  for (const f of model.features) {
    coefficients[f] = round(model.coefficients[f]!);
    const s = model.standardisation[f]!;
    standardisation[f] = { mean: round(s.mean), std: round(s.std) };
  }
  return { ...model, intercept: round(model.intercept), coefficients, standardisation, trainLogLoss: round(model.trainLogLoss) };
}

export function createModelActivities({ warehouse }: ActivityDependencies) {
  return {
    /**
     * Step 4: trains the propensity baseline in the warehouse, evaluates it on
     * the holdout, scores every user in SQL and registers the version with its
     * lineage. Same inputs, same version row and scores table.
     */
    async trainBaselineModel({ ctx, plan, registeredAt }: { ctx: RolloutContext; plan: RolloutPlan; registeredAt: string }): Promise<ModelVersion> {
      const features = runTable(ctx, 'features');
      const featureNames = [...PROPENSITY_FEATURES];
      // Training, evaluation and scoring carry the rollout's labels and the plan's byte budget.
      const wh = stepWarehouse(warehouse, ctx, plan);
      const trainedModel = await trainLogisticRegression(wh, {
        table: features,
        features: featureNames,
        label: 'label',
        filter: { column: 'split', value: 'train' },
        l2: plan.model.l2,
        ...BASELINE_SOLVER,
      }).catch((err: unknown) => {
        throw separationFailure(err, plan.model.l2);
      });
      assertConverged(trainedModel, plan.model.l2);
      const model = roundModel(trainedModel);
      heartbeat('trained');
      const score = scoreExpression(wh.dialect, model);
      const holdout = { column: 'split', value: 'holdout' };
      const evaluation = await evaluateClassifier(wh, { table: features, filter: holdout, label: 'label', score });
      const fairness = await evaluateBySegment(wh, {
        table: features,
        filter: holdout,
        label: 'label',
        score,
        segment: plan.guardrails.fairnessSegment,
      });
      const versionId = modelVersionId(ctx.useCase, ctx.workflowId);
      const scores = runTable(ctx, 'scores');
      const q = (c: string) => wh.dialect.quote(c);
      await wh.createOrReplaceTableAs(
        scores,
        `SELECT ${q('user_id')}, ${score} AS ${q('score')}, @version_id AS ${q('version_id')} FROM ${wh.dialect.table(features)}`,
        { version_id: versionId },
      );
      const metrics: ModelMetrics = {
        auc: evaluation.auc,
        logLoss: evaluation.logLoss,
        brier: evaluation.brier,
        prevalence: evaluation.prevalence,
        holdoutRows: evaluation.rows,
        calibration: evaluation.calibration,
      };
      const version: ModelVersion = {
        versionId,
        useCase: ctx.useCase,
        features: featureNames,
        model,
        metrics,
        fairness: {
          segment: plan.guardrails.fairnessSegment,
          maxAucGap: fairness.maxAucGap,
          groups: fairness.groups.map((g) => ({ value: g.value, auc: g.auc, rows: g.rows })),
        },
        featuresTable: features,
        scoresTable: scores,
      };
      await upsertAimoRow(warehouse, 'model_registry', {
        version_id: versionId,
        use_case: ctx.useCase,
        workflow_id: ctx.workflowId,
        status: 'registered',
        features_json: JSON.stringify(featureNames),
        model_json: stableJson(model),
        metrics_json: stableJson({ ...metrics, fairness: version.fairness }),
        lineage_json: JSON.stringify({ plan, featuresTable: version.featuresTable, scoresTable: version.scoresTable, workflowId: ctx.workflowId }),
        registered_at: registeredAt,
      });
      log.info('baseline model registered', { versionId, auc: metrics.auc });
      return version;
    },
  };
}
