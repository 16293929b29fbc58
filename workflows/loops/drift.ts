import type { DriftResult } from '../../domain/loops/results';
import { log } from '@temporalio/workflow';
import { addDaysIso } from '../../domain/dates';
import { driftInputSchema } from '../../domain/loops/inputs';
import { dataActivities, quickActivities } from '../activity-proxies';
import { runDataPath } from '../propensity/data-path';
import { auditTrail, loopContext, parseInput, publish } from './support';


/**
 * The drift loop: rebuilds the champion's features for a recent window,
 * compares them (and the champion's predictions) with the training reference
 * in the warehouse, and on drift alerts once and starts exactly one retrain
 * per incident — an incident being drift against this champion.
 */
export async function driftCheck(input: unknown): Promise<DriftResult> {
  const request = parseInput(driftInputSchema, input, 'drift check');
  const ctx = loopContext(request.useCase);
  const audit = auditTrail(ctx);
  publish(request.useCase, 'drift', 'running', `Drift check of ${request.useCase}`);

  const champion = await quickActivities.loadChampion({ useCase: request.useCase });
  const asOf = request.asOf ?? new Date().toISOString().slice(0, 10);
  const plan = { ...champion.plan, windows: { ...champion.plan.windows, asOf } };
  const models = await runDataPath(ctx, plan);
  const currentFeatures = models.find((m) => m.model === 'features')!.table;
  const currentScores = await dataActivities.scoreWithVersion({ ctx, versionId: champion.versionId, featuresTable: currentFeatures, name: 'drift_scores' });
  const drift = await dataActivities.computeUseCaseDrift({
    ctx,
    championVersionId: champion.versionId,
    referenceFeatures: champion.featuresTable,
    currentFeatures,
    referenceScores: champion.scoresTable,
    currentScores,
    thresholds: request.thresholds,
    maxBytesScanned: plan.guardrails.maxBytesScanned,
  });
  const result: DriftResult = {
    ...drift,
    useCase: request.useCase,
    champion: champion.versionId,
    window: { from: addDaysIso(asOf, -plan.windows.featureDays), to: asOf },
  };
  if (!drift.datasetDrift && !drift.predictionDrift) {
    publish(request.useCase, 'drift', 'no-drift');
    return result;
  }

  const incidentId = `drift-${request.useCase}-${champion.versionId}`;
  log.warn('drift detected', { drifted: drift.driftedFeatures, predictionDrift: drift.predictionDrift });
  await quickActivities.sendAlert({
    id: incidentId,
    useCase: request.useCase,
    kind: 'drift',
    severity: 'warning',
    title: `Drift in ${request.useCase}: ${drift.driftedFeatures.length} feature(s) drifted${drift.predictionDrift ? ', predictions drifted' : ''}`,
    details: { champion: champion.versionId, driftedFeatures: drift.driftedFeatures.join(', '), driftedShare: drift.driftedShare, window: `${result.window.from} – ${result.window.to}` },
    at: new Date().toISOString(),
  });
  await audit('drift', 'drift-detected', `drifted: ${drift.driftedFeatures.join(', ') || 'predictions'}`, 'aimo', { incidentId });
  if (request.startRetrain) {
    const retrain = await quickActivities.startRetrainOnce({
      useCase: request.useCase,
      incidentKey: champion.versionId,
      reason: `drift incident ${incidentId}`,
      ...(request.retrainAsOf ? { asOf: request.retrainAsOf } : {}),
    });
    await audit('drift', retrain.started ? 'retrain-started' : 'retrain-already-started', retrain.workflowId);
    publish(request.useCase, 'drift', 'drift');
    return { ...result, retrain };
  }
  publish(request.useCase, 'drift', 'drift');
  return result;
}
