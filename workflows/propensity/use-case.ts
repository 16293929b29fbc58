import { log, sleep } from '@temporalio/workflow';
import { durationToMs } from '../../domain/duration';
import { checkPlan, isPropensityPlan, type RolloutPlan } from '../../domain/plan';
import type { ModelRun, ModelVersion } from '../../domain/propensity/results';
import { registerUseCase, type StepReport, type StepRun } from '../../domain/rollout/contract';
import { formatNumber as fmt } from '../../domain/rollout/format';
import { dataActivities, quickActivities } from '../activity-proxies';
import { stopOnBlockingGaps } from '../rollout/blocking-gaps';
import { runDataPath } from './data-path';
import { scaleOut } from './scale';
import { formatTable } from '../../domain/table-ref';

/** What the steps of one propensity rollout hand on to the next. */
interface PropensityState {
  models: ModelRun[];
  model?: ModelVersion;
}

type Run = StepRun<RolloutPlan>;

function trained(state: PropensityState): ModelVersion {
  if (!state.model) throw new Error('the baseline model step has not run');
  return state.model;
}

/** 1 KPI definition — the baseline is measured from data, never typed in. */
async function kpi(run: Run): Promise<StepReport> {
  const kpi = await dataActivities.measureKpiBaseline({ ctx: run.ctx, plan: run.plan });
  run.result.kpi = kpi;
  return {
    status: kpi.baseline === null ? 'failed' : 'passed',
    summary: `${run.plan.kpi.metric} baseline ${fmt(kpi.baseline)} → target ${fmt(kpi.target)}`,
    numbers: { baseline: kpi.baseline, target: kpi.target },
  };
}

/** 2 Data inventory — blocking gaps end the rollout with a readable report. */
async function inventory(run: Run): Promise<StepReport> {
  const inventory = await dataActivities.inventorySources({ ctx: run.ctx, plan: run.plan });
  run.result.inventory = inventory;
  if (inventory.blocking.length > 0) return stopOnBlockingGaps(run, inventory);
  return {
    status: 'passed',
    summary: `${inventory.sources.length} sources, ${inventory.warnings.length} warning(s)`,
    numbers: { consentCoverage: inventory.consentCoverage, identityMatchRate: inventory.identityMatchRate, warnings: inventory.warnings.length },
  };
}

/** 3 Data path — the DAG of SQL models, level by level. */
async function dataPath(run: Run, state: PropensityState): Promise<StepReport> {
  state.models = await runDataPath(run.ctx, run.plan);
  const failedExpectations = state.models.flatMap((m) => m.expectations.filter((e) => !e.success).map((e) => `${m.model}: ${e.name}`));
  run.result.dataPath = { models: state.models, failedExpectations };
  return {
    status: failedExpectations.length ? 'failed' : 'passed',
    summary: `${state.models.length} models, ${failedExpectations.length} failed expectation(s)`,
    numbers: { models: state.models.length, featureRows: state.models.find((m) => m.model === 'features')?.rows ?? 0, failedExpectations: failedExpectations.length },
  };
}

/** 4 Baseline model — trained where the data lives, registered with lineage. */
async function baselineModel(run: Run, state: PropensityState): Promise<StepReport> {
  const model = await dataActivities.trainBaselineModel({ ctx: run.ctx, plan: run.plan, registeredAt: new Date().toISOString() });
  state.model = model;
  run.result.model = model;
  return {
    status: 'passed',
    summary: `model ${model.versionId}: AUC ${fmt(model.metrics.auc)}`,
    numbers: { version: model.versionId, auc: model.metrics.auc, logLoss: model.metrics.logLoss, brier: model.metrics.brier },
  };
}

/** 5 Guardrails — fail closed; stop or ask a person, as the plan says. */
async function guardrails(run: Run, state: PropensityState): Promise<StepReport> {
  const report = await dataActivities.evaluateGuardrails({ ctx: run.ctx, plan: run.plan, dataPath: state.models, model: trained(state) });
  run.result.guardrails = report;
  const failed = report.checks.filter((c) => !c.passed);
  const outcome: StepReport = {
    status: report.passed ? 'passed' : 'failed',
    summary: report.passed ? `${report.checks.length} checks passed` : `failed: ${failed.map((c) => c.name).join(', ')}`,
    numbers: { checks: report.checks.length, failed: failed.length },
  };
  await run.audit('guardrails', report.passed ? 'passed' : 'failed', failed.map((c) => `${c.name}: ${c.detail}`).join('; ') || 'all checks passed');
  if (report.passed) return outcome;
  if (run.plan.guardrails.onFailure === 'stop') {
    return { ...outcome, end: { state: 'failed', failure: `Guardrails failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}` } };
  }
  const decision = await run.approval('guardrails');
  await run.audit('guardrails', decision.decision, decision.reason, decision.by);
  if (decision.decision === 'reject') return { ...outcome, end: { state: 'rejected', failure: `Rejected at the guardrail gate by ${decision.by}: ${decision.reason}` } };
  return outcome;
}

