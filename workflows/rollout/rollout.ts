import {
  ApplicationFailure,
  executeChild,
  log,
  setHandler,
  sleep,
  upsertSearchAttributes,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { ExperimentReadout } from '../../domain/propensity/results';
import type { GuardrailReport } from '../../domain/propensity/results';
import type { RolloutResult } from '../../domain/rollout/result';
import { rolloutTablePrefix, scaledUseCase } from '../../domain/naming';
import { checkPlan, type AnyRolloutPlan, type RolloutPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import type { RolloutState, RolloutStatus, RolloutStep, StepOutcome } from '../../domain/rollout/status';
import { durationToMs } from '../../domain/duration';
import { dataActivities, quickActivities, runDataPath } from '../activity-proxies';
import { ApprovalGate } from './approval-gate';
import { stopOnBlockingGaps } from './blocking-gaps';
import { contentRollout } from '../content/steps';
import { approvalUpdate, STATUS, STEP, statusQuery, USE_CASE } from '../../domain/rollout/definitions';

/**
 * The eight-step rollout of one AI use case. The workflow decides; every
 * effect (SQL, files, schedules) happens in an idempotent activity whose
 * names derive from this workflow's id, so retries and replays converge.
 */
export async function rollout(input: unknown): Promise<RolloutResult> {
  const checked = checkPlan(input);
  if (!checked.ok) {
    throw ApplicationFailure.create({
      type: 'InvalidPlan',
      nonRetryable: true,
      message: `The rollout plan is invalid; fix these fields and start again:\n${checked.problems.map((p) => `  - ${p}`).join('\n')}`,
      details: [{ problems: checked.problems }],
    });
  }
  const plan = checked.plan;
  const info = workflowInfo();
  const ctx: RolloutContext = {
    workflowId: info.workflowId,
    useCase: plan.useCase,
    tablePrefix: rolloutTablePrefix(plan.useCase, info.workflowId),
  };
  const tracker = new RolloutTracker(plan);
  const gates = new ApprovalGate((waitingFor) => tracker.setState(waitingFor ? 'waiting-approval' : 'running', waitingFor));
  setHandler(statusQuery, () => tracker.status());
  setHandler(approvalUpdate, (decision) => gates.decide(decision), { validator: (decision) => gates.validate(decision) });
  upsertMemo({ summary: `Rollout of ${plan.useCase}: ${plan.kpi.metric} ${pct(plan.kpi.targetChange)} in ${plan.kpi.channel}/${plan.kpi.market}` });

  const audit = (step: RolloutStep | 'rollout', decision: string, reason: string, actor = 'aimo', details: Record<string, unknown> = {}) =>
    quickActivities.recordAudit({ ctx, seq: tracker.nextAuditSeq(), step, decision, actor, reason, details, at: new Date().toISOString() });

  const result: RolloutResult = { useCase: plan.useCase, workflowId: ctx.workflowId, plan, status: 'running', steps: [] };
  const finish = async (state: RolloutState, failure?: string): Promise<RolloutResult> => {
    tracker.setState(state);
    result.status = state;
    result.steps = tracker.status().steps;
    if (failure) result.failure = failure;
    const written = await quickActivities.writeRolloutReport(result);
    result.reportPath = written.markdownPath;
    return result;
  };

  try {
    await audit('rollout', 'started', `rollout of ${plan.useCase} started`, plan.owner ?? 'aimo');
    if (plan.kind === 'content') return await contentRollout({ plan, ctx, result, tracker, gates, audit, finish });

    // 1 KPI definition — the baseline is measured, never typed in.
    tracker.begin('kpi');
    const kpi = await dataActivities.measureKpiBaseline({ ctx, plan });
    result.kpi = kpi;
    tracker.done('kpi', kpi.baseline === null ? 'failed' : 'passed', `${plan.kpi.metric} baseline ${fmt(kpi.baseline)} → target ${fmt(kpi.target)}`, {
      baseline: kpi.baseline,
      target: kpi.target,
    });

    // 2 Data inventory — blocking gaps stop here with a readable report.
    tracker.begin('inventory');
    const inventory = await dataActivities.inventorySources({ ctx, plan });
    result.inventory = inventory;
    if (inventory.blocking.length > 0) await stopOnBlockingGaps({ tracker, audit, finish }, inventory);
    tracker.done('inventory', 'passed', `${inventory.sources.length} sources, ${inventory.warnings.length} warning(s)`, {
      consentCoverage: inventory.consentCoverage,
      identityMatchRate: inventory.identityMatchRate,
      warnings: inventory.warnings.length,
    });

    // 3 Data path — the DAG, level by level; models within a level run in parallel.
    tracker.begin('data-path');
    const models = await runDataPath(ctx, plan);
    const failedExpectations = models.flatMap((m) => m.expectations.filter((e) => !e.success).map((e) => `${m.model}: ${e.name}`));
    result.dataPath = { models, failedExpectations };
    tracker.done('data-path', failedExpectations.length ? 'failed' : 'passed', `${models.length} models, ${failedExpectations.length} failed expectation(s)`, {
      models: models.length,
      featureRows: models.find((m) => m.model === 'features')?.rows ?? 0,
      failedExpectations: failedExpectations.length,
    });

    // 4 Baseline model — trained where the data lives, registered with lineage.
    tracker.begin('baseline-model');
    const model = await dataActivities.trainBaselineModel({ ctx, plan, registeredAt: new Date().toISOString() });
    result.model = model;
    tracker.done('baseline-model', 'passed', `model ${model.versionId}: AUC ${fmt(model.metrics.auc)}`, {
      version: model.versionId,
      auc: model.metrics.auc,
      logLoss: model.metrics.logLoss,
      brier: model.metrics.brier,
    });

    // 5 Guardrails — fail closed; stop or ask a person, as the plan says.
    tracker.begin('guardrails');
    const guardrails: GuardrailReport = await dataActivities.evaluateGuardrails({ ctx, plan, dataPath: models, model });
    result.guardrails = guardrails;
    const failedChecks = guardrails.checks.filter((c) => !c.passed);
    tracker.done('guardrails', guardrails.passed ? 'passed' : 'failed', guardrails.passed ? `${guardrails.checks.length} checks passed` : `failed: ${failedChecks.map((c) => c.name).join(', ')}`, {
      checks: guardrails.checks.length,
      failed: failedChecks.length,
    });
    await audit('guardrails', guardrails.passed ? 'passed' : 'failed', failedChecks.map((c) => `${c.name}: ${c.detail}`).join('; ') || 'all checks passed');
    if (!guardrails.passed) {
      if (plan.guardrails.onFailure === 'stop') {
        return await finish('failed', `Guardrails failed: ${failedChecks.map((c) => `${c.name} (${c.detail})`).join('; ')}`);
      }
      const decision = await gates.wait('guardrails', durationToMs(plan.approval.timeout), plan.approval.onTimeout);
      await audit('guardrails', decision.decision, decision.reason, decision.by);
      if (decision.decision === 'reject') return await finish('rejected', `Rejected at the guardrail gate by ${decision.by}: ${decision.reason}`);
    }

    // 6 Experiment — deterministic assignment, durable wait, SRM, effect with CI.
    if (plan.approval.beforeExperiment) {
      const decision = await gates.wait('experiment', durationToMs(plan.approval.timeout), plan.approval.onTimeout);
      await audit('experiment', decision.decision, decision.reason, decision.by);
      if (decision.decision === 'reject') return await finish('rejected', `Rejected before the experiment by ${decision.by}: ${decision.reason}`);
    }
    tracker.begin('experiment');
    const experimentStart = plan.experiment.startDate ?? new Date().toISOString().slice(0, 10);
    const assignment = await dataActivities.assignExperiment({ ctx, plan, model, startDate: experimentStart });
    await audit('experiment', 'started', `${assignment.treatment} treated, ${assignment.control} control; activation list ${assignment.activationTable}`);
    if (plan.experiment.outcomeSource === 'simulator') {
      await dataActivities.simulateExperimentOutcomes({ ctx, plan, assignment });
    }
    const readout: ExperimentReadout = await runExperimentWindow(plan, async () =>
      dataActivities.checkExperimentHealth({ ctx, plan, assignment }),
    ).then(() => dataActivities.readExperiment({ ctx, plan, assignment }));
    result.experiment = readout;
    tracker.done('experiment', readout.ship ? 'passed' : 'failed', readout.summary, {
      uplift: readout.effect.absolute,
      ciLow: readout.effect.ciLow,
      ciHigh: readout.effect.ciHigh,
      srmPValue: readout.srm.pValue,
      ship: readout.ship,
    });
    await audit('experiment', readout.ship ? 'ship' : 'no-ship', readout.summary);
    if (!readout.ship) return await finish('completed');

    // 7 Automation — schedules for retrain and drift, alert routes, champion.
    tracker.begin('automation');
    const automation = await quickActivities.applyAutomation({ ctx, plan, model, at: new Date().toISOString() });
    result.automation = automation;
    tracker.done('automation', 'passed', `schedules: ${automation.schedules.map((s) => `${s.scheduleId} ${s.outcome}`).join(', ')}`, {
      schedules: automation.schedules.length,
      alertRoutes: automation.alertRoutes,
    });
    await audit('automation', 'promoted', `model ${model.versionId} is champion; schedules applied`);

    // 8 Scale — one child rollout per target, bounded concurrency.
    tracker.begin('scale');
    const children = await scaleOut(plan, ctx.workflowId);
    result.scale = children;
    const succeeded = children.filter((c) => c.status === 'completed').length;
    tracker.done('scale', plan.scale.targets.length === 0 ? 'skipped' : 'passed', `${succeeded}/${children.length} child rollouts completed`, {
      targets: children.length,
      completed: succeeded,
    });
    await audit('rollout', 'completed', `rollout of ${plan.useCase} completed`);
    return await finish('completed');
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === 'BlockingDataGap') throw err;
    const message = err instanceof Error ? err.message : String(err);
    log.error('rollout failed', { step: tracker.status().currentStep, error: message });
    await finish('failed', message);
    throw err;
  }
}

/** The experiment's durable wait: sleeps on the plan's cadence, checking health each time. */
async function runExperimentWindow(plan: RolloutPlan, check: () => Promise<{ srmFlagged: boolean }>): Promise<void> {
  const total = durationToMs(plan.experiment.duration);
  const every = Math.min(durationToMs(plan.experiment.checkEvery), total);
  let waited = 0;
  while (waited < total) {
    const step = Math.min(every, total - waited);
    await sleep(step);
    waited += step;
    const health = await check();
    if (health.srmFlagged) log.warn('sample ratio mismatch at an interim check', { waitedMs: waited });
  }
}

async function scaleOut(plan: RolloutPlan, parentId: string): Promise<NonNullable<RolloutResult['scale']>> {
  const pending = plan.scale.targets.map((target, index) => ({ target, index }));
  const outcomes: NonNullable<RolloutResult['scale']> = [];
  const runOne = async (): Promise<void> => {
    for (let next = pending.shift(); next; next = pending.shift()) {
      const channel = next.target.channel ?? plan.kpi.channel;
      const market = next.target.market ?? plan.kpi.market;
      const childPlan: RolloutPlan = { ...plan, useCase: scaledUseCase(plan.useCase, channel, market), kpi: { ...plan.kpi, channel, market }, scale: { ...plan.scale, targets: [] } };
      const workflowId = `${parentId}-scale-${channel}-${market}`.toLowerCase();
      try {
        const child = await executeChild(rollout, { workflowId, args: [childPlan] });
        outcomes.push({ channel, market, workflowId, status: child.status, summary: child.experiment?.summary ?? child.failure ?? '' });
      } catch (err) {
        outcomes.push({ channel, market, workflowId, status: 'failed', summary: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.scale.maxConcurrent, pending.length) }, runOne));
  return outcomes.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
}

class RolloutTracker {
  private state: RolloutState = 'running';
  private current: RolloutStep | 'done' = 'kpi';
  private waitingFor: string | undefined;
  private readonly steps: StepOutcome[] = [];
  private auditSeq = 0;

  constructor(private readonly plan: AnyRolloutPlan) {
    this.publish();
  }

  begin(step: RolloutStep): void {
    this.current = step;
    this.publish();
  }

  done(step: RolloutStep, status: StepOutcome['status'], summary: string, numbers: StepOutcome['numbers']): void {
    this.steps.push({ step, status, summary, numbers, finishedAt: new Date().toISOString() });
    log.info(`step ${step} ${status}: ${summary}`, { step });
  }

  setState(state: RolloutState, waitingFor?: string): void {
    this.state = state;
    this.waitingFor = waitingFor;
    if (state === 'completed') this.current = 'done';
    this.publish();
  }

  nextAuditSeq(): number {
    return ++this.auditSeq;
  }

  status(): RolloutStatus {
    return {
      useCase: this.plan.useCase,
      state: this.state,
      currentStep: this.current,
      ...(this.waitingFor ? { waitingFor: this.waitingFor } : {}),
      steps: [...this.steps],
    };
  }

  private publish(): void {
    upsertSearchAttributes([
      { key: USE_CASE, value: this.plan.useCase },
      { key: STEP, value: this.current },
      { key: STATUS, value: this.state },
    ]);
  }
}

function fmt(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : Number(value.toPrecision(4)).toString();
}

function pct(change: number): string {
  return `${change > 0 ? '+' : ''}${Math.round(change * 1000) / 10} %`;
}
