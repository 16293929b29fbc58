import type { CanaryCheck, ChampionInfo, RetrainResult } from '../../domain/loops/results';
import { continueAsNew, patched, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { addDaysIso } from '../../domain/dates';
import { durationToMs } from '../../domain/duration';
import { retrainInputSchema, retrainSettings, type CanaryWatchState, type ResolvedRetrain, type RetrainRequest } from '../../domain/loops/inputs';
import type { LoopWindow } from '../../domain/loops/windows';
import type { RolloutPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import { dataActivities, quickActivities } from '../activity-proxies';
import { runDataPath } from '../propensity/data-path';
import { ApprovalGate } from '../rollout/approval-gate';
import { approvalUpdate } from '../../domain/rollout/definitions';
import { auditTrail, loopContext, parseInput, publish, stoppedOnStaleData, type AuditTrail } from './support';

/**
 * Retrains recorded before this patch took their training cut-off from the
 * clock and their defaults from the workflow code; they replay that way.
 */
const RETRAIN_WINDOW_FROM_DATA = 'retrain-window-from-data';

/**
 * A watch continued as new before the audit sequence was carried had written
 * at most three rows (challenger-better, an approval decision, started); its
 * next run writes after them rather than over them.
 */
const ROWS_BEFORE_CARRIED_SEQUENCE = 3;

/** Retrains recorded before this patch did not look for an open incident retrain to defer to. */
const RETRAIN_DEFERS_TO_INCIDENT = 'retrain-defers-to-incident';

/** How often a retrain that waits for its window's data looks again: data lands daily, so an hour late at most. */
const DATA_POLL_MS = 60 * 60 * 1000;

/** What one retrain runs with, fixed before it trains. */
interface RetrainRun {
  readonly resolved: ResolvedRetrain;
  /** The champion's plan with the training cut-off */
  readonly plan: RolloutPlan;
  /** Absent on the clock path of retrains recorded before RETRAIN_WINDOW_FROM_DATA */
  readonly window?: LoopWindow;
}

/**
 * The retrain loop: a fresh training window → data-quality gate → a
 * challenger → compared with the champion on the same holdout → canary for a
 * watch period, health-checked on live outcomes → promoted in one blue/green
 * switch, or rolled back on its own. A long watch continues as new with all
 * it has gathered, so the history stays small however long it runs.
 */
export async function retrain(input: unknown): Promise<RetrainResult> {
  const fromData = patched(RETRAIN_WINDOW_FROM_DATA);
  const request = parseInput(retrainInputSchema, input, 'retrain');
  const ctx = loopContext(request.useCase);
  const resume = request.resume;
  const audit = auditTrail(ctx, resume ? (resume.auditSeq ?? ROWS_BEFORE_CARRIED_SEQUENCE) : 0);
  const gate = new ApprovalGate((waitingFor) => publish(request.useCase, 'retrain', waitingFor ? 'waiting-approval' : 'running'));
  setHandler(approvalUpdate, (d) => gate.decide(d), { validator: (d) => gate.validate(d) });

  let champion = await quickActivities.loadChampion({ useCase: request.useCase });
  if (resume) {
    // The settings travel with the watch, so a plan edited (or a default changed) mid-watch does not change this canary.
    const resolved = resume.resolved ?? (fromData ? await quickActivities.resolveRetrainSettings({ input, plan: champion.plan }) : clockRun(request, champion).resolved);
    return watchCanary(ctx, request.useCase, resolved, champion.plan, resume, audit);
  }
  if (patched(RETRAIN_DEFERS_TO_INCIDENT)) {
    const open = await quickActivities.openIncidentRetrain({ useCase: request.useCase, self: ctx.workflowId });
    if (open.workflowId) return deferTo(open.workflowId, request.useCase, champion, audit);
  }
  if (fromData && request.waitForData) champion = await waitForData(ctx, request, request.waitForData, champion, audit);
  const run = fromData ? await resolveRun(ctx, input, request, champion, audit) : clockRun(request, champion);
  return trainAndCompare(ctx, request.useCase, champion, run, audit, gate);
}

/** Two challengers cannot share one serving view: while a drift incident's retrain is open, it trains the next one. */
async function deferTo(incidentRetrain: string, useCase: string, champion: ChampionInfo, audit: AuditTrail): Promise<RetrainResult> {
  const reason = `the drift incident's retrain ${incidentRetrain} is still open and trains the next challenger; this retrain trains nothing`;
  await audit('train', 'deferred', reason);
  publish(useCase, 'train', 'deferred');
  return { useCase, outcome: 'deferred', champion: champion.versionId, canaryChecks: [], reason };
}

/**
 * A retrain given a window whose labels have not all landed (a drift
 * incident's, on the days after the drift was seen) waits for them, up to
 * `waitForData`, instead of refusing at once. The champion is read again
 * after a wait: it may have changed meanwhile.
 */
async function waitForData(ctx: RolloutContext, request: RetrainRequest, limit: string, champion: ChampionInfo, audit: AuditTrail): Promise<ChampionInfo> {
  const limitMs = durationToMs(limit);
  let waitedMs = 0;
  for (;;) {
    const window = await quickActivities.loopWindowReady({ ctx, plan: champion.plan, loop: 'retrain', ...(request.asOf ? { asOf: request.asOf } : {}) });
    if (window.ready || waitedMs >= limitMs) break;
    if (waitedMs === 0) {
      await audit('train', 'waiting-for-data', `${window.problem.replace(/\. Load fresh data or pass an earlier asOf$/, '')}; waiting up to ${limit} for it`);
      publish(request.useCase, 'train', 'waiting-for-data', `Retrain of ${request.useCase}: waiting for the data of its window (${request.reason})`);
    }
    const step = Math.min(DATA_POLL_MS, limitMs - waitedMs);
    await sleep(step);
    waitedMs += step;
  }
  return waitedMs > 0 ? quickActivities.loadChampion({ useCase: request.useCase }) : champion;
}

/** Settings and window resolved by activities, so the history holds them: the label window ends where the data does. */
async function resolveRun(ctx: RolloutContext, input: unknown, request: RetrainRequest, champion: ChampionInfo, audit: AuditTrail): Promise<RetrainRun> {
  const resolved = await quickActivities.resolveRetrainSettings({ input, plan: champion.plan });
  try {
    const window = await quickActivities.resolveLoopWindow({ ctx, plan: champion.plan, loop: 'retrain', ...(request.asOf ? { asOf: request.asOf } : {}) });
    return { resolved, window, plan: { ...champion.plan, windows: { ...champion.plan.windows, asOf: window.asOf } } };
  } catch (err) {
    await stoppedOnStaleData(request.useCase, 'train', audit, err);
    throw err;
  }
}

/** How retrains recorded before RETRAIN_WINDOW_FROM_DATA ran: the clock's cut-off, the defaults applied here. */
function clockRun(request: RetrainRequest, champion: ChampionInfo): RetrainRun {
  const asOf = request.asOf ?? addDaysIso(new Date().toISOString().slice(0, 10), -champion.plan.windows.labelDays);
  // These watches continued as new only when Temporal suggested it, so no check count travels with them.
  const resolved = { reason: request.reason, settings: retrainSettings(champion.plan.automation.retrain, request) };
  return { resolved, plan: { ...champion.plan, windows: { ...champion.plan.windows, asOf } } };
}

async function trainAndCompare(ctx: RolloutContext, useCase: string, champion: ChampionInfo, run: RetrainRun, audit: AuditTrail, gate: ApprovalGate): Promise<RetrainResult> {
  const { settings, reason } = run.resolved;
  publish(useCase, 'train', 'running', `Retrain of ${useCase}: ${reason}`);
  const base = { useCase, champion: champion.versionId, canaryChecks: [], ...(run.window ? { window: run.window } : {}) };

  const models = await runDataPath(ctx, run.plan);
  const failed = models.flatMap((m) => m.expectations.filter((e) => !e.success).map((e) => `${m.model}.${e.name}`));
  if (failed.length > 0) {
    await audit('data-quality', 'stopped', `failed expectations: ${failed.join(', ')}`);
    publish(useCase, 'data-quality', 'failed');
    return { ...base, outcome: 'data-quality-failed', reason: `failed expectations: ${failed.join(', ')}` };
  }
  // Both outcomes in the training and holdout rows, before any statistic is computed on them.
  if (run.window) await quickActivities.checkTrainingWindow({ ctx, plan: run.plan, window: run.window });

  const challenger = await dataActivities.trainBaselineModel({ ctx, plan: run.plan, registeredAt: new Date().toISOString() });
  await quickActivities.setModelAlias({ useCase, alias: 'challenger', versionId: challenger.versionId, by: ctx.workflowId, reason, at: new Date().toISOString() });
  const comparison = await dataActivities.compareWithChampion({ challenger, championVersionId: champion.versionId });
  const guardrails = await dataActivities.evaluateGuardrails({ ctx, plan: run.plan, dataPath: models, model: challenger });
  const better = comparison.challengerAuc >= comparison.championAuc + settings.promotionMargin;
  const withChallenger = { ...base, challenger: challenger.versionId, comparison };
  if (!better || !guardrails.passed) {
    const why = !better
      ? `challenger AUC ${comparison.challengerAuc.toFixed(4)} does not beat champion ${comparison.championAuc.toFixed(4)} by ${settings.promotionMargin}`
      : `guardrails failed: ${guardrails.checks.filter((c) => !c.passed).map((c) => c.name).join(', ')}`;
    await quickActivities.markModelVersion({ versionId: challenger.versionId, status: 'rejected' });
    await audit('compare', 'kept-champion', why);
    publish(useCase, 'compare', 'kept-champion');
    return { ...withChallenger, outcome: 'kept-champion', reason: why };
  }
  await audit('compare', 'challenger-better', `challenger AUC ${comparison.challengerAuc.toFixed(4)} vs champion ${comparison.championAuc.toFixed(4)}`);

  if (settings.approval) {
    const decision = await gate.wait('canary', durationToMs(settings.approvalTimeout), 'reject');
    await audit('canary', decision.decision, decision.reason, decision.by);
    if (decision.decision === 'reject') {
      await quickActivities.markModelVersion({ versionId: challenger.versionId, status: 'rejected' });
      return { ...withChallenger, outcome: 'rejected', reason: `rejected by ${decision.by}: ${decision.reason}` };
    }
  }

  await quickActivities.startCanaryServing({ useCase, championVersionId: champion.versionId, challengerVersionId: challenger.versionId, share: settings.canary.share });
  await audit('canary', 'started', `${Math.round(settings.canary.share * 100)} % of users served by ${challenger.versionId}`);
  const liveFrom = addDaysIso(run.plan.windows.asOf, run.plan.windows.labelDays);
  const watch: CanaryWatchState = { challenger: challenger.versionId, champion: champion.versionId, liveFrom, watchedMs: 0, comparison, ...(run.window ? { window: run.window } : {}) };
  return watchCanary(ctx, useCase, run.resolved, champion.plan, watch, audit);
}

/**
 * The canary watch: a health check every checkEvery until the watch is over.
 * Continuing as new carries everything gathered — checks, comparison, window,
 * settings and the audit sequence — so the final result is the whole watch's.
 */
async function watchCanary(ctx: RolloutContext, useCase: string, resolved: ResolvedRetrain, plan: RolloutPlan, state: CanaryWatchState, audit: AuditTrail): Promise<RetrainResult> {
  publish(useCase, 'canary', 'running');
  const { canary } = resolved.settings;
  const watchMs = durationToMs(canary.watch);
  const everyMs = Math.min(durationToMs(canary.checkEvery), watchMs);
  const checks: CanaryCheck[] = [...(state.canaryChecks ?? [])];
  let withoutOutcomes = state.checksWithoutOutcomes ?? 0;
  let watched = state.watchedMs;
  let checksThisRun = 0;
  const gathered = () => ({ ...state, watchedMs: watched, canaryChecks: checks, checksWithoutOutcomes: withoutOutcomes });
  while (watched < watchMs) {
    const step = Math.min(everyMs, watchMs - watched);
    await sleep(step);
    watched += step;
    checksThisRun += 1;
    const health = await dataActivities.canaryHealth({
      ctx,
      plan,
      championVersionId: state.champion,
      challengerVersionId: state.challenger,
      share: canary.share,
      liveFrom: state.liveFrom,
      liveTo: addDaysIso(state.liveFrom, canary.liveDays),
      maxAucDrop: canary.maxAucDrop,
    });
    if (health.conclusive === false) {
      withoutOutcomes += 1;
    } else {
      checks.push({ healthy: health.healthy, challengerAuc: health.challengerAuc, championAuc: health.championAuc, users: health.users, converters: health.converters });
      if (!health.healthy) return rollBackCanary(ctx, useCase, gathered(), audit);
    }
    const due = workflowInfo().continueAsNewSuggested || (resolved.continueAsNewAfterChecks !== undefined && checksThisRun >= resolved.continueAsNewAfterChecks);
    if (watched < watchMs && due) {
      await continueAsNew<typeof retrain>({ useCase, resume: { ...gathered(), auditSeq: audit.written(), resolved } });
    }
  }
  if (checks.length === 0 && withoutOutcomes > 0) return endCanaryWithoutOutcomes(ctx, useCase, gathered(), audit);
  const promoted = await dataActivities.promoteVersion({ useCase, versionId: state.challenger, by: ctx.workflowId, reason: 'canary healthy', at: new Date().toISOString() });
  await audit('promote', 'promoted', `${state.challenger} is champion; ${promoted.previous ?? state.champion} is previous`);
  publish(useCase, 'promote', 'promoted');
  return { ...watchResult(useCase, gathered()), outcome: 'promoted', champion: state.challenger, reason: 'challenger beat the champion and its canary stayed healthy' };
}

/** An unhealthy canary: the champion serves again at once, the challenger can never serve, and people are told. */
async function rollBackCanary(ctx: RolloutContext, useCase: string, state: CanaryWatchState, audit: AuditTrail): Promise<RetrainResult> {
  const health = state.canaryChecks!.at(-1)!;
  const reason = `canary unhealthy: challenger AUC ${health.challengerAuc.toFixed(4)} on live outcomes vs champion ${health.championAuc.toFixed(4)} (${health.users} users)`;
  await dataActivities.rollbackServing({ useCase, toVersion: state.champion, by: ctx.workflowId, reason, at: new Date().toISOString() });
  await quickActivities.markModelVersion({ versionId: state.challenger, status: 'failed' });
  await quickActivities.sendAlert({
    id: `canary-${state.challenger}`,
    useCase,
    kind: 'canary-failed',
    severity: 'critical',
    title: `Canary of ${state.challenger} failed; ${state.champion} serves again`,
    details: { ...health },
    at: new Date().toISOString(),
  });
  await audit('canary', 'rolled-back', reason);
  publish(useCase, 'canary', 'rolled-back');
  return { ...watchResult(useCase, state), outcome: 'rolled-back', reason };
}

/** A watch no live outcome reached (the data stopped before it): no evidence, so no promotion; the champion serves alone. */
async function endCanaryWithoutOutcomes(ctx: RolloutContext, useCase: string, state: CanaryWatchState, audit: AuditTrail): Promise<RetrainResult> {
  const reason = `no live outcomes from ${state.liveFrom} reached the canary's ${state.checksWithoutOutcomes} check(s): the challenger is not promoted; load fresh data and retrain`;
  await dataActivities.rollbackServing({ useCase, toVersion: state.champion, by: ctx.workflowId, reason, at: new Date().toISOString() });
  await quickActivities.markModelVersion({ versionId: state.challenger, status: 'rejected' });
  await audit('canary', 'no-live-outcomes', reason);
  publish(useCase, 'canary', 'kept-champion');
  return { ...watchResult(useCase, state), outcome: 'kept-champion', reason };
}

function watchResult(useCase: string, state: CanaryWatchState): Omit<RetrainResult, 'outcome' | 'reason'> {
  return {
    useCase,
    champion: state.champion,
    challenger: state.challenger,
    canaryChecks: state.canaryChecks ?? [],
    checksWithoutOutcomes: state.checksWithoutOutcomes ?? 0,
    ...(state.comparison ? { comparison: state.comparison } : {}),
    ...(state.window ? { window: state.window } : {}),
  };
}