/** 6 Experiment — deterministic assignment, durable wait with interim health checks, effect with its CI. */
async function experiment(run: Run, state: PropensityState): Promise<StepReport> {
  const { ctx, plan } = run;
  const startDate = plan.experiment.startDate ?? new Date().toISOString().slice(0, 10);
  const assignment = await dataActivities.assignExperiment({ ctx, plan, model: trained(state), startDate });
  await run.audit('experiment', 'started', `${assignment.treatment} treated, ${assignment.control} control; activation list ${formatTable(assignment.activationTable)}`);
  if (plan.experiment.outcomeSource === 'simulator') await dataActivities.simulateExperimentOutcomes({ ctx, plan, assignment });
  await waitForOutcomes(plan, () => dataActivities.checkExperimentHealth({ ctx, plan, assignment }));
  const readout = await dataActivities.readExperiment({ ctx, plan, assignment });
  run.result.experiment = readout;
  await run.audit('experiment', readout.ship ? 'ship' : 'no-ship', readout.summary);
  return {
    status: readout.ship ? 'passed' : 'failed',
    summary: readout.summary,
    numbers: { uplift: readout.effect.absolute, ciLow: readout.effect.ciLow, ciHigh: readout.effect.ciHigh, srmPValue: readout.srm.pValue, ship: readout.ship },
    // A test that does not ship ends the rollout as completed: the answer is in.
    ...(readout.ship ? {} : { end: { state: 'completed' } }),
  };
}

/** The experiment's durable wait: sleeps on the plan's cadence, checking health each time. */
async function waitForOutcomes(plan: RolloutPlan, check: () => Promise<{ srmFlagged: boolean }>): Promise<void> {
  const total = durationToMs(plan.experiment.duration);
  const every = Math.min(durationToMs(plan.experiment.checkEvery), total);
  for (let waited = 0; waited < total; ) {
    const step = Math.min(every, total - waited);
    await sleep(step);
    waited += step;
    const health = await check();
    if (health.srmFlagged) log.warn('sample ratio mismatch at an interim check', { waitedMs: waited });
  }
}

/** 7 Automation — the model becomes champion; retrain and drift schedules, alert routes. */
async function automation(run: Run, state: PropensityState): Promise<StepReport> {
  const model = trained(state);
  const automation = await quickActivities.applyAutomation({ ctx: run.ctx, plan: run.plan, model, at: new Date().toISOString() });
  run.result.automation = automation;
  await run.audit('automation', 'promoted', `model ${model.versionId} is champion; schedules applied`);
  return {
    status: 'passed',
    summary: `schedules: ${automation.schedules.map((s) => `${s.scheduleId} ${s.outcome}`).join(', ')}`,
    numbers: { schedules: automation.schedules.length, alertRoutes: automation.alertRoutes },
  };
}

/** 8 Scale — one child rollout per target, bounded concurrency. */
async function scale(run: Run): Promise<StepReport> {
  const children = await scaleOut(run.plan, run.ctx.workflowId);
  run.result.scale = children;
  const completed = children.filter((c) => c.status === 'completed').length;
  return {
    status: run.plan.scale.targets.length === 0 ? 'skipped' : 'passed',
    summary: `${completed}/${children.length} child rollouts completed`,
    numbers: { targets: children.length, completed },
  };
}

/** The propensity use case: a conversion-propensity model, tested in an A/B experiment, then automated and scaled. */
export const propensityUseCase = registerUseCase<RolloutPlan, PropensityState>({
  kind: 'propensity',
  checkPlan(input) {
    const checked = checkPlan(input);
    if (!checked.ok) return checked;
    return isPropensityPlan(checked.plan) ? { ok: true, plan: checked.plan } : { ok: false, problems: ['kind: this is not a propensity plan'] };
  },
  initialState: () => ({ models: [] }),
  steps: { kpi, inventory, 'data-path': dataPath, 'baseline-model': baselineModel, guardrails, experiment, automation, scale },
});
