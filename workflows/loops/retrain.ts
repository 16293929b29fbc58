import type { RetrainResult } from '../../domain/loops/results';
import { continueAsNew, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { addDaysIso } from '../../domain/dates';
import { durationToMs } from '../../domain/duration';
import { retrainInputSchema, retrainSettings, type RetrainRequest } from '../../domain/loops/inputs';
import type { RetrainSettings, RolloutPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import { dataActivities, quickActivities } from '../activity-proxies';
import { runDataPath } from '../propensity/data-path';
import { ApprovalGate } from '../rollout/approval-gate';
import { approvalUpdate } from '../../domain/rollout/definitions';
import { auditTrail, loopContext, parseInput, publish } from './support';



/**
 * The retrain loop: a fresh training window → data-quality gate → a
 * challenger → compared with the champion on the same holdout → canary for a
 * watch period, health-checked on live outcomes → promoted in one blue/green
 * switch, or rolled back on its own. A long watch continues as new, so the
 * history stays small however long it runs.
 */
export async function retrain(input: unknown): Promise<RetrainResult> {
  const request = parseInput(retrainInputSchema, input, 'retrain');
  const ctx = loopContext(request.useCase);
  const audit = auditTrail(ctx);
  const gate = new ApprovalGate((waitingFor) => publish(request.useCase, 'retrain', waitingFor ? 'waiting-approval' : 'running'));
  setHandler(approvalUpdate, (d) => gate.decide(d), { validator: (d) => gate.validate(d) });

  const champion = await quickActivities.loadChampion({ useCase: request.useCase });
  const plan: RolloutPlan = {
    ...champion.plan,
    windows: { ...champion.plan.windows, asOf: request.asOf ?? addDaysIso(new Date().toISOString().slice(0, 10), -champion.plan.windows.labelDays) },
  };
  const settings = retrainSettings(champion.plan.automation.retrain, request);
  if (request.resume) return watchCanary(request, settings, ctx, plan, request.resume, audit);

  publish(request.useCase, 'train', 'running', `Retrain of ${request.useCase}: ${request.reason}`);
  const base = { useCase: request.useCase, champion: champion.versionId, canaryChecks: [] };

  const models = await runDataPath(ctx, plan);
  const failed = models.flatMap((m) => m.expectations.filter((e) => !e.success).map((e) => `${m.model}.${e.name}`));
  if (failed.length > 0) {
    await audit('data-quality', 'stopped', `failed expectations: ${failed.join(', ')}`);
    publish(request.useCase, 'data-quality', 'failed');
    return { ...base, outcome: 'data-quality-failed', reason: `failed expectations: ${failed.join(', ')}` };
  }

  const challenger = await dataActivities.trainBaselineModel({ ctx, plan, registeredAt: new Date().toISOString() });
  await quickActivities.setModelAlias({ useCase: request.useCase, alias: 'challenger', versionId: challenger.versionId, by: ctx.workflowId, reason: request.reason, at: new Date().toISOString() });
  const comparison = await dataActivities.compareWithChampion({ challenger, championVersionId: champion.versionId });
  const guardrails = await dataActivities.evaluateGuardrails({ ctx, plan, dataPath: models, model: challenger });
  const better = comparison.challengerAuc >= comparison.championAuc + settings.promotionMargin;
  const withChallenger = { ...base, challenger: challenger.versionId, comparison };
  if (!better || !guardrails.passed) {
    const why = !better
      ? `challenger AUC ${comparison.challengerAuc.toFixed(4)} does not beat champion ${comparison.championAuc.toFixed(4)} by ${settings.promotionMargin}`
      : `guardrails failed: ${guardrails.checks.filter((c) => !c.passed).map((c) => c.name).join(', ')}`;
    await quickActivities.markModelVersion({ versionId: challenger.versionId, status: 'rejected' });
    await audit('compare', 'kept-champion', why);
    publish(request.useCase, 'compare', 'kept-champion');
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

  await quickActivities.startCanaryServing({ useCase: request.useCase, championVersionId: champion.versionId, challengerVersionId: challenger.versionId, share: settings.canary.share });
  await audit('canary', 'started', `${Math.round(settings.canary.share * 100)} % of users served by ${challenger.versionId}`);
  const liveFrom = addDaysIso(plan.windows.asOf, plan.windows.labelDays);
  const result = await watchCanary(request, settings, ctx, plan, { challenger: challenger.versionId, champion: champion.versionId, liveFrom, watchedMs: 0 }, audit);
  return { ...result, comparison };
}

async function watchCanary(
  request: RetrainRequest,
  settings: RetrainSettings,
  ctx: RolloutContext,
  plan: RolloutPlan,
  state: NonNullable<RetrainRequest['resume']>,
  audit: ReturnType<typeof auditTrail>,
): Promise<RetrainResult> {
  publish(request.useCase, 'canary', 'running');
  const watchMs = durationToMs(settings.canary.watch);
  const everyMs = Math.min(durationToMs(settings.canary.checkEvery), watchMs);
  const checks: RetrainResult['canaryChecks'] = [];
  let watched = state.watchedMs;
  while (watched < watchMs) {
    const step = Math.min(everyMs, watchMs - watched);
    await sleep(step);
    watched += step;
    const health = await dataActivities.canaryHealth({
      ctx,
      plan,
      championVersionId: state.champion,
      challengerVersionId: state.challenger,
      share: settings.canary.share,
      liveFrom: state.liveFrom,
      liveTo: addDaysIso(state.liveFrom, settings.canary.liveDays),
      maxAucDrop: settings.canary.maxAucDrop,
    });
    checks.push(health);
    if (!health.healthy) {
      const reason = `canary unhealthy: challenger AUC ${health.challengerAuc.toFixed(4)} on live outcomes vs champion ${health.championAuc.toFixed(4)} (${health.users} users)`;
      await dataActivities.rollbackServing({ useCase: request.useCase, toVersion: state.champion, by: ctx.workflowId, reason, at: new Date().toISOString() });
      await quickActivities.markModelVersion({ versionId: state.challenger, status: 'failed' });
      await quickActivities.sendAlert({
        id: `canary-${state.challenger}`,
        useCase: request.useCase,
        kind: 'canary-failed',
        severity: 'critical',
        title: `Canary of ${state.challenger} failed; ${state.champion} serves again`,
        details: { ...health },
        at: new Date().toISOString(),
      });
      await audit('canary', 'rolled-back', reason);
      publish(request.useCase, 'canary', 'rolled-back');
      return { useCase: request.useCase, outcome: 'rolled-back', champion: state.champion, challenger: state.challenger, canaryChecks: checks, reason };
    }
    if (watched < watchMs && workflowInfo().continueAsNewSuggested) {
      // The settings travel with the run, so a plan edited mid-watch does not change this canary.
      await continueAsNew<typeof retrain>({ ...request, ...settings, resume: { ...state, watchedMs: watched } });
    }
  }
  const promoted = await dataActivities.promoteVersion({ useCase: request.useCase, versionId: state.challenger, by: ctx.workflowId, reason: 'canary healthy', at: new Date().toISOString() });
  await audit('promote', 'promoted', `${state.challenger} is champion; ${promoted.previous ?? state.champion} is previous`);
  publish(request.useCase, 'promote', 'promoted');
  return { useCase: request.useCase, outcome: 'promoted', champion: state.challenger, challenger: state.challenger, canaryChecks: checks, reason: 'challenger beat the champion and its canary stayed healthy' };
}
