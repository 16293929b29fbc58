import type { DriftResult } from '../../domain/loops/results';
import { log, patched } from '@temporalio/workflow';
import { addDaysIso } from '../../domain/dates';
import type { DriftThresholds } from '../../domain/drift';
import { driftInputSchema, type DriftRequest } from '../../domain/loops/inputs';
import type { LoopWindow } from '../../domain/loops/windows';
import type { ChampionInfo } from '../../domain/loops/results';
import type { RolloutContext } from '../../domain/rollout/context';
import { dataActivities, quickActivities } from '../activity-proxies';
import { runDataPath } from '../propensity/data-path';
import { auditTrail, loopContext, parseInput, publish, stoppedOnStaleData, type AuditTrail } from './support';

/**
 * Checks recorded before this patch took their window end from the clock and
 * their defaults from the workflow code; they replay that way.
 */
const DRIFT_WINDOW_FROM_DATA = 'drift-window-from-data';

/**
 * Checks recorded before this patch started the incident's retrain on the
 * newest window with labels, whose features mostly predate the drift.
 */
const RETRAIN_LEARNS_THE_DRIFT = 'drift-retrain-learns-the-drift';

/** Grace beyond the incident retrain's own window for late data, before it gives up waiting. */
const LATE_DATA_GRACE_DAYS = 7;

/** What one check compares and how: fixed before the first warehouse step. */
interface DriftRun {
  readonly window: DriftResult['window'];
  readonly thresholds: Partial<DriftThresholds>;
  readonly startRetrain: boolean;
}

/**
 * The drift loop: rebuilds the champion's features for a recent window,
 * compares them (and the champion's predictions) with the training reference
 * in the warehouse, and on drift alerts once and starts exactly one retrain
 * per incident — an incident being drift against this champion.
 */
export async function driftCheck(input: unknown): Promise<DriftResult> {
  const fromData = patched(DRIFT_WINDOW_FROM_DATA);
  const request = parseInput(driftInputSchema, input, 'drift check');
  const ctx = loopContext(request.useCase);
  const audit = auditTrail(ctx);
  publish(request.useCase, 'drift', 'running', `Drift check of ${request.useCase}`);

  const champion = await quickActivities.loadChampion({ useCase: request.useCase });
  const run = fromData ? await resolveRun(ctx, input, request, champion, audit) : clockRun(request, champion);
  return assessDrift(ctx, request, champion, run, audit);
}

/** Settings and window resolved by activities, so the history holds them: the window ends where the data does. */
async function resolveRun(ctx: RolloutContext, input: unknown, request: DriftRequest, champion: ChampionInfo, audit: AuditTrail): Promise<DriftRun> {
  const settings = await quickActivities.resolveDriftSettings({ input });
  try {
    const window: LoopWindow = await quickActivities.resolveLoopWindow({ ctx, plan: champion.plan, loop: 'drift', ...(request.asOf ? { asOf: request.asOf } : {}) });
    return { ...settings, window };
  } catch (err) {
    await stoppedOnStaleData(request.useCase, 'drift', audit, err);
    throw err;
  }
}

/** How checks recorded before DRIFT_WINDOW_FROM_DATA ran: today as the window end, the input's defaults as parsed here. */
function clockRun(request: DriftRequest, champion: ChampionInfo): DriftRun {
  // Deliberately the clock: these checks ran so and must replay so. It is workflow time, which the SDK makes deterministic.
  const asOf = request.asOf ?? new Date().toISOString().slice(0, 10);
  // Inputs of that release knew only the four numeric thresholds; the method fields came later and are checked when settings are resolved.
  return { window: { from: addDaysIso(asOf, -champion.plan.windows.featureDays), to: asOf }, thresholds: request.thresholds as DriftRun['thresholds'], startRetrain: request.startRetrain };
}

/**
 * The incident's retrain learns the drifted market: its features start where
 * the window that showed the drift ends (the days inside it are partly from
 * before the drift), and it waits for their labels to land.
 */
function incidentRetrainWindow(request: DriftRequest, champion: ChampionInfo, run: DriftRun): { asOf: string; waitForData: string } {
  const { featureDays, labelDays } = champion.plan.windows;
  return { asOf: request.retrainAsOf ?? addDaysIso(run.window.to, featureDays), waitForData: `${featureDays + labelDays + LATE_DATA_GRACE_DAYS} days` };
}

async function assessDrift(ctx: RolloutContext, request: DriftRequest, champion: ChampionInfo, run: DriftRun, audit: AuditTrail): Promise<DriftResult> {
  const plan = { ...champion.plan, windows: { ...champion.plan.windows, asOf: run.window.to } };
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
    thresholds: run.thresholds,
    window: { from: run.window.from, to: run.window.to },
    maxBytesScanned: plan.guardrails.maxBytesScanned,
  });
  const result: DriftResult = { ...drift, useCase: request.useCase, champion: champion.versionId, window: run.window };
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
  if (run.startRetrain) {
    const retrain = await quickActivities.startRetrainOnce({
      useCase: request.useCase,
      incidentKey: champion.versionId,
      reason: `drift incident ${incidentId}`,
      ...(patched(RETRAIN_LEARNS_THE_DRIFT) ? incidentRetrainWindow(request, champion, run) : request.retrainAsOf ? { asOf: request.retrainAsOf } : {}),
    });
    await audit('drift', retrain.started ? 'retrain-started' : 'retrain-already-started', retrain.workflowId);
    publish(request.useCase, 'drift', 'drift');
    return { ...result, retrain };
  }
  publish(request.useCase, 'drift', 'drift');
  return result;
}
